"""Students for the tests of training on several devices: importable by module name, because the other ranks
are fresh processes that unpickle them."""

from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from models.zoo import build_student


def mlp() -> nn.Module:
    return build_student({"arch": "mlp", "hidden_sizes": [32]}, [64], 10)


class RecordingStudent(nn.Module):
    """A digits MLP whose inputs carry the sample's index as a 65th column: it learns from the first 64 and
    appends, in training, the indices of each batch to ``<record>/rank<r>.txt``, one line per step."""

    def __init__(self, record: str):
        super().__init__()
        self.record = record
        self.net = mlp()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            rank = dist.get_rank() if dist.is_initialized() else 0
            with open(Path(self.record) / f"rank{rank}.txt", "a") as f:
                f.write(" ".join(str(int(i)) for i in x[:, -1]) + "\n")
        return self.net(x[:, :-1])


class FailsOnRank1(nn.Module):
    """A digits MLP whose training forward fails on rank 1 alone, in its third step."""

    def __init__(self):
        super().__init__()
        self.net = mlp()
        self.steps = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and dist.is_initialized() and dist.get_rank() == 1:
            self.steps += 1
            if self.steps == 3:
                raise RuntimeError("the student broke on rank 1")
        return self.net(x)
