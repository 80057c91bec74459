"""The training loop on its own: no Celery, no HTTP, no database."""

import copy

import pytest
import torch
from torch import nn

from models.distill_config import DistillConfig
from models.transfer_sets import load_builtin
from models.zoo import build_student
from worker.engine.bias import tune_logit_bias
from worker.engine.loop import Cancelled, Split, TrainingDiverged, teacher_logits, train_student, validation_split


@pytest.fixture(scope="module")
def digits():
    return load_builtin("digits")


@pytest.fixture(scope="module")
def teacher(teacher_file):
    return torch.jit.load(str(teacher_file))


def make_splits(digits, teacher, fraction=0.1, seed=0):
    x, y = torch.from_numpy(digits.x_train), torch.from_numpy(digits.y_train)
    tr, va = validation_split(len(x), fraction, seed)
    full = Split(x, y, teacher_logits([teacher], x, device="cpu"))
    return full.subset(tr), full.subset(va)


def student_factory():
    return build_student({"arch": "mlp", "hidden_sizes": [32]}, [64], 10)


def test_same_spec_and_seed_give_bit_identical_weights(digits, teacher):
    train, val = make_splits(digits, teacher)
    cfg = DistillConfig(epochs=3, seed=7, learning_rate=0.05, schedule="cosine", warmup_epochs=1)
    a = train_student(student_factory, train, val, cfg).model.state_dict()
    b = train_student(student_factory, train, val, cfg).model.state_dict()
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    c = train_student(student_factory, train, val, cfg.model_copy(update={"seed": 8})).model.state_dict()
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_distillation_learns_digits_and_reports_every_metric(digits, teacher):
    train, val = make_splits(digits, teacher)
    seen = []
    out = train_student(student_factory, train, val, DistillConfig(epochs=8),
                        on_epoch=lambda e, m: seen.append((e, m)))
    assert [e for e, _ in seen] == list(range(1, 9))
    metrics = seen[-1][1]
    for key in ("soft_loss", "hard_loss", "total_loss", "learning_rate", "grad_norm_soft", "grad_norm_hard",
                "val_accuracy", "val_teacher_agreement", "val_ece", "samples_per_second"):
        assert key in metrics, key
    assert metrics["val_accuracy"] > 0.9
    assert seen[0][1]["total_loss"] > metrics["total_loss"]
    best = max(range(8), key=lambda i: (seen[i][1]["val_accuracy"], -i))
    assert out.best_epoch == best + 1


def test_best_epoch_weights_are_the_ones_returned(digits, teacher):
    train, val = make_splits(digits, teacher)
    out = train_student(student_factory, train, val, DistillConfig(epochs=5, learning_rate=0.5))
    with torch.no_grad():
        acc = (out.model(val.x).argmax(1) == val.y).float().mean().item()
    assert acc == pytest.approx(out.history[out.best_epoch - 1]["val_accuracy"])


def test_unlabelled_training_uses_soft_term_alone(digits, teacher):
    train, val = make_splits(digits, teacher)
    unlabelled = Split(train.x, None, train.teacher_logits)
    out = train_student(student_factory, unlabelled, val, DistillConfig(epochs=6, hard_weight=0.0, soft_weight=1.0))
    assert "hard_loss" not in out.history[-1] and "grad_norm_hard" not in out.history[-1]
    assert out.history[-1]["val_accuracy"] > 0.85  # labels were never seen


def test_early_stopping_stops_after_patience(digits, teacher):
    train, val = make_splits(digits, teacher)
    out = train_student(student_factory, train, val,
                        DistillConfig(epochs=200, early_stopping_patience=2, learning_rate=0.05))
    assert out.stopped_early and out.epochs_run < 200
    assert out.epochs_run - out.best_epoch == 2


