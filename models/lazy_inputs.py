"""Inputs too large to hold in memory: a view of a dataset that the engine reads batch by batch
through a DataLoader with worker processes, never whole.

``LazyInputs`` stands where a tensor of inputs would: indexing it with a tensor of positions gives
another view (nothing is read); ``batches`` reads the samples of each chunk of positions, in order.
"""

import multiprocessing

import torch
from torch.utils.data import DataLoader, Dataset


def _stack_inputs(items):
    return torch.stack([item[0] for item in items])


class LazyInputs:
    def __init__(self, dataset: Dataset, indices: torch.Tensor | None = None, workers: int = 2):
        self.dataset = dataset
        self.indices = torch.arange(len(dataset)) if indices is None else indices
        self.workers = workers
        self._sample_shape: tuple[int, ...] | None = None

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, idx) -> "LazyInputs":
        idx = idx if isinstance(idx, slice) else torch.as_tensor(idx)
        view = LazyInputs(self.dataset, self.indices[idx], self.workers)
        view._sample_shape = self._sample_shape
        return view

    @property
    def shape(self) -> tuple[int, ...]:
        if self._sample_shape is None:
            self._sample_shape = tuple(self.dataset[int(self.indices[0])][0].shape)
        return (len(self), *self._sample_shape)

    def dim(self) -> int:
        return len(self.shape)

    def to(self, *_args, **_kwargs) -> "LazyInputs":
        return self  # read, then moved, batch by batch

    def batches(self, chunks: list[torch.Tensor], *, pin_memory: bool = False):
        """The inputs of each chunk of positions, one tensor per chunk, read ahead by worker processes."""
        # A daemonic process (a Celery prefork child) may not start workers: read in-process there.
        workers = 0 if multiprocessing.current_process().daemon else self.workers
        loader = DataLoader(self.dataset, batch_sampler=[self.indices[c].tolist() for c in chunks],
                            num_workers=workers, pin_memory=pin_memory, collate_fn=_stack_inputs,
                            persistent_workers=False, prefetch_factor=4 if workers else None)
        yield from loader


def is_lazy(x) -> bool:
    return isinstance(x, LazyInputs)
