#!/usr/bin/env python3
"""Writes TorchServe-style .mar archives into testdata/mar/ for the import-mar tests.

A .mar is a zip holding MAR-INF/MANIFEST.json, the serialized model, the handler and extra
files, as torch-model-archiver writes it; no TorchServe is needed to make one. Entries get a
fixed timestamp so the files are identical from run to run.

- classifier.mar: the TorchScript classifier fixture (testdata/handlers/models/classifier)
  with handler image_classifier, its index_to_name.json and a model-config.yaml
  (batchSize 4, maxBatchDelay 20 ms): importable.
- eager.mar: model.py plus a state dict (eager mode): refused.
- python_handler.mar: TorchScript with a custom Python handler file: refused.
- state_dict.mar: a state dict without model.py: refused (not TorchScript).
Run with the project's Python (PyTorch 2.13) after tools/make_image_fixtures.py, from any
directory: "$(tools/python-env.sh)" tools/make_mar_fixtures.py
"""
import io
import json
import pathlib
import zipfile

import torch

ROOT = pathlib.Path(__file__).resolve().parent.parent
CLASSIFIER = ROOT / "testdata" / "handlers" / "models" / "classifier"
OUT = ROOT / "testdata" / "mar"
STAMP = (2026, 1, 1, 0, 0, 0)


def manifest(name: str, serialized: str, handler: str, model_file: str = None, config_file: str = None) -> bytes:
    model = {"modelName": name, "serializedFile": serialized, "handler": handler, "modelVersion": "1.0"}
    if model_file:
        model["modelFile"] = model_file
    if config_file:
        model["configFile"] = config_file
    return json.dumps({"createdOn": "01/01/2026 00:00:00", "runtime": "python", "model": model,
                       "archiverVersion": "0.12.0"}, indent=2).encode()


def write(path: pathlib.Path, files: dict) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(zipfile.ZipInfo(name, STAMP), data)
    print(path.relative_to(ROOT), sorted(files))


def state_dict() -> bytes:
    torch.manual_seed(0)
    buf = io.BytesIO()
    torch.save(torch.nn.Linear(4, 2).state_dict(), buf)
    return buf.getvalue()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    script = (CLASSIFIER / "1" / "model.pt").read_bytes()
    labels = (CLASSIFIER / "index_to_name.json").read_bytes()
    write(OUT / "classifier.mar", {
        "MAR-INF/MANIFEST.json": manifest("tinyresnet", "tinyresnet.pt", "image_classifier",
                                          config_file="model-config.yaml"),
        "tinyresnet.pt": script, "index_to_name.json": labels,
        "model-config.yaml": b"minWorkers: 1\nmaxWorkers: 2\nbatchSize: 4\nmaxBatchDelay: 20\nresponseTimeout: 120\n"})
    write(OUT / "eager.mar", {
        "MAR-INF/MANIFEST.json": manifest("eager", "weights.pth", "image_classifier", "model.py"),
        "model.py": b"import torch\nclass Net(torch.nn.Linear):\n    pass\n", "weights.pth": state_dict()})
    write(OUT / "python_handler.mar", {
        "MAR-INF/MANIFEST.json": manifest("custom", "model.pt", "my_handler.py"),
        "model.pt": script, "my_handler.py": b"def handle(data, context):\n    return data\n"})
    write(OUT / "state_dict.mar", {
        "MAR-INF/MANIFEST.json": manifest("weights", "weights.pth", "image_classifier"),
        "weights.pth": state_dict()})


if __name__ == "__main__":
    main()
