"""Bias correction for classes left out of the transfer set (Hinton et al., section 3).

A student that never saw a class still learns it from the soft targets, but its output bias for
that class stays too low. Raising that class's logit by one shared amount, chosen on the
training split, recovers most of it.
"""

import torch

DEFAULT_GRID = tuple(x / 2 for x in range(0, 41))  # 0, 0.5, ..., 20


def tune_logit_bias(logits: torch.Tensor, labels: torch.Tensor, classes: list[int],
                    grid=DEFAULT_GRID) -> tuple[float, torch.Tensor]:
    """The raise, from ``grid``, that maximises accuracy; ties go to the smallest raise."""
    mask = torch.zeros(logits.shape[1])
    mask[classes] = 1.0
    best_delta, best_acc = 0.0, -1.0
    for delta in grid:
        acc = float(((logits + delta * mask).argmax(1) == labels).float().mean())
        if acc > best_acc:
            best_delta, best_acc = delta, acc
    return best_delta, best_delta * mask
