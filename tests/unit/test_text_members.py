"""A sweep's members with a text student: a transformer's members train as one batched model and give the
students they would get one by one (its encoder's non-persistent buffers are not part of their weights); a
BiLSTM's packed sequences cannot be vmapped, so its members train one at a time, decided before training."""

import pytest
import torch
from torch import nn

from models.distill_config import DistillConfig
from models.text.students import TextBiLSTMSpec
from models.transfer_sets import TransferData
from models.zoo import build_student
from tests.unit.test_members import assert_same_runs, members
from worker.engine.loop import Split, train_student
from worker.engine.members import train_members, why_not_batched
from worker.engine.pipeline import Experiment, Hooks, run_members

TEXT = {"vocab_size": 64, "pad_token_id": 0, "max_length": 12, "max_position_embeddings": 16,
        "class_names": ["a", "b", "c"], "hidden_size": 16, "num_layers": 2}
TRANSFORMER = {"arch": "transformer", "layers": 1, "hidden_size": 16, "heads": 2, "intermediate_size": 32,
               "dropout": 0.0}
BILSTM = {"arch": "bilstm", "embedding_dim": 8, "hidden_size": 8, "dropout": 0.0}


def ids(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(4, 60, (n, 12), generator=g)
    x[:, 4 + seed % 5:] = 0  # right padding
    return x, x[:, 0] % 3


def split(n: int, seed: int) -> Split:
    x, y = ids(n, seed)
    g = torch.Generator().manual_seed(seed + 100)
    return Split(x, y, (torch.randn(n, 3, generator=g) + nn.functional.one_hot(y, 3) * 2)[None])


def maker(spec: dict):
    return lambda: build_student(spec, [12], 3, "int64", text=TEXT)


def test_batched_transformer_members_equal_members_trained_one_by_one():
    train, val = split(96, 0), split(32, 1)
    cfgs = members(DistillConfig(epochs=2, seed=3, optimizer="adam", learning_rate=3e-3, batch_size=32), [1.0, 4.0])
    make = maker(TRANSFORMER)
    assert why_not_batched(cfgs, train, make()) is None
    batched = train_members(make, train, val, cfgs)
    assert_same_runs(batched, [train_student(make, train, val, c) for c in cfgs])


class Teacher(nn.Module):
    def forward(self, x):
        return nn.functional.one_hot(x[:, 0] % 3, 3).float() * 3


class Events(Hooks):
    def __init__(self):
        self.events = []

    def event(self, type_, message, data=None):
        self.events.append(type_)


@pytest.mark.parametrize("spec, batched", [(TRANSFORMER, True), (BILSTM, False)])
def test_a_sweep_of_text_students_batches_where_the_architecture_allows(spec, batched):
    cfgs = members(DistillConfig(epochs=1, seed=0, batch_size=32, validation_fraction=0.2), [1.0, 4.0])
    (x, y), (xt, yt) = ids(80, 2), ids(20, 3)
    exp = Experiment(teachers=[Teacher()], data=TransferData(x.numpy(), y.numpy(), xt.numpy(), yt.numpy()),
                     make_student=maker(spec), num_classes=3, config=cfgs[0], input_dtype="int64")
    hooks = [Events(), Events()]
    outcomes = run_members(exp, cfgs, hooks)
    assert ("members_batched" in hooks[0].events) == batched
    assert len(outcomes) == 2 and all(o.results["student"]["samples"] == 20 for o in outcomes)
    with torch.no_grad():
        first, second = (o.students["distilled"](xt) for o in outcomes)
    assert not torch.allclose(first, second)  # different temperatures, different students
    torch.testing.assert_close(first.sum(dim=1), torch.ones(20))  # exported with a plain softmax


def test_the_worker_asks_the_spec_before_adopting_members():
    cfgs = members(DistillConfig(), [1.0, 4.0])
    assert "one member at a time" in why_not_batched(cfgs, student=TextBiLSTMSpec(arch="bilstm"))
    assert why_not_batched(cfgs, student=None) is None