@pytest.mark.parametrize("schedule", ["constant", "step", "cosine", "onecycle"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw"])
def test_every_optimizer_and_schedule_trains(digits, teacher, optimizer, schedule):
    train, val = make_splits(digits, teacher)
    lr = 0.1 if optimizer == "sgd" else 0.01
    cfg = DistillConfig(epochs=4, optimizer=optimizer, schedule=schedule, learning_rate=lr, step_size=2,
                        gamma=0.5, nesterov=True, weight_decay=1e-4, grad_clip=5.0)
    out = train_student(student_factory, train, val, cfg)
    lrs = [h["learning_rate"] for h in out.history]
    if schedule == "step":
        assert lrs == pytest.approx([lr, lr, lr * 0.5, lr * 0.5])
    if schedule == "cosine":
        assert lrs == sorted(lrs, reverse=True) and lrs[-1] < lr
    assert out.history[-1]["val_accuracy"] > 0.8


def test_warmup_raises_learning_rate_linearly(digits, teacher):
    train, val = make_splits(digits, teacher)
    out = train_student(student_factory, train, val, DistillConfig(epochs=3, warmup_epochs=2))
    lrs = [h["learning_rate"] for h in out.history]
    assert lrs[0] < lrs[1] < lrs[2] == pytest.approx(0.1)


def test_bf16_autocast_runs_on_cpu(digits, teacher):
    train, val = make_splits(digits, teacher)
    out = train_student(student_factory, train, val, DistillConfig(epochs=2, precision="bf16"))
    assert out.history[-1]["val_accuracy"] > 0.5


class BlowsUp(nn.Module):
    """Finite for two steps, then NaN: what an exploding run looks like to the loop."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(64, 10)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.lin(x) * (float("nan") if self.calls > 2 else 1.0)


def test_diverging_loss_fails_with_advice(digits, teacher):
    train, val = make_splits(digits, teacher)
    with pytest.raises(TrainingDiverged, match="epoch 1, by step 3; lower learning_rate"):
        train_student(BlowsUp, train, val, DistillConfig(epochs=5))


def test_cancel_flag_stops_training(digits, teacher):
    train, val = make_splits(digits, teacher)
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) >= 2

    with pytest.raises(Cancelled):
        train_student(student_factory, train, val, DistillConfig(epochs=50), should_stop=should_stop)


def test_fp16_on_cpu_is_refused_with_advice(digits, teacher):
    train, val = make_splits(digits, teacher)
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(RuntimeError, match="fp16"):
        train_student(student_factory, train, val, DistillConfig(epochs=1, precision="fp16", device="cpu"))


def test_bias_tuning_recovers_a_suppressed_class():
    torch.manual_seed(0)
    labels = torch.randint(0, 3, (300,))
    logits = nn.functional.one_hot(labels, 3).float() * 4
    logits[:, 2] -= 6  # class 2 is never predicted
    delta, bias = tune_logit_bias(logits, labels, [2])
    assert 2 < delta <= 10
    assert bias.tolist() == [0.0, 0.0, delta]
    assert ((logits + bias).argmax(1) == labels).all()


def _correct(logits, labels, classes, delta):
    raise_ = torch.zeros(logits.shape[1])
    raise_[classes] = delta
    return int(((logits + raise_).argmax(1) == labels).sum())


def test_bias_tuning_finds_the_best_raise_a_fine_grid_finds():
    """A second, plain search: every raise on a 0.001 grid. The exact search must do at least as well."""
    gen = torch.Generator().manual_seed(1)
    for _ in range(40):
        n, c = int(torch.randint(5, 80, (1,), generator=gen)), int(torch.randint(3, 7, (1,), generator=gen))
        logits, labels = torch.randn(n, c, generator=gen) * 3, torch.randint(0, c, (n,), generator=gen)
        classes = [0, c - 1]
        logits[:, classes] -= 5
        delta, _ = tune_logit_bias(logits, labels, classes)
        grid_best = max(_correct(logits, labels, classes, d / 1000) for d in range(0, 30000, 3))
        assert delta >= 0 and _correct(logits, labels, classes, delta) >= grid_best


def test_bias_tuning_has_no_ceiling_and_takes_the_middle_of_the_best_range():
    labels = torch.tensor([0, 1, 2, 2])
    logits = torch.tensor([[40.0, 0, 0], [0, 40, 0], [10, 0, -20], [0, 10, -22]])
    # Class 2 needs a raise past 30 and 32; one past 40 costs the other two samples.
    delta, _ = tune_logit_bias(logits, labels, [2])
    assert delta == pytest.approx(36.0)
    assert _correct(logits, labels, [2], delta) == 4


def test_bias_tuning_keeps_no_raise_when_raising_does_not_help():
    labels = torch.tensor([0, 1, 0])
    logits = torch.tensor([[3.0, 0, -1], [0, 3, -1], [2, 0, 1]])
    assert tune_logit_bias(logits, labels, [2])[0] == 0.0


@pytest.mark.slow  # torch.compile builds C++ kernels on the CPU: tens of seconds
def test_compiled_student_trains_like_the_eager_one(digits, teacher):
    train, val = make_splits(digits, teacher)
    cfg = DistillConfig(epochs=2, seed=3)
    eager = train_student(student_factory, train, val, cfg)
    compiled = train_student(student_factory, train, val, cfg.model_copy(update={"compile": True}))
    assert compiled.history[-1]["val_accuracy"] == pytest.approx(eager.history[-1]["val_accuracy"], abs=0.03)
    assert "grad_norm_soft" in compiled.history[-1]


def test_channels_last_conv_student_trains():
    import numpy as np

    rng = np.random.RandomState(0)
    x = torch.from_numpy(rng.rand(64, 3, 16, 16).astype(np.float32))
    y = torch.from_numpy(rng.randint(0, 4, 64))
    out = train_student(lambda: build_student({"arch": "cnn", "channels": [8]}, [3, 16, 16], 4),
                        Split(x, y), None, DistillConfig(epochs=1, channels_last=True, soft_weight=0, hard_weight=1))
    assert out.epochs_run == 1


def test_term_gradient_norms_match_separate_backward_passes():
    from worker.engine.loop import _term_grad_norms
    from worker.engine.losses import combine, make_loss

    torch.manual_seed(0)
    model = nn.Linear(6, 4)
    x, y, t = torch.randn(8, 6), torch.randint(0, 4, (8,)), torch.randn(1, 8, 4)
    loss = make_loss(DistillConfig(temperature=3.0))
    w = loss.weights()

    def grads_of(term_name):
        model.zero_grad()
        (w[term_name] * loss(model(x), loss.targets(t), y)[term_name]).backward()
        return [p.grad.clone() for p in model.parameters()]

    expected = {name: torch.sqrt(sum((g**2).sum() for g in grads_of(name))).item() for name in ("soft", "hard")}
    model.zero_grad()
    terms = loss(model(x), loss.targets(t), y)
    params = list(model.parameters())
    soft = torch.autograd.grad(w["soft"] * terms["soft"], params, retain_graph=True)
    combine(terms, w).backward()
    got = _term_grad_norms(terms, params, {"soft": soft})
    assert got["grad_norm_soft"] == pytest.approx(expected["soft"], rel=1e-5)
    assert got["grad_norm_hard"] == pytest.approx(expected["hard"], rel=1e-5)


def test_data_over_the_device_budget_is_batched_from_host_memory(digits, teacher):
    from worker.engine.training import fits as _fits

    train, _ = make_splits(digits, teacher)
    size = train.x.numel() * 4 + train.y.numel() * 8 + train.teacher_logits.numel() * 4
    cuda = torch.device("cuda")
    assert _fits(train, cuda, size) and not _fits(train, cuda, size - 1)
    assert _fits(train, torch.device("cpu"), 0) and _fits(train, cuda, None)


def test_resuming_from_a_checkpoint_gives_the_same_student(digits, teacher):
    train, val = make_splits(digits, teacher)
    cfg = DistillConfig(epochs=5, seed=11, schedule="cosine", warmup_epochs=1)
    straight = train_student(student_factory, train, val, cfg)
    saved = {}

    def keep(state):
        saved[state["epoch"]] = copy.deepcopy(state)

    class Crash(Exception):
        pass

    def crash_after_epoch_2(epoch, metrics):
        if epoch == 2:
            raise Crash()

    with pytest.raises(Crash):
        train_student(student_factory, train, val, cfg, on_checkpoint=keep, on_epoch=crash_after_epoch_2)
    epochs_seen = []
    resumed = train_student(student_factory, train, val, cfg, resume=saved[2],
                            on_epoch=lambda e, m: epochs_seen.append(e))
    assert epochs_seen == [3, 4, 5]
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3, 4, 5]
    for k, v in straight.model.state_dict().items():
        assert torch.equal(v, resumed.model.state_dict()[k]), k


def test_stacked_and_separate_loss_terms_train_the_same_student(digits, teacher, monkeypatch):
    import worker.engine.loop as loop
    import worker.engine.training as training

    train, val = make_splits(digits, teacher)
    cfg = DistillConfig(epochs=3, seed=3, temperature=4.0)
    made = []
    fuse = loop.fuse
    monkeypatch.setattr(loop, "fuse", lambda *a: made.append(fuse(*a)) or made[-1])
    stacked = train_student(student_factory, train, val, cfg)
    monkeypatch.setattr(training, "FUSED_TARGETS_MAX_BYTES", 0)
    separate = train_student(student_factory, train, val, cfg)
    assert made[0] is not None and made[1] is None
    for a, b in zip(stacked.history, separate.history, strict=True):
        for key in ("soft_loss", "hard_loss", "total_loss", "grad_norm_soft", "grad_norm_hard", "val_accuracy"):
            assert a[key] == pytest.approx(b[key], rel=1e-4), key
    for k, v in stacked.model.state_dict().items():
        torch.testing.assert_close(v, separate.model.state_dict()[k], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("batched", [False, True])
def test_each_epoch_reports_gradient_norms_measured_in_that_epoch(digits, teacher, batched):
    """Digits has about 20 steps an epoch, far fewer than the measuring interval: every epoch still
    measures on its own first batch, so no epoch repeats an earlier one's values."""
    from worker.engine.loop import GRAD_NORM_INTERVAL
    from worker.engine.members import train_members

    train, val = make_splits(digits, teacher)
    cfg = DistillConfig(epochs=4, batch_size=64, learning_rate=0.05)
    assert len(train) / cfg.batch_size < GRAD_NORM_INTERVAL
    if batched:
        history = train_members(student_factory, train, val, [cfg, cfg.model_copy(update={"temperature": 4.0})])[0]
        history = history.history
    else:
        history = train_student(student_factory, train, val, cfg).history
    for key in ("grad_norm_soft", "grad_norm_hard"):
        values = [h[key] for h in history]
        assert all(v > 0 for v in values), key
        assert all(a != b for a, b in zip(values, values[1:], strict=False)), (key, values)


@pytest.mark.parametrize("batched", [False, True])
def test_an_epoch_that_measures_no_gradient_norms_reports_none(digits, teacher, batched, monkeypatch):
    """Norms are absent from an epoch that took no measurement, never a copy of an earlier epoch's."""
    from worker.engine import trainer
    from worker.engine.members import train_members

    monkeypatch.setattr(trainer, "measures_grad_norms", lambda epoch, batch: epoch == 2 and batch == 0)
    train, val = make_splits(digits, teacher)
    cfg = DistillConfig(epochs=3, batch_size=64, learning_rate=0.05)
    if batched:
        history = train_members(student_factory, train, val, [cfg, cfg.model_copy(update={"temperature": 4.0})])[0]
        history = history.history
    else:
        history = train_student(student_factory, train, val, cfg).history
    assert [sorted(k for k in h if k.startswith("grad_norm_")) for h in history] == [
        [], ["grad_norm_hard", "grad_norm_soft"], []]
