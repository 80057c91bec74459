"""One training loop: the single run and the batched members share one epoch and step skeleton
(``worker/engine/trainer.py``), and no engine module takes another's private names."""

import ast
from pathlib import Path

import pytest
import torch
from torch import nn

from models.distill_config import DistillConfig
from models.transfer_sets import load_builtin
from tests.unit.test_engine import BlowsUp
from worker.engine.loop import Split, teacher_logits, train_student, validation_split
from worker.engine.members import train_members
from worker.engine.training import Cancelled, TrainingDiverged

ENGINE = Path(__file__).resolve().parents[2] / "worker" / "engine"


def private_names_taken(path: Path) -> list[str]:
    """``from worker.engine.x import _name`` and ``x._name`` where ``x`` is an imported engine module."""
    tree = ast.parse(path.read_text())
    found, modules = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("worker.engine")):
            for alias in node.names:
                if alias.name.startswith("_"):
                    found.append(f"{node.module}.{alias.name}")
                elif node.module == "worker.engine" or node.level:
                    modules.add(alias.asname or alias.name)  # from worker.engine import loop
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("worker.engine.") and alias.asname:
                    modules.add(alias.asname)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name) and node.value.id in modules):
            found.append(f"{node.value.id}.{node.attr}")
    return found


def test_no_engine_module_imports_another_modules_private_names():
    paths = sorted(ENGINE.glob("*.py"))
    assert {"trainer.py", "training.py", "loop.py", "members.py"} <= {p.name for p in paths}
    taken = {p.name: private_names_taken(p) for p in paths}
    assert {name: names for name, names in taken.items() if names} == {}


def test_the_scan_sees_private_imports():
    tree = "from worker.engine.loop import _fuse, Split\nfrom worker.engine import loop\nloop._fits(1)\n"
    path = Path(__file__).with_name("_scan_probe.py")
    path.write_text(tree)
    try:
        assert private_names_taken(path) == ["worker.engine.loop._fuse", "loop._fits"]
    finally:
        path.unlink()


def test_the_two_steps_share_the_skeleton_and_not_each_other():
    for name in ("loop.py", "members.py"):
        tree = ast.parse((ENGINE / name).read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert "worker.engine.trainer" in imported, name
        assert not imported & {"worker.engine.loop", "worker.engine.members"}, name


@pytest.fixture(scope="module")
def splits(teacher_file):
    digits = load_builtin("digits")
    x, y = torch.from_numpy(digits.x_train), torch.from_numpy(digits.y_train)
    tr, va = validation_split(len(x), 0.1, 0)
    full = Split(x, y, teacher_logits([torch.jit.load(str(teacher_file))], x, device="cpu"))
    return full.subset(tr), full.subset(va)


def single(make_student, train, val, cfg, **kw):
    return train_student(make_student, train, val, cfg, **kw)


def batched(make_student, train, val, cfg, **kw):
    return train_members(make_student, train, val, [cfg, cfg.model_copy(update={"temperature": 4.0})], **kw)


@pytest.mark.parametrize("train", [single, batched])
def test_a_diverging_loss_fails_both_paths_with_the_same_advice(splits, train):
    with pytest.raises(TrainingDiverged) as raised:
        train(BlowsUp, *splits, DistillConfig(epochs=3))
    assert str(raised.value) == ("the loss became nan in epoch 1, by step 3; "
                                 "lower learning_rate, set grad_clip, or use precision 'fp32'")


@pytest.mark.parametrize("train", [single, batched])
def test_both_paths_ask_to_stop_at_the_same_steps(splits, train):
    from worker.engine.trainer import CANCEL_CHECK_EVERY

    steps, asked = [0], []

    def counted():
        model = nn.Linear(64, 10)
        model.register_forward_hook(lambda module, args, out: steps.__setitem__(0, steps[0] + module.training))
        return model

    def should_stop():
        asked.append(steps[0])
        return len(asked) >= 3

    cfg = DistillConfig(epochs=20, batch_size=16)
    assert len(splits[0]) / cfg.batch_size > 3 * CANCEL_CHECK_EVERY
    with pytest.raises(Cancelled):
        train(counted, *splits, cfg, should_stop=should_stop)
    assert asked == [CANCEL_CHECK_EVERY, 2 * CANCEL_CHECK_EVERY, 3 * CANCEL_CHECK_EVERY]
