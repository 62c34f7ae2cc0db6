#!/usr/bin/env python3
"""A small 3D U-Net for CT volumes, split in two stages on two devices, as a torchlight model.

  py=$(tools/python-env.sh)
  $py examples/medical-3d/make_model.py                          # CPU: both stages on the CPU, 128^3
  $py examples/medical-3d/make_model.py --devices cuda:0,cuda:1 --half   # two GPUs, FP16
  $py examples/medical-3d/make_model.py --devices cuda:0,cuda:0 --half   # one GPU: both stages on it

Writes, under --out (default examples/medical-3d/work):

  repo/unet3d/config.yaml      kind: MODEL (the model places its own parts), FP32 in and out
  repo/unet3d/1/model.pt       the split model: stage 1 (encoder) on dev0, stage 2 (decoder) on dev1;
                               the skip tensors and the bottleneck cross with .to(dev1)
  repo/unet3d/warmup/volume.bin  one volume, so that warm-up runs batch 1 only
  unsplit.pt                   the same weights as one TorchScript module on dev0 (the reference)
  volume<i>.bin                synthetic CT volumes, [1, 1, S, S, S] FP32 little-endian in [0, 1]
  reference<i>.bin             the unsplit model's logits for them, [1, 2, S, S, S] FP32
  manifest.json                shapes, devices, precision, seed, PyTorch version, what the split
                               model gave against the reference in PyTorch

The network: 4 levels (base 16 channels, doubling), each two Conv3d 3x3x3 + BatchNorm3d + ReLU;
max-pooling down, transposed convolutions up, skip connections by concatenation; a 1x1x1 head to
2-class logits. Weights are random from --seed; the batch-norm statistics are calibrated on
synthetic volumes, so that activations keep a realistic scale through the depth. TorchScript saves
each parameter with its device, and torchlight loads a kind: MODEL model as saved, so the file made
for two GPUs only loads where those GPUs exist: make it on the machine that serves it.
"""

import argparse
import copy
import json
import math
import pathlib
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
INPUT, OUTPUT = "volume", "logits"


def build_modules(torch):
    """The network's classes, defined once torch is imported (make_models.py imports this file too)."""
    nn = torch.nn

    class Block(nn.Module):
        """Two Conv3d 3x3x3 + BatchNorm3d + ReLU."""

        def __init__(self, cin: int, cout: int):
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv3d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm3d(cout, momentum=None),
                nn.ReLU(inplace=True),
                nn.Conv3d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm3d(cout, momentum=None),
                nn.ReLU(inplace=True))

        def forward(self, x):
            return self.body(x)

    class Encoder(nn.Module):
        """Stage 1: three levels down and the bottleneck; returns the skips and the bottleneck."""

        def __init__(self, base: int):
            super().__init__()
            self.enc1 = Block(1, base)
            self.enc2 = Block(base, 2 * base)
            self.enc3 = Block(2 * base, 4 * base)
            self.bottom = Block(4 * base, 8 * base)
            self.pool = nn.MaxPool3d(2)

        def forward(self, x):
            s1 = self.enc1(x)
            s2 = self.enc2(self.pool(s1))
            s3 = self.enc3(self.pool(s2))
            b = self.bottom(self.pool(s3))
            return s1, s2, s3, b

    class Decoder(nn.Module):
        """Stage 2: three levels up with the skips, then the 2-class head."""

        def __init__(self, base: int, classes: int):
            super().__init__()
            self.up3 = nn.ConvTranspose3d(8 * base, 4 * base, 2, stride=2)
            self.dec3 = Block(8 * base, 4 * base)
            self.up2 = nn.ConvTranspose3d(4 * base, 2 * base, 2, stride=2)
            self.dec2 = Block(4 * base, 2 * base)
            self.up1 = nn.ConvTranspose3d(2 * base, base, 2, stride=2)
            self.dec1 = Block(2 * base, base)
            self.head = nn.Conv3d(base, classes, 1)

        def forward(self, s1, s2, s3, b):
            d = self.dec3(torch.cat([self.up3(b), s3], 1))
            d = self.dec2(torch.cat([self.up2(d), s2], 1))
            d = self.dec1(torch.cat([self.up1(d), s1], 1))
            return self.head(d)

    class UNet3d(nn.Module):
        """The unsplit network on one device: the reference."""

        def __init__(self, encoder, decoder, dev: str, half: bool):
            super().__init__()
            self.encoder = encoder.to(dev)
            self.decoder = decoder.to(dev)
            self.dev = dev
            self.half_precision = half

        def forward(self, volume):
            x = volume.to(torch.device(self.dev))
            if self.half_precision:
                x = x.half()
            s1, s2, s3, b = self.encoder(x)
            return self.decoder(s1, s2, s3, b).float()

    class SplitUNet3d(nn.Module):
        """Stage 1 on dev0, stage 2 on dev1: the volume enters on the CPU (torchlight hands inputs of
        a kind: MODEL model over on the CPU), crosses to dev0, its skips and bottleneck cross to
        dev1, and the logits leave as FP32 on dev1 (torchlight copies them back)."""

        def __init__(self, encoder, decoder, dev0: str, dev1: str, half: bool):
            super().__init__()
            self.encoder = encoder.to(dev0)
            self.decoder = decoder.to(dev1)
            self.dev0 = dev0
            self.dev1 = dev1
            self.half_precision = half

        def forward(self, volume):
            d0 = torch.device(self.dev0)
            d1 = torch.device(self.dev1)
            x = volume.to(d0)
            if self.half_precision:
                x = x.half()
            s1, s2, s3, b = self.encoder(x)
            return self.decoder(s1.to(d1), s2.to(d1), s3.to(d1), b.to(d1)).float()

    return Block, Encoder, Decoder, UNet3d, SplitUNet3d


