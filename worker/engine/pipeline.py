"""One distillation experiment from data to measured students, with no database or queue.

The job runner wraps this with persistence; ``bench/paper_table.py`` calls it directly.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import torch
from torch import nn

from models.distill_config import DistillConfig
from models.export import PlainSoftmax
from models.lazy_inputs import is_lazy
from models.transfer_sets import TransferData
from worker.engine.bias import tune_logit_bias
from worker.engine.distributed import train_distributed
from worker.engine.evaluate import classification_report, predict_logits
from worker.engine.loop import Split, TrainResult, resolve_device, teacher_logits, train_student, validation_split
from worker.engine.losses import ensemble_log_probs
from worker.engine.members import train_members, why_not_batched
from worker.engine.quantization_aware import fine_tune
from worker.engine.search import fold_indices, search_temperature
from worker.engine.soft_targets import soft_target_search
from worker.engine.teacher_cache import TeacherOutputCache
from worker.engine.temperature_check import check_into


@dataclass
class Experiment:
    teachers: list[nn.Module]
    data: TransferData
    make_student: Callable[[], nn.Module]
    num_classes: int
    config: DistillConfig
    omit_classes: list[int] = field(default_factory=list)
    bias_correction: bool = False
    baseline: bool = False
    validation: TransferData | None = None
    cache: TeacherOutputCache | None = None
    cache_keys: list[str] | None = None  # one per teacher, from teacher_cache.cache_key
    max_device_bytes: int | None = None
    max_cpu_processes: int | None = None  # config.devices > 1 on the CPU: the most ranks this worker starts
    input_dtype: str = "float32"  # the teachers': the exported student takes it too
    # quantization_aware: the distilled student fine-tuned this many epochs under fake quantization, kept
    # beside it as students["quantization_aware"] (the INT8 export's source)
    quantization_aware_epochs: int = 0

    @property
    def run_names(self) -> list[str]:
        return ["distilled", "baseline"] if self.baseline else ["distilled"]


@dataclass
class Outcome:
    results: dict  # "teacher", "student" (the distilled one), "baseline": each a classification report
    students: dict[str, PlainSoftmax]


class Hooks:
    """What the caller wants to hear about; the defaults ignore everything."""

    def run_started(self, name: str) -> None: ...
    def epoch_done(self, name: str, epoch: int, metrics: dict[str, float]) -> None: ...
    def step_done(self, name: str, epoch: int, step: int, steps_per_epoch: int) -> None: ...
    def run_finished(self, name: str, result: dict, student: nn.Module) -> None: ...
    def event(self, type_: str, message: str, data: dict | None = None) -> None: ...
    def checkpoint(self, name: str, state: dict) -> None: ...

    def resume_state(self, name: str) -> dict | None:
        """A checkpoint of the run to go on from, if an earlier attempt left one."""
        return None

    def completed(self, name: str) -> tuple[dict, dict] | None:
        """(result, student state dict) of a run an earlier attempt finished."""
        return None

    def should_stop(self) -> bool:
        return False


def _inputs(x):
    return x if is_lazy(x) else torch.from_numpy(x)


def _tensors(x, y) -> Split:
    return Split(_inputs(x), None if y is None else torch.from_numpy(y))


def _without(split: Split, classes: list[int]) -> Split:
    if not classes or split.y is None:
        return split
    return split.subset((~torch.isin(split.y, torch.tensor(classes))).nonzero().squeeze(1))


def _omitted_errors(report: dict, omit: list[int]) -> dict:
    if not omit or "per_class_errors" not in report:
        return {}
    return {"omitted_class_errors": sum(report["per_class_errors"].get(str(c), 0) for c in omit)}


def teacher_outputs(exp: Experiment, device, hooks: Hooks) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Every member's logits on the train part and the test part: [members, N, classes] each.

    Read from the cache when every member is there; otherwise computed, and stored for next time.
    """
    parts = {"train": _inputs(exp.data.x_train)}
    if exp.data.x_test is not None:
        parts["test"] = _inputs(exp.data.x_test)
    use_cache = exp.cache is not None and exp.cache_keys and exp.config.teacher_cache
    if exp.config.augmenting:
        use_cache = False
        hooks.event("cache_bypassed", "augmentation is on: the teacher runs on every augmented training batch")
    members: list[dict[str, torch.Tensor]] = []
    built = 0
    for i, teacher in enumerate(exp.teachers):
        entry = exp.cache.get(exp.cache_keys[i]) if use_cache else None
        if entry is None or set(entry) != set(parts):
            entry = {name: teacher_logits([teacher], x, device=device)[0] for name, x in parts.items()}
            if use_cache:
                exp.cache.put(exp.cache_keys[i], entry)
            built += 1
        members.append(entry)
    if use_cache:
        kind = "cache_hit" if built == 0 else "cache_built"
        hooks.event(kind, f"teacher outputs: {len(exp.teachers) - built} of {len(exp.teachers)} member(s) "
                          "read from the cache", {"keys": exp.cache_keys, "built": built})
    elif not exp.config.augmenting:
        hooks.event("teacher_outputs", "teacher outputs computed once for this job (cache off)")
    stacked = {name: torch.stack([m[name] for m in members]) for name in parts}
    return stacked["train"], stacked.get("test")


