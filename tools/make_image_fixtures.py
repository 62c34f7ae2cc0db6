#!/usr/bin/env python3
"""Builds the image-classifier fixture and its PyTorch goldens.

Writes testdata/handlers/models/classifier/ (a small ResNet-style TorchScript model with
random weights from a fixed seed, its config.yaml and a TorchServe index_to_name.json)
and, for every image in testdata/images/, testdata/handlers/golden/<image>.f32.gz (the
input tensor torchvision makes: Resize(256), CenterCrop(224), ToTensor(), Normalize with
ImageNet mean/std, float32 little-endian [3, 224, 224], gzip) and top5.json (the model's
softmax top-5 for that tensor).

The reference is Pillow with torchvision's PIL code path reproduced below (torchvision
cannot be installed beside the CPU torch wheel, see tools/python-env.sh); the model runs on
PyTorch 2.13. Run with the project's Python from any directory:
"$(tools/python-env.sh)" tools/make_image_fixtures.py
"""
import gzip
import json
import os
import pathlib
import sys
import warnings

if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable, *sys.argv])

import numpy as np
import torch
from PIL import Image
from torch import Tensor, nn

# PyTorch's own deprecation notices (TorchScript) are not ours to fix.
warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=FutureWarning)

ROOT = pathlib.Path(__file__).resolve().parent.parent
IMAGES = ROOT / "testdata" / "images"
MODEL_DIR = ROOT / "testdata" / "handlers" / "models" / "classifier"
GOLDEN = ROOT / "testdata" / "handlers" / "golden"
CLASSES = 20
SEED = 8
# Spreads the logits so that neighbouring top-5 classes differ by far more than decoders do.
LOGIT_SCALE = 40.0
RESIZE = 256
CROP = 224
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


# torchvision's Resize(256), CenterCrop(224), ToTensor() and Normalize(MEAN, STD) as they
# act on a PIL image (torchvision/transforms/functional.py and functional_pil.py); Pillow
# does the resampling there too, so these are the same operations, not an approximation.
def resize(img: Image.Image, size: int) -> Image.Image:
    """The shorter side becomes size, the longer int(size * long / short) (truncated)."""
    w, h = img.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    if (w, h) == (new_w, new_h):
        return img  # torchvision returns the image itself, unresampled
    # Pillow's bilinear filter widens with the scale factor when shrinking (antialiasing).
    return img.resize((new_w, new_h), Image.Resampling.BILINEAR)


def center_crop(img: Image.Image, size: int) -> Image.Image:
    """Offsets round half to even (Python's round), as torchvision's center_crop."""
    w, h = img.size
    assert w >= size and h >= size, "torchvision would pad; no fixture image needs it"
    top = int(round((h - size) / 2.0))
    left = int(round((w - size) / 2.0))
    return img.crop((left, top, left + size, top + size))


def to_tensor(img: Image.Image) -> Tensor:
    """8-bit HWC samples to float32 CHW divided by 255 (float32 division, as ToTensor)."""
    assert img.mode == "RGB"
    array = np.array(img, np.uint8, copy=True)
    return torch.from_numpy(array).permute(2, 0, 1).contiguous().to(torch.float32).div(255)


def normalize(tensor: Tensor) -> Tensor:
    """(x - mean) / std with float32 mean and std, as Normalize."""
    mean = torch.as_tensor(MEAN, dtype=tensor.dtype).view(-1, 1, 1)
    std = torch.as_tensor(STD, dtype=tensor.dtype).view(-1, 1, 1)
    return tensor.sub(mean).div(std)


def transform(img: Image.Image) -> Tensor:
    return normalize(to_tensor(center_crop(resize(img, RESIZE), CROP)))


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
        tensor = transform(Image.open(path).convert("RGB"))
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
