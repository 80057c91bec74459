"""Each loss against a computation by hand."""

import math

import pytest
import torch
import torch.nn.functional as F

from models.distill_config import DistillConfig
from worker.engine.losses import combine, ensemble_log_probs, make_loss


def softmax(xs, t=1.0):
    e = [math.exp(x / t) for x in xs]
    return [v / sum(e) for v in e]


def kl(q, p):
    return sum(qi * math.log(qi / pi) for qi, pi in zip(q, p, strict=True))


def test_kd_soft_term_equals_hand_computed_kl_and_is_scaled_by_t_squared():
    z, v, t = [1.0, 2.0, 0.5], [3.0, 0.0, -1.0], 4.0
    cfg = DistillConfig(temperature=t, soft_weight=0.7, hard_weight=0.3)
    loss = make_loss(cfg)
    terms = loss(torch.tensor([z]), loss.targets(torch.tensor([[v]])), torch.tensor([1]))
    expected_soft = kl(softmax(v, t), softmax(z, t))
    expected_hard = -math.log(softmax(z)[1])
    assert terms["soft"].item() == pytest.approx(expected_soft, rel=1e-5)
    assert terms["hard"].item() == pytest.approx(expected_hard, rel=1e-5)
    assert loss.weights() == {"soft": pytest.approx(0.7 * 16), "hard": 0.3}
    total = combine(terms, loss.weights())
    assert total.item() == pytest.approx(0.7 * 16 * expected_soft + 0.3 * expected_hard, rel=1e-5)


def test_t_squared_scaling_can_be_switched_off():
    loss = make_loss(DistillConfig(temperature=5.0, soft_weight=1.0, hard_weight=0.0, scale_soft_by_t2=False))
    assert loss.weights()["soft"] == 1.0


def test_soft_gradient_matches_closed_form_p_minus_q_over_t():
    torch.manual_seed(0)
    t = 3.0
    z = torch.randn(4, 6, requires_grad=True)
    v = torch.randn(1, 4, 6)
    loss = make_loss(DistillConfig(temperature=t, soft_weight=1.0, hard_weight=0.0, scale_soft_by_t2=False))
    soft = loss(z, loss.targets(v), None)["soft"]
    (grad,) = torch.autograd.grad(soft, z)
    p, q = F.softmax(z.detach() / t, dim=1), F.softmax(v[0] / t, dim=1)
    # batchmean divides by the batch size
    torch.testing.assert_close(grad, (p - q) / t / 4, rtol=1e-5, atol=1e-7)


def test_unlabelled_batch_gives_soft_term_only():
    loss = make_loss(DistillConfig(soft_weight=1.0, hard_weight=0.0))
    terms = loss(torch.randn(3, 4), loss.targets(torch.randn(1, 3, 4)), None)
    assert set(terms) == {"soft"}


def test_arithmetic_ensemble_is_mean_of_probabilities():
    a, b, t = [2.0, 0.0, 1.0], [0.0, 3.0, -1.0], 2.0
    log_q = ensemble_log_probs(torch.tensor([[a], [b]]), t, "arithmetic")
    pa, pb = softmax(a, t), softmax(b, t)
    expected = [(x + y) / 2 for x, y in zip(pa, pb, strict=True)]
    assert log_q.exp()[0].tolist() == pytest.approx(expected, rel=1e-5)


def test_geometric_ensemble_is_renormalised_geometric_mean():
    a, b, t = [2.0, 0.0, 1.0], [0.0, 3.0, -1.0], 2.0
    log_q = ensemble_log_probs(torch.tensor([[a], [b]]), t, "geometric")
    pa, pb = softmax(a, t), softmax(b, t)
    g = [math.sqrt(x * y) for x, y in zip(pa, pb, strict=True)]
    expected = [x / sum(g) for x in g]
    assert log_q.exp()[0].tolist() == pytest.approx(expected, rel=1e-5)
    assert log_q.exp().sum().item() == pytest.approx(1.0, abs=1e-6)


def test_single_teacher_ensemble_modes_agree():
    v = torch.randn(1, 5, 7)
    torch.testing.assert_close(ensemble_log_probs(v, 2.0, "arithmetic"), ensemble_log_probs(v, 2.0, "geometric"))