def synthetic_ct(torch, size, seed):
    """A CT-like volume [1, 1, S, S, S] in [0, 1] (Hounsfield units -1000..1000 mapped linearly): air
    around an elliptic body of soft tissue under a layer of fat, two lungs, a spine, a few
    lesions of random size and density, and scanner noise."""
    g = torch.Generator().manual_seed(seed)
    axis = torch.linspace(-1, 1, size)
    z, y, x = torch.meshgrid(axis, axis, axis, indexing="ij")

    def ellipsoid(cz, cy, cx, rz, ry, rx):
        return ((z - cz) / rz) ** 2 + ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1

    hu = torch.full((size, size, size), -1000.0)
    hu[ellipsoid(0, 0, 0, 1.1, 0.75, 0.9)] = -100.0          # fat
    hu[ellipsoid(0, 0, 0, 1.1, 0.68, 0.83)] = 40.0           # soft tissue
    hu[ellipsoid(-0.1, -0.05, -0.38, 0.8, 0.42, 0.3)] = -850.0   # lungs
    hu[ellipsoid(-0.1, -0.05, 0.38, 0.8, 0.42, 0.3)] = -850.0
    hu[((y - 0.5) / 0.11) ** 2 + (x / 0.11) ** 2 <= 1] = 700.0   # spine
    for _ in range(5):
        c = (torch.rand(3, generator=g) - 0.5) * 1.0
        r = 0.04 + 0.1 * torch.rand(1, generator=g).item()
        hu[ellipsoid(c[0], c[1], c[2], r, r, r)] = 20.0 + 80.0 * torch.rand(1, generator=g).item()
    hu += 20.0 * torch.randn(hu.shape, generator=g)
    return ((hu.clamp(-1000, 1000) + 1000) / 2000).reshape(1, 1, size, size, size).contiguous()


def build_network(torch, base, seed, calibration_size=32):
    """Encoder and decoder with weights from seed, in eval mode, with batch-norm statistics
    calibrated on two synthetic volumes (a cumulative average: momentum=None)."""
    _, Encoder, Decoder, _, _ = build_modules(torch)
    torch.manual_seed(seed)
    encoder, decoder = Encoder(base), Decoder(base, 2)
    encoder.train()
    decoder.train()
    with torch.no_grad():
        for i in range(2):
            x = synthetic_ct(torch, calibration_size, seed + 1000 + i)
            decoder(*encoder(x))
    return encoder.eval(), decoder.eval()


def config_text(name, size, max_batch, warmup):
    lines = [
        f"name: {name}",
        "platform: torchscript",
        f"max_batch_size: {max_batch}",
        "inputs:",
        f"  - name: {INPUT}",
        "    datatype: FP32",
        f"    shape: [1, {size}, {size}, {size}]",
        "outputs:",
        f"  - name: {OUTPUT}",
        "    datatype: FP32",
        f"    shape: [2, {size}, {size}, {size}]",
        "# The model places its own parts (stage 1 on dev0, stage 2 on dev1) and is loaded as saved.",
        "instance_group: [{kind: MODEL, count: 1}]",
    ]
    if warmup:
        lines += ["# One volume: warm-up runs batch 1 only (a batch of 2 volumes is slow once).",
                  "warmup:",
                  f"  - {INPUT}: {{shape: [1, 1, {size}, {size}, {size}], file: warmup/volume.bin}}"]
    return "\n".join(lines) + "\n"


