"""Sweep members trained together as one batched model give the students they would get one by one."""

import pytest
import torch

from models.distill_config import DistillConfig
from models.transfer_sets import load_builtin
from models.zoo import build_student
from worker.engine.loop import Split, teacher_logits, train_student, validation_split
from worker.engine.members import train_members, why_not_batched


@pytest.fixture(scope="module")
def splits(teacher_file):
    digits = load_builtin("digits")
    teacher = torch.jit.load(str(teacher_file))
    x, y = torch.from_numpy(digits.x_train), torch.from_numpy(digits.y_train)
    tr, va = validation_split(len(x), 0.1, 0)
    full = Split(x, y, teacher_logits([teacher], x, device="cpu"))
    return full.subset(tr), full.subset(va)


def members(base: DistillConfig, temperatures, **update):
    return [base.model_copy(update={"temperature": t, **update}) for t in temperatures]


def assert_same_runs(batched, alone, rtol=1e-4, atol=1e-5):
    for b, a in zip(batched, alone, strict=True):
        assert (b.best_epoch, b.epochs_run, b.stopped_early) == (a.best_epoch, a.epochs_run, a.stopped_early)
        for hb, ha in zip(b.history, a.history, strict=True):
            for key in ("soft_loss", "hard_loss", "total_loss", "val_accuracy", "grad_norm_soft", "grad_norm_hard",
                        "learning_rate"):
                assert hb[key] == pytest.approx(ha[key], rel=rtol, abs=atol), key
        sb, sa = b.model.state_dict(), a.model.state_dict()
        assert sb.keys() == sa.keys()
        for k in sa:
            torch.testing.assert_close(sb[k].float(), sa[k].float(), rtol=rtol, atol=atol)


def test_batched_mlp_members_equal_members_trained_one_by_one(splits):
    train, val = splits
    cfgs = members(DistillConfig(epochs=3, seed=5, schedule="cosine", weight_decay=1e-4), [1.0, 4.0, 10.0])

    def make():
        return build_student({"arch": "mlp", "hidden_sizes": [32]}, [64], 10)

    seen = []
    batched = train_members(make, train, val, cfgs, on_epoch=lambda m, e, metrics: seen.append((m, e)))
    alone = [train_student(make, train, val, c) for c in cfgs]
    assert_same_runs(batched, alone)
    assert sorted(seen) == [(m, e) for m in range(3) for e in range(1, 4)]
    # different temperatures really made different students
    assert not torch.allclose(batched[0].model.state_dict()["1.weight"], batched[2].model.state_dict()["1.weight"])


def test_batched_conv_members_with_batch_norm_and_clipping_equal_one_by_one(splits):
    train, val = splits
    img = Split(train.x.view(-1, 1, 8, 8), train.y, train.teacher_logits)
    img_val = Split(val.x.view(-1, 1, 8, 8), val.y, val.teacher_logits)
    cfgs = members(DistillConfig(epochs=2, seed=1, optimizer="adam", learning_rate=3e-3, grad_clip=0.5), [2.0, 8.0])

    def make():
        return build_student({"arch": "cnn", "channels": [4, 8]}, [1, 8, 8], 10)

    batched = train_members(make, img, img_val, cfgs)
    alone = [train_student(make, img, img_val, c) for c in cfgs]
    assert_same_runs(batched, alone, rtol=1e-3, atol=1e-4)
    running_mean = [k for k in batched[0].model.state_dict() if k.endswith("running_mean")][0]
    assert not torch.equal(batched[0].model.state_dict()[running_mean], make().state_dict()[running_mean])


def test_each_member_stops_early_on_its_own(splits):
    train, val = splits
    cfgs = members(DistillConfig(epochs=6, early_stopping_patience=1, learning_rate=0.5), [1.0, 20.0])

    def make():
        return build_student({"arch": "mlp", "hidden_sizes": [16]}, [64], 10)

    batched = train_members(make, train, val, cfgs)
    alone = [train_student(make, train, val, c) for c in cfgs]
    assert [b.epochs_run for b in batched] == [a.epochs_run for a in alone]
    assert_same_runs(batched, alone, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("update, reason", [
    ({"compile": True}, "compile"),
    ({"augmentation": {"horizontal_flip": True}}, "augmentation"),
    ({"loss": "logit_matching"}, "kd"),
])
def test_what_cannot_be_batched_says_why(splits, update, reason):
    train, _ = splits
    cfgs = members(DistillConfig(**update), [1.0, 2.0])
    assert reason in why_not_batched(cfgs, train)
    with pytest.raises(ValueError, match=reason):
        train_members(lambda: build_student({"arch": "mlp"}, [64], 10), train, None, cfgs)


def test_members_must_share_everything_but_the_loss_settings(splits):
    train, _ = splits
    assert why_not_batched([DistillConfig()]) == "a single member"
    assert "differ" in why_not_batched([DistillConfig(), DistillConfig(learning_rate=0.5)])
    assert why_not_batched(members(DistillConfig(), [1.0, 2.0])) is None
    assert "teacher outputs" in why_not_batched(members(DistillConfig(), [1.0, 2.0]), Split(train.x, train.y))
    mixed = [DistillConfig(hard_weight=0.5), DistillConfig(hard_weight=0.0, soft_weight=1.0)]
    assert "same loss terms" in why_not_batched(mixed)
    assert "soft term" in why_not_batched([DistillConfig(), DistillConfig(soft_weight=0.0, hard_weight=1.0)])
    assert why_not_batched(members(DistillConfig(), [1.0, 2.0], soft_weight=0.9), train) is None


def test_members_whose_targets_would_be_too_large_are_not_batched(splits, monkeypatch):
    import worker.engine.members as members_module

    train, _ = splits
    cfgs = members(DistillConfig(), [1.0, 2.0, 4.0])
    size = 3 * 2 * train.teacher_logits.shape[1] * 10 * 4
    monkeypatch.setattr(members_module, "FUSED_TARGETS_MAX_BYTES", size)
    assert why_not_batched(cfgs, train) is None
    monkeypatch.setattr(members_module, "FUSED_TARGETS_MAX_BYTES", size - 1)
    assert "1 GiB" in why_not_batched(cfgs, train)