@dataclass
class _Prepared:
    """The splits every run of an experiment trains and is measured on."""

    train_full: Split  # before classes are omitted: with val_full, what bias correction tunes on
    val_full: Split
    folds: list[tuple[Split, Split]]  # (train, validation) as runs see them; temperature "auto" scores on each
    test: Split | None
    teacher_probs: torch.Tensor | None  # on the test split, at T = 1

    @property
    def train(self) -> Split:
        return self.folds[0][0]

    @property
    def val(self) -> Split:
        return self.folds[0][1]


def _prepare(exp: Experiment, hooks: Hooks) -> _Prepared:
    cfg = exp.config
    device = resolve_device(cfg.device)
    train_logits, test_logits = teacher_outputs(exp, device, hooks)
    full = _tensors(exp.data.x_train, exp.data.y_train)
    full.teacher_logits = train_logits
    if exp.validation is not None:
        val = _tensors(exp.validation.x_train, exp.validation.y_train)
        val.teacher_logits = teacher_logits(exp.teachers, val.x, device=device)
        splits = [(full, val)]
    elif cfg.auto_temperature and cfg.validation_folds > 1:
        splits = [(full.subset(t), full.subset(v)) for t, v in fold_indices(len(full), cfg.validation_folds, cfg.seed)]
    else:
        train_idx, val_idx = validation_split(len(full), cfg.validation_fraction, cfg.seed)
        splits = [(full.subset(train_idx), full.subset(val_idx))]
    train_full, val_full = splits[0]
    folds = [(_trainable(t, exp, cfg), _without(v, exp.omit_classes)) for t, v in splits]
    test, teacher_probs = None, None
    if exp.data.x_test is not None:
        test = _tensors(exp.data.x_test, exp.data.y_test)
        teacher_probs = ensemble_log_probs(test_logits, 1.0, cfg.ensemble).exp()
    return _Prepared(train_full, val_full, folds, test, teacher_probs)


def _trainable(split: Split, exp: Experiment, cfg: DistillConfig) -> Split:
    split = _without(split, exp.omit_classes)
    if cfg.augmenting:  # the teacher sees the same augmented batch as the student
        split = Split(split.x, split.y)
    return split


def _measure(exp: Experiment, prep: _Prepared, name: str, outcome: TrainResult) -> tuple[dict, PlainSoftmax]:
    """A trained run's result (best epoch, validation and test reports) and its plain-softmax student."""
    best = outcome.history[outcome.best_epoch - 1]
    result: dict = {"best_epoch": outcome.best_epoch, "epochs_run": outcome.epochs_run,
                    "stopped_early": outcome.stopped_early,
                    **{k: best.get(k) for k in ("val_accuracy", "val_cross_entropy", "val_teacher_agreement")}}
    logit_bias = None
    # Only the distilled student gets the raise: the baseline stays the paper's comparison.
    if name == "distilled" and exp.omit_classes and exp.bias_correction:
        device = resolve_device(exp.config.device)
        # Every labelled sample the transfer set holds: the omitted classes' are unseen in all of them.
        seen = [prep.train_full, prep.val_full]
        logits = torch.cat([predict_logits(outcome.model, s.x, device=device) for s in seen])
        result["bias_correction"], logit_bias = tune_logit_bias(logits, torch.cat([s.y for s in seen]),
                                                                exp.omit_classes)
    student = PlainSoftmax(outcome.model.cpu(), exp.num_classes, logit_bias, exp.input_dtype).eval()
    if prep.test is not None:
        report = classification_report(predict_logits(student, prep.test.x), prep.test.y,
                                       prep.teacher_probs.argmax(1))
        result = {**report, **_omitted_errors(report, exp.omit_classes), **result}
    return result, student


