"""The engine's side of the distillation methods: the loss a config asks for, and its weighted sum.

Each method (its parameters, its loss and its name) is one module of ``models/methods/``; the training loop
knows no method by name. The names below are re-exported for the engine's other modules.
"""

import torch

from models.methods import LOSSES
from models.methods.dkd import dkd_terms
from models.methods.loss import DistillationLoss, ensemble_log_probs, grad_norm, standardize
from models.methods.settings import DistillConfig

__all__ = ["LOSSES", "combine", "dkd_terms", "ensemble_log_probs", "grad_norm", "make_loss", "standardize"]


def make_loss(config: DistillConfig) -> DistillationLoss:
    return LOSSES[config.loss](config)


def combine(terms: dict[str, torch.Tensor], weights: dict[str, float]) -> torch.Tensor:
    return sum(weights[name] * value for name, value in terms.items())
