#!/usr/bin/python3
"""Writes the benchmark model repository (default bench/models/) used by bench/run.sh.

  risk      MLP 256 -> 1024 -> ReLU -> 1024 -> ReLU -> 2, FP32, max_batch_size 64
  resnet50  torchvision ResNet-50, random weights, traced at 1x3x224x224, max_batch_size 32
  mlp       a copy of the bundled demo model (models/mlp)
  risk_batched, resnet50_batched
            the same model files with dynamic batching on, so one server run compares
            batching on and off

Run with Debian's /usr/bin/python3 (packages python3-torch, python3-torchvision). Nothing is
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
    torch.manual_seed(1)
    model = torch.nn.Sequential(
        torch.nn.Linear(256, 1024),
        torch.nn.ReLU(),
        torch.nn.Linear(1024, 1024),
        torch.nn.ReLU(),
        torch.nn.Linear(1024, 2),
    ).eval()
    return torch.jit.script(model)


def make_resnet50(torch):
    import torchvision

    torch.manual_seed(2)
    model = torchvision.models.resnet50(weights=None).eval()
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
    args = parser.parse_args(argv)
    repo = args.out
    repo.mkdir(parents=True, exist_ok=True)
    write_model(repo, "risk", RISK_CONFIG, make_risk, args.force)
    write_model(repo, "resnet50", RESNET50_CONFIG, make_resnet50, args.force)
    write_batched_twin(repo, "risk", RISK_BATCHING)
    write_batched_twin(repo, "resnet50", RESNET50_BATCHING, max_batch_size=8)
    write_jpeg_twin(repo)
    copy_demo(repo, args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