def test_logit_matching_is_mse_to_mean_teacher_logits_centred():
    z = torch.tensor([[1.0, 2.0]])
    v = torch.tensor([[[0.0, 0.0]], [[2.0, 4.0]]])  # mean [1, 2]: zero error
    loss = make_loss(DistillConfig(loss="logit_matching", soft_weight=1.0, hard_weight=0.0))
    assert loss(z, loss.targets(v), None)["soft"].item() == pytest.approx(0.0)
    # Each sample's logits are zero-meaned: [3, 2] -> [0.5, -0.5] against [1, 2] -> [-0.5, 0.5]
    z2 = torch.tensor([[3.0, 2.0]])
    assert loss(z2, loss.targets(v), None)["soft"].item() == pytest.approx((1.0**2 + 1.0**2) / 2)
    # so a constant per sample (log-probabilities against logits) changes nothing
    assert loss(z + 7.0, loss.targets(v), None)["soft"].item() == pytest.approx(0.0)
    assert loss(z, loss.targets(torch.log_softmax(v, -1)), None)["soft"].item() == pytest.approx(0.0, abs=1e-6)
    assert loss.weights()["soft"] == 1.0  # no T² for logit matching


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"temperature": 0}, "temperature"),
        ({"temperature": -1}, "temperature"),
        ({"soft_weight": -0.1}, "soft_weight"),
        ({"soft_weight": 0, "hard_weight": 0}, "soft_weight"),
        ({"optimizer": "lbfgs"}, "optimizer"),
        ({"schedule": "exponential"}, "schedule"),
        ({"epochs": 0}, "epochs"),
    ],
)
def test_invalid_hyperparameters_are_rejected_naming_the_field(kwargs, field):
    with pytest.raises(ValueError) as err:
        DistillConfig(**kwargs)
    assert field in str(err.value)


@pytest.mark.parametrize("labelled", [True, False])
@pytest.mark.parametrize("members", [1, 3])
def test_stacked_kd_has_the_separate_terms_gradient_and_epoch_losses(labelled, members):
    torch.manual_seed(0)
    n, c = 40, 7
    loss = make_loss(DistillConfig(temperature=3.0, soft_weight=0.6, hard_weight=0.4 if labelled else 0.0))
    teacher = torch.randn(members, n, c) * 4
    teacher[0, 0, 0] = -1e4  # a probability that underflows to 0 must not make the entropy NaN
    labels = torch.randint(0, c, (n,))
    targets = loss.targets(teacher)
    stacked = loss.fuse(targets, labels if labelled else None, batch_size=16)
    assert stacked.names == (["soft", "hard"] if labelled else ["soft"])
    z = torch.randn(n, c, requires_grad=True)
    batches = torch.randperm(n).split(16)

    sums, fused_grad = [], torch.zeros(n, c)
    for idx in batches:
        zb = z[idx]
        s = stacked(zb, stacked.batch(idx))
        fused_grad += torch.autograd.grad(stacked.loss(s, len(idx)), z)[0]
        sums.append(s.detach())
    expected, separate_grad = {}, torch.zeros(n, c)
    for idx in batches:
        terms = loss(z[idx], targets[idx], labels[idx] if labelled else None)
        separate_grad += torch.autograd.grad(combine(terms, loss.weights()), z)[0]
        for name, value in terms.items():
            expected[name] = expected.get(name, 0.0) + value.item() * len(idx) / n
    torch.testing.assert_close(fused_grad, separate_grad, rtol=1e-5, atol=1e-6)
    got = stacked.epoch_terms(torch.stack(sums).sum(0))
    total = got.pop("total")
    assert got.keys() == expected.keys()
    for name in got:
        assert got[name] == pytest.approx(expected[name], rel=1e-4, abs=1e-6)
    assert total == pytest.approx(sum(loss.weights()[k] * v for k, v in expected.items()), rel=1e-4)


def test_logit_matching_has_no_stacked_form():
    loss = make_loss(DistillConfig(loss="logit_matching"))
    assert loss.fuse(torch.randn(5, 3), torch.randint(0, 3, (5,)), batch_size=2) is None