def _teacher_report(exp: Experiment, prep: _Prepared) -> dict | None:
    if prep.test is None or prep.test.y is None:
        return None
    report = classification_report(prep.teacher_probs, prep.test.y)
    return {**report, **_omitted_errors(report, exp.omit_classes)}


def _epoch_done(hooks: Hooks, name: str, cfg: DistillConfig) -> Callable[[int, dict[str, float]], None]:
    """The run's epoch hook; with soft_weight "auto" each epoch's chosen weight is an event too."""
    def done(epoch: int, metrics: dict[str, float]) -> None:
        hooks.epoch_done(name, epoch, metrics)
        if "soft_weight" in metrics:
            hooks.event("soft_weight_chosen", f"epoch {epoch}: soft_weight {metrics['soft_weight']:.4g}, so that the "
                        f"distillation and hard gradients stand at {cfg.soft_to_hard_grad_ratio:g} : 1",
                        {"run": name, "epoch": epoch, "soft_weight": metrics["soft_weight"],
                         "soft_to_hard_grad_ratio": cfg.soft_to_hard_grad_ratio})
    return done


def run_experiment(exp: Experiment, hooks: Hooks | None = None) -> Outcome:
    hooks = hooks or Hooks()
    cfg = exp.config
    prep = _prepare(exp, hooks)
    results: dict = {}
    students: dict[str, PlainSoftmax] = {}
    for name in exp.run_names:
        run_cfg, run_train = cfg, prep.train
        if name == "baseline":  # the same student and budget, labels alone, no teacher
            run_cfg = cfg.model_copy(update=cfg.baseline_update())
            run_train = Split(prep.train.x, prep.train.y)
        done = hooks.completed(name)
        if done is not None:  # an earlier attempt finished this run: take its student as it was
            result, state = done
            student = PlainSoftmax(exp.make_student(), exp.num_classes, input_dtype=exp.input_dtype)
            student.load_state_dict(state)
            results["student" if name == "distilled" else name] = result
            students[name] = student.eval()
            continue
        hooks.run_started(name)
        checked = run_cfg.auto_temperature and run_cfg.temperature_method == "soft_targets_checked"
        if run_cfg.auto_temperature and not run_cfg.halving:  # the temperature the teacher's outputs suggest
            trained_on = _without(prep.train_full, exp.omit_classes).teacher_logits
            run_cfg, results["temperature_search"] = soft_target_search(trained_on, run_cfg, hooks.event)
        if run_cfg.halving:
            outcome = _search(exp, prep, run_cfg, hooks, results)
        elif checked and run_cfg.temperature != min(run_cfg.temperature_grid):
            outcome = check_into(results["temperature_search"], exp.make_student, prep.train, prep.val, run_cfg,
                                 event=hooks.event, on_epoch=_epoch_done(hooks, name, run_cfg),
                                 should_stop=hooks.should_stop, teachers=exp.teachers,
                                 max_device_bytes=exp.max_device_bytes)
            run_cfg = run_cfg.model_copy(update={"temperature": results["temperature_search"]["chosen"]})
        else:
            # config.devices > 1: the same call, run by this process as rank 0 of several
            train = train_student if run_cfg.devices == 1 else partial(train_distributed,
                                                                       max_cpu_processes=exp.max_cpu_processes)
            outcome = train(exp.make_student, run_train, prep.val, run_cfg,
                            on_epoch=_epoch_done(hooks, name, run_cfg),
                            on_step=lambda e, i, n, name=name: hooks.step_done(name, e, i, n),
                            should_stop=hooks.should_stop,
                            teachers=exp.teachers if name == "distilled" else None,
                            max_device_bytes=exp.max_device_bytes,
                            on_checkpoint=lambda state, name=name: hooks.checkpoint(name, state),
                            resume=hooks.resume_state(name))
        result, student = _measure(exp, prep, name, outcome)
        if name == "distilled" and "temperature_search" in results:
            result["temperature"] = results["temperature_search"]["chosen"]
            search = results["temperature_search"]
            if search["method"] != "halving":  # the choice's cost: the runs it trained, the kept one included
                search["epochs_trained"] = search.get("epochs_checked", 0) + outcome.epochs_run
                search["epochs_in_runs"] = search["epochs_trained"] / run_cfg.epochs
        hooks.run_finished(name, result, student)
        results["student" if name == "distilled" else name] = result
        students[name] = student

    if exp.quantization_aware_epochs:
        _quantization_aware(exp, prep, hooks, results, students)
    teacher = _teacher_report(exp, prep)
    if teacher is not None:
        results["teacher"] = teacher
    return Outcome(results, students)


