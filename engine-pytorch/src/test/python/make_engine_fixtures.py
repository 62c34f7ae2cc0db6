#!/usr/bin/python3
"""Builds the small TorchScript models that only the PyTorch engine's tests use.

They cover what the shared fixtures in testdata/ do not: a Dict output and a
non-contiguous output. Run with Debian's PyTorch: /usr/bin/python3 make_engine_fixtures.py
"""
import pathlib
from typing import Dict

import torch
from torch import Tensor, nn

OUT = pathlib.Path(__file__).resolve().parent.parent / "resources" / "fixtures"


class DictOut(nn.Module):
    def forward(self, x: Tensor) -> Dict[str, Tensor]:
        return {"double": x * 2, "negated": -x, "total": x.sum(-1)}


class Transposed(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return x.t()  # a strided view, not contiguous


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for name, module in (("dict_out", DictOut()), ("transposed", Transposed())):
        torch.jit.script(module.eval()).save(str(OUT / f"{name}.pt"))
