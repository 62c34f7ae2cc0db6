#!/usr/bin/env python3
"""Writes the benchmark model repository (default bench/models/) used by bench/run.sh.

  risk      MLP 256 -> 1024 -> ReLU -> 1024 -> ReLU -> 2, FP32, max_batch_size 64
  resnet50  ResNet-50 (torchvision's architecture, module for module), random weights,
            traced at 1x3x224x224, max_batch_size 32
  mlp       a copy of the bundled demo model (models/mlp)
  risk_batched, resnet50_batched
            the same model files with dynamic batching on, so one server run compares
            batching on and off
  risk_unfrozen, resnet50_unfrozen
            the same model files with freeze: false (TorchScript as saved)
  risk_aoti, resnet50_aoti
            the same models (same weights) as AOTInductor packages (model.pt2) for this machine's CPU,
            with a dynamic batch dimension up to max_batch_size

Run with the project's Python environment: "$(tools/python-env.sh)" tools/make_bench_models.py
(PyTorch alone: the ResNet-50 is defined here, so torchvision is not needed). Nothing is
downloaded: every weight is random from a fixed seed. A model whose files exist is left alone
unless --force is given.
"""

import argparse
import os
import pathlib
import shutil
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

RISK_CONFIG = """\
name: risk
platform: torchscript
max_batch_size: 64
inputs:
  - name: input
    datatype: FP32
    shape: [256]
outputs:
  - name: output
    datatype: FP32
    shape: [2]
"""

RESNET50_CONFIG = """\
name: resnet50
platform: torchscript
max_batch_size: 32
inputs:
  - name: image
    datatype: FP32
    shape: [3, 224, 224]
outputs:
  - name: logits
    datatype: FP32
    shape: [1000]
"""


# Batching settings of the *_batched twins, appended to the base config. Risk: a batch of 64
# rows takes 1-2 ms, so 2 ms is a fair wait for company, and the preferred sizes send a batch
# as soon as it is worth it; one intra-op thread leaves the other core of a 2-core machine to
# HTTP and JSON (measured: 2 threads there halve the throughput). ResNet-50: batches of 4 and 8
# are the raw engine's best on a 2-core CPU (4 slightly ahead), so 4 goes as soon as four images
# wait and 8 when the queue holds them; 5 ms is small next to a 30 ms image.
RISK_BATCHING = """\
dynamic_batching:
  max_queue_delay_us: 2000
  preferred_batch_sizes: [16, 32, 64]
intra_op_threads: 1
"""

RESNET50_BATCHING = """\
dynamic_batching:
  max_queue_delay_us: 5000
  preferred_batch_sizes: [4, 8]
"""


def make_risk(torch):
    return torch.jit.script(risk_module(torch))


def risk_module(torch):
    torch.manual_seed(1)
    return torch.nn.Sequential(
        torch.nn.Linear(256, 1024),
        torch.nn.ReLU(),
        torch.nn.Linear(1024, 1024),
        torch.nn.ReLU(),
        torch.nn.Linear(1024, 2),
    ).eval()


def resnet50(torch):
    """ResNet-50 as torchvision.models.resnet50(weights=None) builds it: the same modules, names
    (its state_dict loads torchvision's weights), construction order and initialisation."""
    nn = torch.nn

    class Bottleneck(nn.Module):
        expansion = 4

        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.conv3 = nn.Conv2d(planes, planes * self.expansion, kernel_size=1, bias=False)
            self.bn3 = nn.BatchNorm2d(planes * self.expansion)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = downsample

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            identity = x if self.downsample is None else self.downsample(x)
            return self.relu(out + identity)

    class ResNet(nn.Module):
        def __init__(self, layers=(3, 4, 6, 3), num_classes=1000):
            super().__init__()
            self.inplanes = 64
            self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            self.layer1 = self._make_layer(64, layers[0])
            self.layer2 = self._make_layer(128, layers[1], stride=2)
            self.layer3 = self._make_layer(256, layers[2], stride=2)
            self.layer4 = self._make_layer(512, layers[3], stride=2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512 * Bottleneck.expansion, num_classes)
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)

        def _make_layer(self, planes, blocks, stride=1):
            downsample = None
            if stride != 1 or self.inplanes != planes * Bottleneck.expansion:
                downsample = nn.Sequential(
                    nn.Conv2d(self.inplanes, planes * Bottleneck.expansion, kernel_size=1, stride=stride, bias=False),
                    nn.BatchNorm2d(planes * Bottleneck.expansion),
                )
            layers = [Bottleneck(self.inplanes, planes, stride, downsample)]
            self.inplanes = planes * Bottleneck.expansion
            layers += [Bottleneck(self.inplanes, planes) for _ in range(1, blocks)]
            return nn.Sequential(*layers)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return ResNet()


def resnet50_module(torch):
    torch.manual_seed(2)
    return resnet50(torch).eval()


def make_resnet50(torch):
    model = resnet50_module(torch)
    with torch.no_grad():
        # Traced, not scripted: the traced graph is what users of torchvision models deploy.
        return torch.jit.trace(model, torch.rand(1, 3, 224, 224))


