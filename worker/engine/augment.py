"""Training-time augmentation of image batches [N, C, H, W], on the batch's own device.

Random choices come from a CPU generator seeded by the run, so a seeded run is repeatable.
Evaluation never augments.
"""

import torch
import torch.nn.functional as F

from models.distill_config import Augmentation


def augment(x: torch.Tensor, aug: Augmentation, gen: torch.Generator) -> torch.Tensor:
    n = x.shape[0]
    if aug.random_crop_padding:
        p = aug.random_crop_padding
        h, w = x.shape[-2:]
        padded = F.pad(x, (p, p, p, p))
        oy = torch.randint(0, 2 * p + 1, (n,), generator=gen).to(x.device)
        ox = torch.randint(0, 2 * p + 1, (n,), generator=gen).to(x.device)
        rows = (oy[:, None] + torch.arange(h, device=x.device))[:, :, None]
        cols = (ox[:, None] + torch.arange(w, device=x.device))[:, None, :]
        x = padded[torch.arange(n, device=x.device)[:, None, None], :, rows, cols].permute(0, 3, 1, 2)
    if aug.horizontal_flip:
        flip = (torch.rand(n, generator=gen) < 0.5).to(x.device)
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    return x.contiguous()
