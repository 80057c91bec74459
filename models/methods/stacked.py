"""Several cross-entropies against fixed per-sample distributions, computed as one: KD's fast path and
the batched sweep members' objective."""

import torch


class StackedCrossEntropy:
    """Weighted cross-entropies of the student's logits, each at its own scale, against fixed per-sample
    distributions, computed for all terms at once.

    KD's two terms are both of this kind: the soft term compares softmax(z/T) with the teacher's q, the
    hard term softmax(z) with the one-hot label, and KL(q || p) = CE(q, p) - H(q) with H(q) fixed per
    sample. Stacking the weighted targets once per run as ``w`` [terms, N, classes] makes a training step
    four kernels (scale, log-softmax, multiply, sum) where the separate terms take a dozen; for a small
    student on the CPU that is a tenth of the step. ``w`` is divided by the batch size too, so that a full
    batch's terms add up to its loss with no further kernel. Gradients are the separate terms' own; the
    per-epoch KL is recovered from the summed cross-entropies and the summed teacher entropy.
    """

    def __init__(self, parts: dict[str, tuple[torch.Tensor, float]], weights: dict[str, float], batch_size: int):
        self.names = list(parts)
        self.weights = {name: weights[name] for name in self.names}
        self.batch_size = batch_size
        log_targets = [parts[name][0].float() for name in self.names]
        probs = [lt.exp() for lt in log_targets]
        self.w = torch.stack([(-self.weights[name] / batch_size) * p
                              for name, p in zip(self.names, probs, strict=True)])
        self.scales = torch.tensor([parts[name][1] for name in self.names]).view(-1, 1, 1)
        # Σ_c q log q per sample; 0 log 0 = 0 for one-hot labels and underflowed probabilities.
        self.neg_entropy = torch.stack([torch.where(p > 0, p * lt, 0).sum(-1) for p, lt in zip(probs, log_targets,
                                                                                               strict=True)])

    def __len__(self) -> int:
        return self.w.shape[1]

    def nbytes(self) -> int:
        return self.w.numel() * self.w.element_size()

    def place(self, data_device, device) -> "StackedCrossEntropy":
        """Per-sample targets where the data is held; the scales where the student's logits are."""
        self.w, self.neg_entropy = self.w.to(data_device), self.neg_entropy.to(data_device)
        self.scales = self.scales.to(device)
        return self

    def batch(self, idx: torch.Tensor) -> torch.Tensor:
        return self.w.index_select(1, idx)

    def __call__(self, student_logits: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """Each term's weighted cross-entropy summed over the batch and divided by the batch size: [terms]."""
        log_p = torch.log_softmax(student_logits.float().unsqueeze(0) * self.scales, dim=-1)
        return (w * log_p).sum((1, 2))  # a multiply and a sum cost a third of one batched matmul here

    def loss(self, terms: torch.Tensor, n: int) -> torch.Tensor:
        """The batch's mean loss from its terms; ``n`` samples, fewer than the batch size in a last batch."""
        total = terms.sum()
        return total if n == self.batch_size else total * (self.batch_size / n)

    def epoch_terms(self, sums: torch.Tensor) -> dict[str, float]:
        """Each term's unweighted mean over an epoch, from the sum of every batch's terms, and the weighted
        ``total``."""
        n = self.neg_entropy.shape[1]
        means = {name: (float(s) * self.batch_size / self.weights[name] + float(h)) / n
                 for name, s, h in zip(self.names, sums, self.neg_entropy.sum(1), strict=True)}
        return {**means, "total": sum(self.weights[k] * v for k, v in means.items())}
