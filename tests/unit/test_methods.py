"""DKD, DIST and logit standardisation against independent, straightforward implementations of the
papers' formulas (mdistiller's masked-logit form for DKD, numpy's Pearson correlation for DIST), and the
method protocol around them: parameters validated per method, every term named, weighted and swept."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from pydantic import ValidationError

from models.distill_config import DistillConfig, SweepSpec
from worker.engine.losses import combine, dkd_terms, make_loss, standardize

# Small fixed logits: 4 samples, 5 classes; labels chosen so that one sample's label is not the teacher's
# top class (DKD's target is the label, not the teacher's argmax).
Z = [[1.0, 2.0, 0.5, -1.0, 0.0], [0.3, -0.2, 2.5, 1.0, -1.5], [-1.0, 0.0, 0.5, 3.0, 1.0], [2.0, 2.0, -2.0, 0.0, 1.0]]
V = [[3.0, 0.0, -1.0, 0.5, 1.0], [0.0, 1.0, 4.0, -2.0, 0.0], [1.0, -1.0, 0.0, 2.5, 2.0], [0.5, 3.0, -1.0, 1.0, 0.0]]
Y = [0, 2, 4, 1]


def _reference_dkd(z, v, y, alpha, beta, t):
    """mdistiller's dkd_loss, written out: softmax at T, the binary [target, rest] split by masks, and the
    non-target distribution as a softmax of logits with the target masked by −1000."""
    gt = torch.zeros_like(z).scatter_(1, y[:, None], 1).bool()
    ps, pt = F.softmax(z / t, 1), F.softmax(v / t, 1)
    bs = torch.stack([(ps * gt).sum(1), (ps * ~gt).sum(1)], 1)
    bt = torch.stack([(pt * gt).sum(1), (pt * ~gt).sum(1)], 1)
    tckd = (bt * (bt.log() - bs.log())).sum() * t**2 / len(y)
    nt = F.softmax(v / t - 1000.0 * gt, 1)
    ns = F.log_softmax(z / t - 1000.0 * gt, 1)
    nckd = (torch.where(gt, 0.0, nt * (nt.log() - ns))).sum() * t**2 / len(y)
    return alpha * tckd + beta * nckd


def _dkd(**kw):
    return make_loss(DistillConfig(loss="dkd", **kw))


def test_dkd_value_and_gradient_match_mdistillers_form():
    t, alpha, beta = 4.0, 1.0, 8.0
    loss = _dkd(temperature=t, alpha=alpha, beta=beta, soft_weight=1.0, hard_weight=0.0)
    z = torch.tensor(Z, requires_grad=True)
    v, y = torch.tensor(V), torch.tensor(Y)
    terms = loss(z, loss.targets(v[None]), y)
    assert set(terms) == {"tckd", "nckd"}
    ours = combine(terms, loss.weights())  # epoch None: past the warm-up
    (g_ours,) = torch.autograd.grad(ours, z)
    z2 = torch.tensor(Z, requires_grad=True)
    ref = _reference_dkd(z2, v, y, alpha, beta, t)
    (g_ref,) = torch.autograd.grad(ref, z2)
    assert ours.item() == pytest.approx(ref.item(), rel=1e-5)
    torch.testing.assert_close(g_ours, g_ref, rtol=1e-4, atol=1e-7)
    # Each term alone against the reference with the other weight at 0.
    assert (alpha * t**2 * terms["tckd"]).item() == pytest.approx(_reference_dkd(z2, v, y, 1, 0, t).item(), rel=1e-5)
    assert (t**2 * terms["nckd"]).item() == pytest.approx(_reference_dkd(z2, v, y, 0, 1, t).item(), rel=1e-5)


def test_dkd_terms_recompose_kd_exactly_per_sample():
    """The paper's identity (Zhao et al. 2022, eq. 3): KL(q‖p) = TCKD + (1 − q_t)·NCKD for each sample, where
    q_t is the teacher's probability of the target class at T. So with alpha == beta DKD is *not* KD: the
    unweighted sum TCKD + NCKD exceeds KD by exactly mean(q_t · NCKD), which this test checks too."""
    t = 2.0
    z, v, y = torch.tensor(Z), torch.tensor(V), torch.tensor(Y)
    log_p, log_q = F.log_softmax(z / t, 1), F.log_softmax(v / t, 1)
    tckd, nckd = dkd_terms(log_p, log_q, y)
    kl = (log_q.exp() * (log_q - log_p)).sum(1)
    q_t = log_q.exp().gather(1, y[:, None]).squeeze(1)
    torch.testing.assert_close(tckd + (1 - q_t) * nckd, kl, rtol=1e-5, atol=1e-7)

    dkd = _dkd(temperature=t, alpha=1.0, beta=1.0, hard_weight=0.0)
    kd = make_loss(DistillConfig(loss="kd", temperature=t, soft_weight=1.0, hard_weight=0.0))
    dkd_total = combine(dkd(z, dkd.targets(v[None]), y), dkd.weights()).item()
    kd_total = combine(kd(z, kd.targets(v[None]), y), kd.weights()).item()
    assert dkd_total - kd_total == pytest.approx(t**2 * (q_t * nckd).mean().item(), rel=1e-4)
    assert dkd_total > kd_total  # the gap is real: these logits are no degenerate case


def test_dkd_warms_up_the_distillation_weight_and_keeps_the_hard_term():
    loss = _dkd(temperature=2.0, alpha=0.5, beta=3.0, soft_weight=1.0, hard_weight=0.7, epochs=10,
                distillation_warmup_epochs=4)
    assert loss.weights(1) == {"tckd": pytest.approx(0.5 * 4 / 4), "nckd": pytest.approx(3.0 * 4 / 4),
                               "hard": 0.7}
    assert loss.weights(2)["nckd"] == pytest.approx(3.0 * 4 * 2 / 4)
    assert loss.weights(4) == loss.weights(9) == loss.weights(None)
    assert loss.weights(9)["tckd"] == pytest.approx(0.5 * 4)
    # The paper's default share: 20 warm-up epochs of 240.
    assert DistillConfig(loss="dkd", epochs=240).warmup == 20
    assert DistillConfig(loss="dkd", epochs=3).warmup == 1
    assert DistillConfig(loss="dkd", epochs=3, distillation_warmup_epochs=0).warmup == 0


def test_dkd_on_unlabelled_data_takes_the_teachers_top_class_as_target():
    loss = _dkd(hard_weight=0.0)
    z, v = torch.tensor(Z), torch.tensor(V)
    targets = loss.targets(v[None])
    unlabelled = loss(z, targets, None)
    labelled = loss(z, targets, v.argmax(1))
    assert set(unlabelled) == {"tckd", "nckd"}
    for k in unlabelled:
        assert unlabelled[k].item() == pytest.approx(labelled[k].item(), rel=1e-6)


def _np_pearson_rows(a, b):
    return np.array([np.corrcoef(r, s)[0, 1] for r, s in zip(a, b, strict=True)])


def test_dist_values_match_numpys_pearson_correlation():
    t = 2.0
    loss = make_loss(DistillConfig(loss="dist", temperature=t, inter_weight=1.5, intra_weight=0.5,
                                   soft_weight=1.0, hard_weight=0.0))
    z, v = torch.tensor(Z), torch.tensor(V)
    terms = loss(z, loss.targets(v[None]), None)
    ys, yt = F.softmax(z / t, 1).double().numpy(), F.softmax(v / t, 1).double().numpy()
    inter = 1 - _np_pearson_rows(ys, yt).mean()
    intra = 1 - _np_pearson_rows(ys.T, yt.T).mean()
    assert terms["inter"].item() == pytest.approx(inter, rel=1e-5)
    assert terms["intra"].item() == pytest.approx(intra, rel=1e-5)
    assert loss.weights() == {"inter": pytest.approx(1.5 * t**2), "intra": pytest.approx(0.5 * t**2),
                              "hard": 0.0}


def test_dist_gradient_matches_a_loop_written_pearson():
    t, beta, gamma = 3.0, 2.0, 1.0
    loss = make_loss(DistillConfig(loss="dist", temperature=t, inter_weight=beta, intra_weight=gamma,
                                   hard_weight=0.0))
    z = torch.tensor(Z, dtype=torch.float64, requires_grad=True)
    v = torch.tensor(V, dtype=torch.float64)
    ours = combine(loss(z, loss.targets(v[None]).double(), None), loss.weights())
    (g_ours,) = torch.autograd.grad(ours, z)

    def corr(a, b):  # one pair of vectors, term by term
        n = len(a)
        ma, mb = sum(a) / n, sum(b) / n
        cov = sum((a[i] - ma) * (b[i] - mb) for i in range(n))
        return cov / (sum((x - ma) ** 2 for x in a).sqrt() * sum((x - mb) ** 2 for x in b).sqrt())

    z2 = torch.tensor(Z, dtype=torch.float64, requires_grad=True)
    ys, yt = F.softmax(z2 / t, 1), F.softmax(v / t, 1)
    rows, cols = range(ys.shape[0]), range(ys.shape[1])
    inter = 1 - sum(corr(ys[i], yt[i]) for i in rows) / len(rows)
    intra = 1 - sum(corr(ys[:, c], yt[:, c]) for c in cols) / len(cols)
    ref = t**2 * (beta * inter + gamma * intra)
    (g_ref,) = torch.autograd.grad(ref, z2)
    assert ours.item() == pytest.approx(ref.item(), rel=1e-6)
    torch.testing.assert_close(g_ours, g_ref, rtol=1e-5, atol=1e-9)


def test_dist_relations_are_zero_when_the_student_matches():
    loss = make_loss(DistillConfig(loss="dist", temperature=1.0))
    v = torch.tensor(V)
    terms = loss(v, loss.targets(v[None]), None)
    assert terms["inter"].item() == pytest.approx(0.0, abs=1e-6)
    assert terms["intra"].item() == pytest.approx(0.0, abs=1e-6)


def test_standardize_is_the_per_sample_z_score():
    got = standardize(torch.tensor(Z)).numpy()
    z = np.array(Z)
    expected = (z - z.mean(1, keepdims=True)) / z.std(1, ddof=1, keepdims=True)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("method", ["kd", "dkd"])
def test_logit_standardisation_is_invariant_to_shifting_and_scaling_logits(method):
    cfg = DistillConfig(loss=method, temperature=2.0, logit_standardization=True, soft_weight=1.0, hard_weight=0.0)
    loss = make_loss(cfg)
    z, v, y = torch.tensor(Z), torch.tensor(V), torch.tensor(Y)

    def value(student, teacher):
        return combine(loss(student, loss.targets(teacher[None]), y), loss.weights()).item()

    base = value(z, v)
    assert base > 0.01
    for student, teacher in [(z + 7.0, v), (z, v - 3.0), (z * 5.0, v), (z, v * 0.2), (z * 3 - 2, v * 4 + 1)]:
        assert value(student, teacher) == pytest.approx(base, rel=1e-4)
    plain = make_loss(cfg.model_copy(update={"logit_standardization": False}))
    # Without standardisation a scale does change the loss, so the invariance above is the option's doing.
    assert combine(plain(z * 5.0, plain.targets(v[None]), y), plain.weights()).item() != pytest.approx(
        combine(plain(z, plain.targets(v[None]), y), plain.weights()).item(), rel=1e-2)


def test_standardised_kd_equals_kd_on_hand_standardised_logits():
    t = 3.0
    on = make_loss(DistillConfig(temperature=t, logit_standardization=True, hard_weight=0.0))
    off = make_loss(DistillConfig(temperature=t, hard_weight=0.0))
    z, v = torch.tensor(Z), torch.tensor(V)
    zs = (z - z.mean(1, keepdim=True)) / z.std(1, keepdim=True)
    vs = (v - v.mean(1, keepdim=True)) / v.std(1, keepdim=True)
    assert on(z, on.targets(v[None]), None)["soft"].item() == pytest.approx(
        off(zs, off.targets(vs[None]), None)["soft"].item(), rel=1e-5)
    assert on.fuse(on.targets(v[None]), None, 4) is None  # a z-score is no fixed logit scale


def test_each_method_validates_its_own_parameters():
    assert type(DistillConfig(loss="dkd")).__name__ == "DKDConfig"
    assert DistillConfig.model_validate({"loss": "dist", "inter_weight": 2}).inter_weight == 2
    assert DistillConfig.model_validate({}).loss == "kd"
    with pytest.raises(ValidationError, match="beta"):
        DistillConfig.model_validate({"loss": "kd", "beta": 2})  # another method's parameter
    with pytest.raises(ValidationError, match="logit_standardization"):
        DistillConfig.model_validate({"loss": "logit_matching", "logit_standardization": True})
    with pytest.raises(ValidationError, match="alpha and beta are both 0"):
        DistillConfig(loss="dkd", alpha=0, beta=0)
    with pytest.raises(ValidationError, match="never reach"):
        DistillConfig(loss="dkd", epochs=3, distillation_warmup_epochs=5)
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        DistillConfig(loss="dist", intra_weight=-1)


def test_every_method_parameter_can_be_swept_and_only_on_its_method():
    members = SweepSpec(beta=[0.5, 8]).members(DistillConfig(loss="dkd", alpha=2))
    assert [n for n, _ in members] == ["sweep beta=0.5", "sweep beta=8"]
    assert [(c.alpha, c.beta, c.loss) for _, c in members] == [(2, 0.5, "dkd"), (2, 8, "dkd")]
    members = SweepSpec(inter_weight=[1, 2], intra_weight=[0.5]).members(DistillConfig(loss="dist"))
    assert [(c.inter_weight, c.intra_weight) for _, c in members] == [(1, 0.5), (2, 0.5)]
    with pytest.raises(ValueError, match="beta is not a parameter of loss 'kd'"):
        SweepSpec(beta=[1, 2]).members(DistillConfig())
    with pytest.raises(ValueError, match="alpha and beta are both 0"):
        SweepSpec(alpha=[0], beta=[0]).members(DistillConfig(loss="dkd"))


def test_gradient_norms_of_three_terms_match_separate_backward_passes():
    from worker.engine.loop import _term_grad_norms

    torch.manual_seed(0)
    model = torch.nn.Linear(6, 5)
    x, y, v = torch.randn(8, 6), torch.randint(0, 5, (8,)), torch.randn(1, 8, 5)
    loss = _dkd(temperature=3.0, hard_weight=0.5)
    w = loss.weights()

    def norm_of(name):
        model.zero_grad()
        (w[name] * loss(model(x), loss.targets(v), y)[name]).backward()
        return math.sqrt(sum(float((p.grad**2).sum()) for p in model.parameters()))

    expected = {name: norm_of(name) for name in ("tckd", "nckd", "hard")}
    model.zero_grad()
    terms = loss(model(x), loss.targets(v), y)
    params = list(model.parameters())
    partial = {n: torch.autograd.grad(w[n] * terms[n], params, retain_graph=True) for n in ("tckd", "nckd")}
    combine(terms, w).backward()
    got = _term_grad_norms(list(terms), params, partial)
    assert got.keys() == {"grad_norm_tckd", "grad_norm_nckd", "grad_norm_hard"}
    for name, value in expected.items():
        assert got[f"grad_norm_{name}"] == pytest.approx(value, rel=1e-4), name


@pytest.fixture(scope="module")
def digits_splits(teacher_file):
    from models.transfer_sets import load_builtin
    from tests.unit.test_engine import make_splits

    return make_splits(load_builtin("digits"), torch.jit.load(str(teacher_file)))


@pytest.mark.parametrize(("hyperparameters", "names"), [
    # DKD's defaults weigh NCKD at beta·T² = 128: a smaller step than KD's.
    ({"loss": "dkd", "distillation_warmup_epochs": 2, "learning_rate": 0.01}, ("tckd", "nckd", "hard")),
    ({"loss": "dist"}, ("inter", "intra", "hard")),
    ({"loss": "kd", "logit_standardization": True}, ("soft", "hard")),
    ({"loss": "dkd", "logit_standardization": True, "hard_weight": 0.0, "learning_rate": 0.01}, ("tckd", "nckd")),
])
def test_every_term_is_reported_with_its_own_gradient_norm_each_epoch(digits_splits, hyperparameters, names):
    """Digits has about 20 steps an epoch, far fewer than the measuring interval: each epoch's norms are
    still its own (they differ from the previous epoch's), for every term of the method."""
    from tests.unit.test_engine import student_factory
    from worker.engine.loop import GRAD_NORM_INTERVAL, train_student

    train, val = digits_splits
    cfg = DistillConfig.model_validate({"epochs": 3, "learning_rate": 0.05, **hyperparameters})
    assert len(train) / cfg.batch_size < GRAD_NORM_INTERVAL
    out = train_student(student_factory, train, val, cfg)
    for h in out.history:
        assert {k.removesuffix("_loss") for k in h if k.endswith("_loss")} == {*names, "total"}
        assert {k.removeprefix("grad_norm_") for k in h if k.startswith("grad_norm_")} == set(names)
    for name in names:
        norms = [h[f"grad_norm_{name}"] for h in out.history]
        assert all(n > 0 for n in norms) and all(a != b for a, b in zip(norms, norms[1:], strict=False)), norms
    assert out.history[-1]["val_accuracy"] > 0.5
    if cfg.loss == "dkd":  # the total is the terms at their warmed-up weights: epoch e of W at e/W
        loss = make_loss(cfg)
        for h in out.history:
            w = loss.weights(h["epoch"])
            assert h["total_loss"] == pytest.approx(sum(w[n] * h[f"{n}_loss"] for n in names), rel=1e-4)
        assert loss.weights(1)["nckd"] == pytest.approx(loss.weights(2)["nckd"] / cfg.warmup)


def test_a_method_parameter_out_of_place_is_a_422_naming_the_field(client, teacher_file):
    from tests.unit.test_teacher_cache import upload

    teacher = upload(client, teacher_file)
    ts = client.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"}).json()["id"]
    body = {"teacher_ids": [teacher], "transfer_set_id": ts, "student": {"arch": "mlp"}}
    cases = [
        ({"beta": 2}, None, "hyperparameters.beta", "Extra inputs"),  # DKD's, on kd (the default)
        ({"loss": "dist", "alpha": 1}, None, "hyperparameters.alpha", "Extra inputs"),
        ({"loss": "dkd", "beta": -1}, None, "hyperparameters.beta", "greater than or equal"),
        ({"loss": "logit_matching", "logit_standardization": True}, None, "hyperparameters.logit_standardization",
         "Extra inputs"),
        ({"loss": "distill"}, None, "hyperparameters", "'kd', 'logit_matching', 'dkd', 'dist'"),
        ({"loss": "kd"}, {"beta": [1, 2]}, "sweep", "beta is not a parameter of loss 'kd'"),
    ]
    for hp, sweep, field, words in cases:
        r = client.post("/v1/jobs", json={**body, "hyperparameters": hp, **({"sweep": sweep} if sweep else {})})
        assert r.status_code == 422, (hp, r.text)
        errors = r.json()["errors"]
        assert any(e["field"] == field and words in e["message"] for e in errors), (hp, errors)
    r = client.post("/v1/jobs", json={**body, "hyperparameters": {"loss": "dkd", "beta": 2, "epochs": 1},
                                      "sweep": {"alpha": [0.5, 1]}})
    assert r.status_code == 202, r.text
    assert r.json()["hyperparameters"]["beta"] == 2 and r.json()["hyperparameters"]["loss"] == "dkd"


def test_auto_soft_weight_follows_a_ten_times_larger_hard_gradient(digits_splits):
    """Scaling the labels' weight by ten makes the hard term's gradient ten times larger; the soft weight
    chosen on the first batch (same initialisation, same batch) is then ten times larger too, and the
    weighted gradient norms stand in the asked proportion."""
    from tests.unit.test_engine import student_factory
    from worker.engine.loop import train_student

    train, val = digits_splits
    base = {"epochs": 2, "learning_rate": 0.05, "soft_weight": "auto", "soft_to_hard_grad_ratio": 2.0}
    runs = {b: train_student(student_factory, train, val, DistillConfig.model_validate({**base, "hard_weight": b}))
            for b in (0.1, 1.0)}
    first = {b: out.history[0] for b, out in runs.items()}
    assert first[1.0]["soft_weight"] == pytest.approx(10 * first[0.1]["soft_weight"], rel=1e-4)
    for out in runs.values():
        assert all(h["soft_weight"] > 0 for h in out.history)
        assert out.history[1]["soft_weight"] != out.history[0]["soft_weight"]  # re-measured in epoch 2
        for h in out.history:  # each epoch's norms come from the batch that chose its weight
            assert h["grad_norm_soft"] / h["grad_norm_hard"] == pytest.approx(2.0, rel=1e-3)
    assert runs[1.0].history[-1]["val_accuracy"] > 0.5


def test_auto_soft_weight_with_dkd_keeps_the_warm_up_on_top(digits_splits):
    from tests.unit.test_engine import student_factory
    from worker.engine.loop import train_student

    train, val = digits_splits
    cfg = DistillConfig(loss="dkd", epochs=2, learning_rate=0.01, soft_weight="auto", distillation_warmup_epochs=2)
    out = train_student(student_factory, train, val, cfg)
    h = out.history[0]
    # In epoch 1 of a 2-epoch warm-up the distillation part is at half weight: half the hard gradient.
    assert (h["grad_norm_tckd"] + h["grad_norm_nckd"]) >= 0.5 * h["grad_norm_hard"] * (1 - 1e-3)
    loss = make_loss(cfg)
    loss.soft_weight = h["soft_weight"]
    assert h["total_loss"] == pytest.approx(sum(loss.weights(1)[n] * h[f"{n}_loss"] for n in ("tckd", "nckd", "hard")),
                                            rel=1e-4)


def test_auto_soft_weight_needs_a_hard_term():
    with pytest.raises(ValidationError, match="hard_weight is 0"):
        DistillConfig(soft_weight="auto", hard_weight=0)
    with pytest.raises(ValidationError, match="soft_weight"):
        DistillConfig(soft_weight="automatic")
    assert DistillConfig(loss="dist", soft_weight="auto").auto_soft_weight


def test_auto_temperature_halves_the_grid_on_validation_cross_entropy_within_the_cost(digits_splits):
    """Successive halving over [1, 2, 5, 10, 20]: 5 candidates, then 2, then the winner trains on to the end.
    The winner's run is exactly the run it would have been alone at its temperature, and the whole search,
    timed, costs at most 2.5 times that one run."""
    import time

    from tests.unit.test_engine import student_factory
    from worker.engine.loop import train_student
    from worker.engine.search import search_temperature

    train, val = digits_splits
    cfg = DistillConfig(temperature="auto", temperature_method="halving", epochs=10, learning_rate=0.05)
    assert cfg.temperature_search() == (1, [5, 2])
    events, reported = [], []
    # Timed as this process's CPU time on one intra-op thread: on a 2-core machine shared with other work,
    # wall time with two threads waiting on each other's barriers varies several-fold between runs.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train_student(student_factory, train, val, cfg.model_copy(update={"temperature": 2.0, "epochs": 1}))  # warm
        started = time.process_time()
        found = search_temperature(student_factory, [(train, val)], cfg, event=lambda *a: events.append(a),
                                   on_epoch=lambda e, m: reported.append(e))
        search_seconds = time.process_time() - started
        started = time.process_time()
        alone = train_student(student_factory, train, val, cfg.model_copy(update={"temperature": found.chosen}))
        one_run_seconds = time.process_time() - started
    finally:
        torch.set_num_threads(threads)

    rounds = [[(r["temperature"], r["status"]) for r in found.rounds if r["round"] == n] for n in (1, 2)]
    assert len(rounds[0]) == 5 and len(rounds[1]) == 2
    for n, rows in ((1, found.rounds[:5]), (2, found.rounds[5:])):
        scores = [r["val_cross_entropy"] for r in rows]
        assert scores == sorted(scores), n  # ranked on validation cross-entropy, best first
        assert all(r["epochs"] == n for r in rows)
    assert [s for _, s in rounds[0]] == ["continues"] * 2 + ["dropped"] * 3
    assert {t for t, _ in rounds[1]} == {t for t, s in rounds[0] if s == "continues"}
    assert rounds[1][0] == (found.chosen, "chosen") and rounds[1][1][1] == "dropped"
    assert found.margin == pytest.approx(found.rounds[6]["val_cross_entropy"] - found.rounds[5]["val_cross_entropy"])
    assert found.margin >= 0
    assert [e[0] for e in events] == ["temperature_round", "temperature_round", "temperature_chosen"]
    assert events[-1][2] == {"temperature": found.chosen, "margin": found.margin, "folds": 1}
    assert reported == list(range(1, 11))  # the winner's epochs, each once
    assert found.epochs_trained == 10 + 4 * 1 + 1 * 1  # the winner's run, 4 dropped after 1, 1 after 2
    for k, v in alone.model.state_dict().items():
        assert torch.equal(v, found.outcome.model.state_dict()[k]), k
    assert search_seconds <= 2.5 * one_run_seconds, (search_seconds, one_run_seconds)


def test_validation_folds_score_each_temperature_on_every_fold(digits_splits):
    """Three folds: each temperature trains once per fold, its score is the mean of its folds', and the winner's
    first fold, whose split is the run's own, goes on to the end."""
    from tests.unit.test_engine import student_factory
    from worker.engine.loop import Split, train_student
    from worker.engine.search import fold_indices, search_temperature

    train, val = digits_splits
    full = Split(torch.cat([train.x, val.x]), torch.cat([train.y, val.y]),
                 torch.cat([train.teacher_logits, val.teacher_logits], dim=1))
    folds = [(full.subset(t), full.subset(v)) for t, v in fold_indices(len(full), 3, seed=0)]
    held = torch.cat([v for _, v in fold_indices(len(full), 3, seed=0)])
    assert sorted(held.tolist()) == list(range(len(full)))  # every sample is held back exactly once
    cfg = DistillConfig(temperature="auto", temperature_method="halving", temperature_grid=[1.0, 5.0], epochs=4,
                        learning_rate=0.05, validation_folds=3)
    events = []
    found = search_temperature(student_factory, folds, cfg, event=lambda *a: events.append(a),
                               on_epoch=lambda e, m: None)
    per_round, _ = cfg.temperature_search()
    for row in found.rounds:  # the mean over folds, each fold's run repeated alone
        fold_ce = [train_student(student_factory, t, v, cfg.model_copy(update={
            "temperature": row["temperature"], "epochs": per_round})).history[-1]["val_cross_entropy"]
            for t, v in folds]
        assert row["folds"] == 3
        assert row["val_cross_entropy"] == pytest.approx(sum(fold_ce) / 3, rel=1e-5)
    assert found.epochs_trained == 4 + 3 * per_round + 2 * per_round  # winner's run; the loser's 3 folds; 2 folds
    alone = train_student(student_factory, *folds[0], cfg.model_copy(update={"temperature": found.chosen}))
    for k, v in alone.model.state_dict().items():
        assert torch.equal(v, found.outcome.model.state_dict()[k]), k
    assert events[-1][2]["folds"] == 3 and "mean of 3 folds" in events[-1][1]


def test_one_score_ranks_sweep_members_and_temperature_candidates():
    from worker.engine.search import score

    labelled = [{"val_cross_entropy": 0.31, "val_accuracy": 0.9}, {"val_cross_entropy": 0.30, "val_accuracy": 0.8}]
    assert sorted(labelled, key=score) == labelled[::-1]  # cross-entropy first, finer than accuracy
    unlabelled = [{"val_teacher_agreement": 0.9, "val_accuracy": None, "val_cross_entropy": None},
                  {"val_teacher_agreement": 0.95}]
    assert sorted(unlabelled, key=score) == unlabelled[::-1]
    assert score({"val_accuracy": 0.75}) == pytest.approx(0.25)
    assert score({}) == float("inf")  # a run with nothing measured ranks last


def test_validation_folds_belong_to_temperature_auto():
    with pytest.raises(ValidationError, match="validation_folds"):
        DistillConfig(temperature=2.0, validation_folds=3)
    with pytest.raises(ValidationError, match="validation_folds"):
        DistillConfig(temperature="auto", temperature_method="halving", validation_folds=11)
    assert DistillConfig(temperature="auto", temperature_method="halving", validation_folds=3,
                         validation_fraction=0).validation_folds == 3
    # A job's baseline trains on labels at T = 1: no search, so no folds either.
    cfg = DistillConfig(temperature="auto", temperature_method="halving", validation_folds=3)
    DistillConfig.model_validate({**cfg.model_dump(), **cfg.baseline_update()})


def test_auto_temperature_is_refused_where_it_cannot_fit():
    with pytest.raises(ValidationError, match="more than 2.5× epochs"):
        DistillConfig(temperature="auto", temperature_method="halving", epochs=3)
    with pytest.raises(ValidationError, match="validation_fraction"):
        DistillConfig(temperature="auto", temperature_method="halving", validation_fraction=0)
    with pytest.raises(ValidationError, match="repeats"):
        DistillConfig(temperature="auto", temperature_grid=[1, 2, 2])
    with pytest.raises(ValueError, match="search of its own"):
        SweepSpec(soft_weight=[0.2, 0.5]).members(DistillConfig(temperature="auto"))
    assert DistillConfig(temperature="auto", temperature_method="halving", temperature_grid=[2, 4],
                         epochs=2).temperature_search() == (1, [2])


def test_the_generated_client_reads_numbers_and_auto_for_number_or_auto_settings():
    """openapi-python-client parses a number-or-const union by the const alone: "auto" is a one-value enum
    in the schema so that a client reading {"temperature": 4} gets 4, not an error."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = ("from distillery_client.models import JobCreate\n"
            "body = {'teacher_ids': ['t'], 'transfer_set_id': 's', 'student': {'arch': 'mlp'}, 'hyperparameters': "
            "{'loss': 'dkd', 'temperature': 4, 'soft_weight': 'auto', 'beta': 2}}\n"
            "hp = JobCreate.from_dict(body).to_dict()['hyperparameters']\n"
            "assert hp['temperature'] == 4 and hp['soft_weight'] == 'auto' and hp['beta'] == 2, hp\n"
            "kd = JobCreate.from_dict({**body, 'hyperparameters': {'temperature': 0.5}}).hyperparameters\n"
            "assert type(kd).__name__ == 'KDConfig' and kd.temperature == 0.5, kd\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "PYTHONPATH": str(root / "clients" / "python")})
    assert done.returncode == 0, done.stderr
