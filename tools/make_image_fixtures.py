#!/usr/bin/python3
"""Builds the image-classifier fixture and its PyTorch goldens.

Writes testdata/handlers/models/classifier/ (a small ResNet-style TorchScript model with
random weights from a fixed seed, its config.yaml and a TorchServe index_to_name.json)
and, for every image in testdata/images/, testdata/handlers/golden/<image>.f32.gz (the
input tensor torchvision makes: Resize(256), CenterCrop(224), ToTensor(), Normalize with
ImageNet mean/std, float32 little-endian [3, 224, 224], gzip) and top5.json (the model's
softmax top-5 for that tensor). The reference is Debian's python3-torchvision and
python3-pil; run with /usr/bin/python3 from the repository root.
"""
import gzip
import json
import os
import pathlib
import sys

if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable, *sys.argv])

import torch
from PIL import Image
from torch import Tensor, nn
from torchvision import transforms as T

ROOT = pathlib.Path(__file__).resolve().parent.parent
IMAGES = ROOT / "testdata" / "images"
MODEL_DIR = ROOT / "testdata" / "handlers" / "models" / "classifier"
GOLDEN = ROOT / "testdata" / "handlers" / "golden"
CLASSES = 20
SEED = 8
# Spreads the logits so that neighbouring top-5 classes differ by far more than decoders do.
LOGIT_SCALE = 40.0

TRANSFORM = T.Compose([
    T.Resize(256),
    T.CenterCrop(224),
    T.ToTensor(),
    T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
])


class Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: Tensor) -> Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + self.shortcut(x))


class TinyResNet(nn.Module):
    """ResNet's shape (stem, residual blocks, global pooling, linear) at a size that runs in milliseconds."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 7, 4, 3, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                                  nn.MaxPool2d(3, 2, 1))
        self.layer1 = Block(16, 16, 1)
        self.layer2 = Block(16, 32, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, CLASSES)

    def forward(self, image: Tensor) -> Tensor:
        x = self.layer2(self.layer1(self.stem(image)))
        return self.fc(torch.flatten(self.pool(x), 1))


def build() -> nn.Module:
    torch.manual_seed(SEED)
    model = TinyResNet()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
        model.fc.weight.mul_(LOGIT_SCALE)
    return model.eval()


def main() -> None:
    MODEL_DIR.joinpath("1").mkdir(parents=True, exist_ok=True)
    GOLDEN.mkdir(parents=True, exist_ok=True)
    scripted = torch.jit.script(build())
    scripted.save(str(MODEL_DIR / "1" / "model.pt"))
    model = torch.jit.load(str(MODEL_DIR / "1" / "model.pt")).eval()
    (MODEL_DIR / "config.yaml").write_text(
        "name: classifier\nplatform: torchscript\nmax_batch_size: 8\n"
        "inputs:\n  - name: image\n    datatype: FP32\n    shape: [3, 224, 224]\n"
        "outputs:\n  - name: logits\n    datatype: FP32\n    shape: [%d]\n"
        "dynamic_batching:\n  max_queue_delay_us: 2000\n"
        "handler: image_classifier\n" % CLASSES)
    names = {str(i): ["c%04d" % i, "class_%d" % i] for i in range(CLASSES)}
    (MODEL_DIR / "index_to_name.json").write_text(json.dumps(names, indent=1) + "\n")
    top5 = {}
    for path in sorted(IMAGES.iterdir()):
        if path.suffix not in (".jpg", ".png") or path.name == "truncated.jpg":
            continue
        tensor = TRANSFORM(Image.open(path).convert("RGB"))
        assert tensor.shape == (3, 224, 224) and tensor.dtype == torch.float32
        with gzip.GzipFile(GOLDEN / (path.name + ".f32.gz"), "wb", mtime=0) as f:
            f.write(tensor.numpy().astype("<f4").tobytes())
        with torch.no_grad():
            logits = model(tensor.unsqueeze(0))[0]
        probs = torch.softmax(logits, 0)
        order = torch.argsort(logits, descending=True)
        gaps = [(logits[order[i]] - logits[order[i + 1]]).item() for i in range(5)]
        top5[path.name] = {
            "indices": order[:5].tolist(),
            "labels": ["class_%d" % i for i in order[:5].tolist()],
            "probabilities": [probs[i].item() for i in order[:5].tolist()],
            "min_logit_gap": min(gaps),
        }
        print(path.name, top5[path.name]["labels"], "min logit gap %.3f" % min(gaps))
    (GOLDEN / "top5.json").write_text(json.dumps(top5, indent=1) + "\n")


if __name__ == "__main__":
    main()
