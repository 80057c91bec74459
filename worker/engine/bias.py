"""Bias correction for classes left out of the transfer set (Hinton et al., section 3).

A student that never saw a class still learns it from the soft targets, but its output bias for
that class stays too low. Raising the omitted classes' logits by one shared amount recovers most of it.

The raise is found exactly rather than on a grid: accuracy as a function of the raise only changes
where a sample's prediction flips from the best kept class to the best omitted one, so it is enough to
score the intervals between those flip points. A fixed grid has a ceiling, and a student distilled at a
high temperature can carry logits whose gap needs a raise beyond any ceiling picked in advance. Of the
best interval the middle is taken, not the edge: the edge is where the chosen samples only just flip,
and on unseen data that margin is gone.
"""

import torch


def tune_logit_bias(logits: torch.Tensor, labels: torch.Tensor, classes: list[int]) -> tuple[float, torch.Tensor]:
    """The non-negative raise of ``classes``' logits that maximises accuracy on (logits, labels), and the
    bias vector that adds it. No raise wins its ties."""
    mask = torch.zeros(logits.shape[1])
    mask[classes] = 1.0
    omitted = mask.bool()
    logits, labels = logits.float().cpu(), labels.cpu()
    best_kept = logits.masked_fill(omitted, float("-inf")).max(1)
    best_omitted = logits.masked_fill(~omitted, float("-inf")).max(1)
    right_if_kept = best_kept.indices == labels
    right_if_raised = best_omitted.indices == labels
    needed = best_kept.values - best_omitted.values  # the raise past which a sample's prediction flips
    unraised = int(torch.where(needed < 0, right_if_raised, right_if_kept).sum())
    flips, order = needed.clamp(min=0.0).sort()
    gain = (right_if_raised.long() - right_if_kept.long())[order]
    # Just past flips[k] the first k + 1 samples predict an omitted class: that interval's correct count.
    scores = int(right_if_kept.sum()) + gain.cumsum(0)
    ends = torch.cat([flips[1:], torch.tensor([float("inf")])])
    open_ = ends > flips  # equal flip points leave an empty interval between them
    if not bool(open_.any()) or int(scores[open_].max()) <= unraised:
        return 0.0, torch.zeros_like(mask)
    best = int(scores[open_].max())
    k = int(torch.nonzero(open_ & (scores == best))[0])
    last = k
    for j in range(k + 1, len(flips)):  # the plateau: the open intervals after k that keep the best score
        if not open_[j]:
            continue
        if int(scores[j]) != best:
            break
        last = j
    start, end = float(flips[k]), float(ends[last])
    delta = start + 1.0 if end == float("inf") else (start + end) / 2
    return delta, delta * mask