def write_model(repo, name, config, build, force):
    folder = repo / name
    model_file = folder / "1" / "model.pt"
    if not force and model_file.is_file() and (folder / "config.yaml").is_file():
        print(f"{name}: {folder} exists, kept (--force remakes it)")
        return
    import torch  # imported late so that a repository that is complete needs no torch at all

    print(f"{name}: making {model_file} ...", flush=True)
    module = build(torch)
    model_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = model_file.with_suffix(".tmp")
    module.save(str(tmp))
    tmp.replace(model_file)  # a run killed half-way never leaves a truncated model.pt
    (folder / "config.yaml").write_text(config)


def link_model(source, twin):
    """twin/1/model.pt: source's model file, hard-linked when possible, else copied."""
    target = twin / "1" / "model.pt"
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.unlink()
    try:
        os.link(source / "1" / "model.pt", target)
    except OSError:
        shutil.copyfile(source / "1" / "model.pt", target)


def write_batched_twin(repo, name, batching, max_batch_size=None):
    """<name>_batched: the same model.pt (hard-linked when possible) with dynamic batching on."""
    source = repo / name
    twin = repo / f"{name}_batched"
    config = (source / "config.yaml").read_text().replace(f"name: {name}\n", f"name: {name}_batched\n")
    if max_batch_size is not None:
        config = "\n".join(f"max_batch_size: {max_batch_size}" if line.startswith("max_batch_size:") else line
                           for line in config.splitlines()) + "\n"
    link_model(source, twin)
    (twin / "config.yaml").write_text(config + batching)
    print(f"{twin.name}: {name}'s model with dynamic batching")


def write_jpeg_twin(repo):
    """resnet50_jpeg: resnet50_batched's model and batching behind the image_classifier handler (JPEG in)."""
    source = repo / "resnet50_batched"
    twin = repo / "resnet50_jpeg"
    config = (source / "config.yaml").read_text().replace("name: resnet50_batched\n", "name: resnet50_jpeg\n")
    link_model(source, twin)
    (twin / "config.yaml").write_text(config + "handler: image_classifier\n")
    print(f"{twin.name}: resnet50_batched with the image_classifier handler")


def write_unfrozen_twin(repo, name):
    """<name>_unfrozen: the same model.pt with freeze: false."""
    source = repo / name
    twin = repo / f"{name}_unfrozen"
    config = (source / "config.yaml").read_text().replace(f"name: {name}\n", f"name: {name}_unfrozen\n")
    link_model(source, twin)
    (twin / "config.yaml").write_text(config + "freeze: false\n")
    print(f"{twin.name}: {name}'s model, not frozen")


def write_aoti(repo, name, module, example_shape, force):
    """<name>_aoti: the model as an AOTInductor package for this CPU, batch dimension dynamic up to
    <name>'s max_batch_size."""
    source = repo / name
    twin = repo / f"{name}_aoti"
    package = twin / "1" / "model.pt2"
    config = (source / "config.yaml").read_text().replace(f"name: {name}\n", f"name: {name}_aoti\n") \
        .replace("platform: torchscript\n", "platform: aoti\n")
    if not force and package.is_file():
        print(f"{twin.name}: {package} exists, kept (--force remakes it)")
        (twin / "config.yaml").write_text(config)
        return
    import time
    import warnings

    import torch

    warnings.filterwarnings("ignore", category=FutureWarning)
    max_batch = int(next(line.split(":")[1] for line in config.splitlines() if line.startswith("max_batch_size:")))
    print(f"{twin.name}: compiling {package} (batch 1..{max_batch}) ...", flush=True)
    start = time.monotonic()
    model = module(torch)
    batch = torch.export.Dim("batch", min=1, max=max_batch)
    with torch.no_grad():
        program = torch.export.export(model, (torch.rand(2, *example_shape),), dynamic_shapes=({0: batch},))
        package.parent.mkdir(parents=True, exist_ok=True)
        tmp = package.with_name("model.tmp.pt2")
        torch._inductor.aoti_compile_and_package(program, package_path=str(tmp))
    tmp.replace(package)
    (twin / "config.yaml").write_text(config)
    print(f"{twin.name}: compiled in {time.monotonic() - start:.0f} s")


def copy_demo(repo, force):
    source = ROOT / "models" / "mlp"
    target = repo / "mlp"
    if target.exists():
        if not force:
            print(f"mlp: {target} exists, kept (--force remakes it)")
            return
        shutil.rmtree(target)
    shutil.copytree(source, target)
    print(f"mlp: copied {source} to {target}")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "bench" / "models",
                        help="model repository to write (default: bench/models)")
    parser.add_argument("--force", action="store_true", help="remake models that already exist")
    parser.add_argument("--risk-only", action="store_true",
                        help="only risk and risk_batched (seconds, not minutes; bench/embedded.sh, examples/embedded)")
    args = parser.parse_args(argv)
    repo = args.out
    repo.mkdir(parents=True, exist_ok=True)
    write_model(repo, "risk", RISK_CONFIG, make_risk, args.force)
    if args.risk_only:
        write_batched_twin(repo, "risk", RISK_BATCHING)
        return 0
    write_model(repo, "resnet50", RESNET50_CONFIG, make_resnet50, args.force)
    write_batched_twin(repo, "risk", RISK_BATCHING)
    write_batched_twin(repo, "resnet50", RESNET50_BATCHING, max_batch_size=8)
    write_jpeg_twin(repo)
    write_unfrozen_twin(repo, "risk")
    write_unfrozen_twin(repo, "resnet50")
    write_aoti(repo, "risk", risk_module, (256,), args.force)
    write_aoti(repo, "resnet50", resnet50_module, (3, 224, 224), args.force)
    copy_demo(repo, args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
