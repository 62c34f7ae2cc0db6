"""Writes the engine's own test models to engine-libtorch/src/test/resources/fixtures.

Small TorchScript modules that exercise what the served fixtures in testdata/ do not: dict outputs,
non-contiguous outputs, a forward that raises (also inside a helper method, which freezing deletes),
one that runs out of memory above a batch size, an in-place update of its input, and two that keep
state between calls (an in-place update of a buffer, an attribute set in forward), which instances
must not share. Run with the project's Python: "$(tools/python-env.sh)" tools/make_engine_fixtures.py
"""
import pathlib
import warnings
from typing import Dict

import torch
from torch import Tensor

warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=FutureWarning)

OUT = pathlib.Path(__file__).resolve().parent.parent / "engine-libtorch/src/test/resources/fixtures"


class DictOut(torch.nn.Module):
    def forward(self, x: Tensor) -> Dict[str, Tensor]:
        return {"double": x * 2, "negated": -x, "total": x.sum()}


class Transposed(torch.nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return x.t()


class Raises(torch.nn.Module):
    """Fails for any negative element, as a model's own validation would."""

    def forward(self, x: Tensor) -> Tensor:
        if bool((x < 0).any()):
            raise ValueError("negative input")
        return x + 1


class RaisesInHelper(torch.nn.Module):
    """Looks ids up in embedding tables inside a helper method that forward calls: an id out of range
    makes nn.Embedding throw there. Freezing inlines the helper into forward and deletes it."""

    def __init__(self):
        super().__init__()
        self.tables = torch.nn.ModuleList([torch.nn.Embedding(4, 2), torch.nn.Embedding(3, 2)])
        self.out = torch.nn.Linear(4, 1)

    def features(self, ids: Tensor) -> Tensor:
        return torch.cat([table(ids[:, i]) for i, table in enumerate(self.tables)], dim=1)

    def forward(self, ids: Tensor) -> Tensor:
        return self.out(self.features(ids))


class OomRows(torch.nn.Module):
    """Allocates (never touches) 2^(3 * rows) MiB of scratch: fine up to 4 rows (4 GiB of address
    space), out of memory from 8 rows (16 TiB, more than any machine has); returns its input doubled."""

    def forward(self, x: Tensor) -> Tensor:
        rows = min(x.shape[0], 10)
        scratch = torch.empty([1 << (18 + 3 * rows)], dtype=torch.float32)
        return x * 2 + scratch[0] * 0


class CountsCalls(torch.nn.Module):
    """Keeps state in a buffer it updates in place: its instances must not share one module."""

    def __init__(self):
        super().__init__()
        self.register_buffer("calls", torch.zeros(1))

    def forward(self, x: Tensor) -> Tensor:
        self.calls.add_(1)
        return x + self.calls


class KeepsLast(torch.nn.Module):
    """Sets an attribute in forward: its instances must not share one module."""

    def __init__(self):
        super().__init__()
        self.last = torch.zeros(1)

    def forward(self, x: Tensor) -> Tensor:
        previous = self.last
        self.last = x.sum().reshape(1)
        return x + previous


def save(module, name):
    scripted = torch.jit.script(module.eval())
    torch.jit.save(scripted, str(OUT / name))
    print(f"wrote {OUT / name} ({(OUT / name).stat().st_size} bytes)")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    with torch.no_grad():
        save(DictOut(), "dict_out.pt")
        save(Transposed(), "transposed.pt")
        save(Raises(), "raises.pt")
        save(RaisesInHelper(), "raises_in_helper.pt")
        save(OomRows(), "oom_rows.pt")
        save(CountsCalls(), "counts_calls.pt")
        save(KeepsLast(), "keeps_last.pt")


if __name__ == "__main__":
    main()