def save_raw(path, tensor):
    """Raw little-endian FP32, row-major: what a binary tensor request carries."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tensor.detach().to("cpu").float().contiguous().numpy().tofile(path)


def relative_error(a, b):
    return ((a.double() - b.double()).norm() / b.double().norm().clamp_min(1e-30)).item()


def make(out, *, size=128, base=16, devices=("cpu", "cpu"), half=False, volumes=2, seed=0, max_batch=2,
         name="unet3d", warmup=True, unsplit_file=True, repo=None, log=print):
    """Makes everything under out (the model folder under repo, default out/repo); returns the
    manifest. Callable from other scripts (the GPU check, tools/gpu/make_models.py)."""
    import torch

    if size % 8:
        raise ValueError(f"the volume side must be a multiple of 8 (three 2x poolings), got {size}")
    dev0, dev1 = devices
    if half and torch.device(dev0).type == "cpu":
        log("note: --half on the CPU: FP16 3D convolutions are slow there")
    # FP32 references without TF32, so that a difference shows what the server computes.
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    t0 = time.monotonic()
    _, _, _, UNet3d, SplitUNet3d = build_modules(torch)
    encoder, decoder = build_network(torch, base, seed)
    dtype = torch.float16 if half else torch.float32
    params = sum(p.numel() for p in encoder.parameters()) + sum(p.numel() for p in decoder.parameters())

    out = pathlib.Path(out)
    model_dir = pathlib.Path(repo or out / "repo") / name
    (model_dir / "1").mkdir(parents=True, exist_ok=True)
    unsplit = UNet3d(copy.deepcopy(encoder).to(dtype=dtype), copy.deepcopy(decoder).to(dtype=dtype), dev0, half).eval()
    split = SplitUNet3d(copy.deepcopy(encoder).to(dtype=dtype), copy.deepcopy(decoder).to(dtype=dtype),
                        dev0, dev1, half).eval()
    scripted = torch.jit.script(split)
    scripted.save(str(model_dir / "1" / "model.pt"))
    example = synthetic_ct(torch, size, seed)
    if unsplit_file:
        torch.jit.script(unsplit).save(str(out / "unsplit.pt"))
    if warmup:
        save_raw(model_dir / "warmup" / "volume.bin", synthetic_ct(torch, size, seed + 100))
    (model_dir / "config.yaml").write_text(config_text(name, size, max_batch, warmup))
    log(f"{name}: {params:,} parameters, {'FP16' if half else 'FP32'}, stage 1 on {dev0}, stage 2 on {dev1}; "
        f"saved in {time.monotonic() - t0:.1f} s")

    # References from the unsplit model, and the split model's own output next to them in PyTorch.
    loaded = torch.jit.load(str(model_dir / "1" / "model.pt"))  # as torchlight loads it: as saved
    checks = []
    with torch.inference_mode():
        for i in range(volumes):
            x = example if i == 0 else synthetic_ct(torch, size, seed + i)
            save_raw(out / f"volume{i}.bin", x)
            t = time.monotonic()
            ref = unsplit(x).to("cpu")
            ref_s = time.monotonic() - t
            save_raw(out / f"reference{i}.bin", ref)
            t = time.monotonic()
            got = loaded(x).to("cpu")
            split_s = time.monotonic() - t
            rel = relative_error(got, ref)
            checks.append(dict(volume=f"volume{i}.bin", reference=f"reference{i}.bin", rel=rel,
                               max_abs=(got - ref).abs().max().item(), max_ref=ref.abs().max().item(),
                               foreground=(ref.argmax(1) == 1).float().mean().item()))
            log(f"volume{i}: split vs unsplit in PyTorch rel {rel:.2e}; unsplit {ref_s:.2f} s, split {split_s:.2f} s")
    manifest = dict(name=name, size=size, base=base, levels=4, parameters=params, devices=[dev0, dev1],
                    precision="fp16" if half else "fp32", seed=seed, max_batch_size=max_batch,
                    input=dict(name=INPUT, datatype="FP32", shape=[1, 1, size, size, size]),
                    output=dict(name=OUTPUT, datatype="FP32", shape=[1, 2, size, size, size]),
                    torch=torch.__version__, checks=checks)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=pathlib.Path, default=HERE / "work")
    parser.add_argument("--size", type=int, default=128, help="volume side in voxels (a multiple of 8)")
    parser.add_argument("--base", type=int, default=16, help="channels at the first level (doubling per level)")
    parser.add_argument("--devices", default="cpu,cpu", help="dev0,dev1: where stage 1 and stage 2 run")
    parser.add_argument("--half", action="store_true", help="FP16 weights and compute (the wire stays FP32)")
    parser.add_argument("--volumes", type=int, default=2, help="volumes with reference outputs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-batch", type=int, default=2, help="max_batch_size in config.yaml")
    parser.add_argument("--name", default="unet3d")
    parser.add_argument("--no-warmup-file", action="store_true",
                        help="let the server generate warm-up inputs (every batch size)")
    parser.add_argument("--no-unsplit-file", action="store_true",
                        help="leave unsplit.pt out (the references are made all the same)")
    args = parser.parse_args(argv)
    devices = args.devices.split(",")
    if len(devices) != 2:
        parser.error("--devices takes two devices, e.g. cpu,cpu or cuda:0,cuda:1")
    manifest = make(args.out, size=args.size, base=args.base, devices=devices, half=args.half,
                    volumes=args.volumes, seed=args.seed, max_batch=args.max_batch, name=args.name,
                    warmup=not args.no_warmup_file, unsplit_file=not args.no_unsplit_file)
    worst = max((c["rel"] for c in manifest["checks"]), default=0.0)
    limit = 1e-2 if args.half else 1e-5
    if not math.isfinite(worst) or worst > limit:
        print(f"the split model differs from the unsplit one: rel {worst:.2e} > {limit:g}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