def _quantization_aware(exp: Experiment, prep: _Prepared, hooks: Hooks, results: dict,
                        students: dict[str, PlainSoftmax]) -> None:
    """The distilled student fine-tuned under the INT8 export's rounding, from the same teacher outputs with
    the same loss (at the temperature the run chose): ``students["quantization_aware"]``, its float weights,
    and ``results["quantization_aware"]``, what the fine-tune did."""
    distilled, epochs = students["distilled"], exp.quantization_aware_epochs
    hooks.event("quantization_aware_started", f"the student fine-tunes {epochs} epoch(s) under INT8 fake "
                "quantization", {"epochs": epochs})
    net, summary = fine_tune(distilled.student, prep.train, prep.val, exp.config, epochs=epochs,
                             calibration_x=exp.data.x_train,
                             teachers=exp.teachers if prep.train.teacher_logits is None else None,
                             temperature=results["student"].get("temperature"), should_stop=hooks.should_stop,
                             max_device_bytes=exp.max_device_bytes)
    students["quantization_aware"] = PlainSoftmax(net, exp.num_classes, distilled.logit_bias,
                                                  exp.input_dtype).eval()
    results["quantization_aware"] = summary
    hooks.event("quantization_aware_done", f"quantization-aware fine-tune done: {summary['epochs']} epoch(s)",
                summary)


def _search(exp: Experiment, prep: "_Prepared", cfg: DistillConfig, hooks: Hooks, results: dict) -> TrainResult:
    """temperature "auto": the search's rounds go to ``results["sweep"]``, its choice and cost to
    ``results["temperature_search"]``. A search is not checkpointed: an attempt that dies starts it again."""
    started = time.perf_counter()
    found = search_temperature(exp.make_student, prep.folds, cfg, event=hooks.event,
                               on_epoch=_epoch_done(hooks, "distilled", cfg), should_stop=hooks.should_stop,
                               teachers=exp.teachers, max_device_bytes=exp.max_device_bytes)
    results["sweep"] = found.rounds
    results["best_member"] = next(r["name"] for r in found.rounds if r["status"] == "chosen")
    results["temperature_search"] = {
        "chosen": found.chosen, "margin": found.margin, "chosen_on": "val_cross_entropy", "method": "halving",
        "validation_folds": len(prep.folds),
        "epochs_trained": found.epochs_trained, "epochs_in_runs": found.epochs_trained / cfg.epochs,
        "seconds": time.perf_counter() - started}
    return found.outcome


def run_members(exp: Experiment, configs: list[DistillConfig], hooks: list[Hooks]) -> list[Outcome]:
    """Sweep members that differ only in their loss settings, each with its own hooks: trained together
    as one batched model where ``worker.engine.members`` allows it, else one after another. Each outcome
    is what ``run_experiment`` would give that member alone (its student is the ``distilled`` run)."""
    prep = _prepare(exp, hooks[0])
    for h in hooks:
        h.run_started("distilled")
    if why_not_batched(configs, prep.train, exp.make_student()) is None:
        hooks[0].event("members_batched", f"{len(configs)} sweep members train together as one batched model")
        trained = train_members(exp.make_student, prep.train, prep.val, configs,
                                on_epoch=lambda m, e, metrics: hooks[m].epoch_done("distilled", e, metrics),
                                should_stop=lambda: any([h.should_stop() for h in hooks]),
                                max_device_bytes=exp.max_device_bytes)
    else:
        trained = [train_student(exp.make_student, prep.train, prep.val, c,
                                 on_epoch=_epoch_done(h, "distilled", c),
                                 should_stop=h.should_stop, max_device_bytes=exp.max_device_bytes)
                   for c, h in zip(configs, hooks, strict=True)]
    teacher = _teacher_report(exp, prep)
    outcomes = []
    for outcome, h in zip(trained, hooks, strict=True):
        result, student = _measure(exp, prep, "distilled", outcome)
        h.run_finished("distilled", result, student)
        outcomes.append(Outcome({"student": result, **({"teacher": teacher} if teacher else {})},
                                {"distilled": student}))
    return outcomes
