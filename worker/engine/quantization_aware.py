"""Quantization-aware fine-tuning (``quantization_aware: true``): after the distillation, the student trains a
few more epochs with its layers fake-quantized as the INT8 export will quantize them (worker/engine/fake_quant.py),
still distilling from the teacher's outputs with the job's own loss. Its float weights, stripped of the fake
quantization, are then what ONNX Runtime's static quantization rounds into the ``onnx_int8`` file.

The activation ranges are observed on the very calibration samples the export calibrates on
(``models.int8.calibration_samples``), again after every epoch, since the weights move them.
"""

from collections.abc import Callable

import torch
from torch import nn

from models import int8
from models.distill_config import DistillConfig
from worker.engine import fake_quant
from worker.engine.loop import Split, train_student

# A fine-tune starts from a trained student: a tenth of the job's rate moves it to the rounding's grid
# without undoing the distillation.
LEARNING_RATE_FACTOR = 0.1


def fine_tune_config(cfg: DistillConfig, epochs: int, temperature: float | None = None) -> DistillConfig:
    """The job's loss and optimizer for ``epochs`` more epochs at a tenth of the rate, at a constant rate, in
    fp32 (the rounding is computed in float32), on one device, at the temperature the job trained at."""
    update = {"epochs": epochs, "learning_rate": cfg.learning_rate * LEARNING_RATE_FACTOR, "schedule": "constant",
              "warmup_epochs": 0, "early_stopping_patience": None, "precision": "fp32", "compile": False,
              "devices": 1}
    if temperature is not None:
        update["temperature"] = temperature
    return cfg.model_copy(update=update)


def fine_tune(student: nn.Module, train: Split, val: Split | None, cfg: DistillConfig, *, epochs: int,
              calibration_x, teachers: list[nn.Module] | None = None, temperature: float | None = None,
              on_epoch: Callable[[int, dict[str, float]], None] | None = None,
              should_stop: Callable[[], bool] | None = None,
              max_device_bytes: int | None = None) -> tuple[nn.Module, dict]:
    """The float network of ``student`` (a trained copy is taken; ``student`` is left as it is) fine-tuned
    under fake quantization, and a summary. ``calibration_x``: the transfer set's inputs, of which the
    export's calibration subset is taken."""
    samples = torch.from_numpy(int8.calibration_samples(calibration_x))
    quantized = fake_quant.prepare(student)
    fake_quant.calibrate(quantized, samples)

    def done(epoch: int, metrics: dict[str, float]) -> None:
        fake_quant.calibrate(quantized, samples)  # the next epoch rounds with the ranges the weights give now
        if on_epoch is not None:
            on_epoch(epoch, metrics)

    run_cfg = fine_tune_config(cfg, epochs, temperature)
    outcome = train_student(lambda: quantized, train, val, run_cfg, on_epoch=done, should_stop=should_stop,
                            teachers=teachers, max_device_bytes=max_device_bytes)
    best = outcome.history[outcome.best_epoch - 1]
    summary = {"epochs": outcome.epochs_run, "best_epoch": outcome.best_epoch,
               "learning_rate": run_cfg.learning_rate, "calibration_samples": len(samples),
               **{k: best.get(k) for k in ("val_accuracy", "val_cross_entropy") if best.get(k) is not None}}
    return fake_quant.strip(outcome.model).cpu().eval(), summary
