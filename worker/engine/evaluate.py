"""Measuring a classifier: accuracy, errors per class, agreement with the teacher, calibration."""

import torch
from torch import nn


@torch.no_grad()
def predict_logits(model: nn.Module, x, *, batch_size: int = 1024,
                   device: torch.device | str = "cpu") -> torch.Tensor:
    """Logits on ``x``: a tensor, or streamed inputs (``LazyInputs``), read batch by batch."""
    from models.lazy_inputs import is_lazy

    model.eval()
    if is_lazy(x):
        chunks = list(torch.arange(len(x)).split(batch_size))
        batches = x.batches(chunks)
    else:
        batches = (x[i:i + batch_size] for i in range(0, len(x), batch_size))
    out = [model(b.to(device, non_blocking=True)).float().cpu() for b in batches]
    return torch.cat(out) if out else torch.empty(0)


def expected_calibration_error(probs: torch.Tensor, labels: torch.Tensor, bins: int = 15) -> float:
    """Mean gap between confidence and accuracy over equal-width confidence bins, weighted by count."""
    conf, pred = probs.max(dim=1)
    correct = (pred == labels).float()
    edges = torch.linspace(0, 1, bins + 1)
    ece = torch.zeros(())
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        in_bin = (conf > lo) & (conf <= hi)
        if in_bin.any():
            ece += in_bin.float().mean() * (conf[in_bin].mean() - correct[in_bin].mean()).abs()
    return float(ece)


def classification_report(probs: torch.Tensor, labels: torch.Tensor | None,
                          teacher_pred: torch.Tensor | None = None) -> dict:
    pred = probs.argmax(dim=1)
    report: dict = {"samples": len(pred)}
    if labels is not None:
        wrong = pred != labels
        report["test_errors"] = int(wrong.sum())
        report["test_accuracy"] = float(1 - wrong.float().mean()) if len(pred) else None
        classes = int(max(probs.shape[1], int(labels.max()) + 1 if len(labels) else 0))
        per_class = torch.bincount(labels[wrong], minlength=classes)
        report["per_class_errors"] = {str(c): int(n) for c, n in enumerate(per_class.tolist())}
        report["ece"] = expected_calibration_error(probs, labels)
    if teacher_pred is not None:
        report["teacher_agreement"] = float((pred == teacher_pred).float().mean()) if len(pred) else None
    return report
