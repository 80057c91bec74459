"""Small uploads built to decode to a lot, or to cost a lot of CPU, in whatever reads them (issue 25's
table), and a sampler of a process's resident memory to show what they cost the API."""

import io
import json
import threading
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from tests.hostile_models import Tiny, _rewrite_zip, exported_program


class RssSampler:
    """The most a process's resident set grew, sampled from ``/proc/<pid>/status`` every few milliseconds
    while the block runs (as a ``/proc`` reader does)."""

    def __init__(self, pid: int | str = "self", every: float = 0.005):
        self.path, self.every = Path(f"/proc/{pid}/status"), every
        self.baseline = self.peak = 0
        self._stop = threading.Event()

    def rss(self) -> int:
        for line in self.path.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(self.every)

    def __enter__(self) -> "RssSampler":
        self.baseline = self.peak = self.rss()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


def npz_uint8(mib: int) -> bytes:
    """An .npz whose uint8 'x' is ``mib`` MiB decoded, and four times that as float32, but compresses about
    tenfold (random bits, one per byte): within the expansion ratio and the decoded-size limit."""
    rng = np.random.default_rng(0)
    x = (rng.random((mib * 1024, 1024), dtype=np.float32) < 0.02).astype(np.uint8)
    buf = io.BytesIO()
    np.savez_compressed(buf, x=x, y=np.arange(len(x)) % 2)
    return buf.getvalue()


def png(width: int, height: int, mode: str = "L") -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new(mode, (width, height)).save(buf, format="PNG", optimize=False, compress_level=9)
    return buf.getvalue()


def image_zip(images: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in images.items():
            zf.writestr(name, data)
    return buf.getvalue()


def pt2_with_huge_weights_config(tmp: Path, mib: int = 16) -> Path:
    """A .pt2 whose weights config is a deflated ``mib`` MiB JSON of empty objects (each json.loads'ed)."""
    good = exported_program(tmp / "good.pt2")
    blob = b'{"config": {}, "pad": [' + b"{}," * (mib * 1024**2 // 3) + b"{}]}"
    dest = tmp / "config.pt2"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = blob if info.filename.endswith("model_weights_config.json") else zin.read(info)
            zout.writestr(info.filename, data, compress_type=zipfile.ZIP_DEFLATED
                          if info.filename.endswith(".json") else zipfile.ZIP_STORED)
    return dest


def _sample_inputs_with_deflated_storage(mib: int) -> bytes:
    """torch.save of the sample inputs, its storage rewritten as ``mib`` MiB of zeros, deflated."""
    buf = io.BytesIO()
    torch.save(((torch.zeros(2, 4),), {}), buf)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            if "/data/" in info.filename and not info.filename.endswith(".pkl"):
                zout.writestr(info.filename, bytes(mib * 1024**2), compress_type=zipfile.ZIP_DEFLATED)
            else:
                zout.writestr(info, zin.read(info))
    return out.getvalue()


def pt2_with_deflated_sample_inputs(tmp: Path, mib: int = 64) -> Path:
    good = exported_program(tmp / "good.pt2")
    return _rewrite_zip(good, tmp / "samples.pt2", {"data/sample_inputs/model.pt":
                                                    _sample_inputs_with_deflated_storage(mib)})


def pickle_bomb(tmp: Path, members: int = 6, mib: int = 64, compress: bool = True) -> Path:
    """A TorchScript-shaped zip with ``members`` pickles of ``mib`` MiB of NONE opcodes each (a stream that
    is valid up to its end, so a checker walks all of it)."""
    good = tmp / "good.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.jit.save(torch.jit.script(Tiny().eval()), str(good))
    dest = tmp / ("bomb.pt" if compress else "stored_bomb.pt")
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(dest, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        prefix = zin.namelist()[0].split("/")[0]
        chunk = b"N" * 1024**2
        for i in range(members):
            info = zipfile.ZipInfo(f"{prefix}/extra_{i}.pkl")
            info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
            with zout.open(info, "w", force_zip64=True) as f:
                for _ in range(mib):
                    f.write(chunk)
    return dest


class ReadsAtLoad(nn.Module):
    """Its ``__setstate__`` reads bytes of ``path`` with ``aten::from_file`` while ``torch.jit.load`` loads
    it, and raises them as its error text, hoping to see them in the upload's answer."""

    def __init__(self, path: str):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.path = path

    def forward(self, x):
        return self.fc(x)

    @torch.jit.export
    def __getstate__(self) -> tuple[str, bool]:
        return (self.path, self.training)

    @torch.jit.export
    def __setstate__(self, state: tuple[str, bool]) -> None:
        self.path = state[0]
        self.training = state[1]
        data = torch.from_file(self.path, shared=False, size=8, dtype=torch.uint8)
        values = torch.jit.annotate(list[int], data.tolist())
        raise RuntimeError("leaked " + str(values))


def reads_at_load(path: str) -> nn.Module:
    """An instance whose own state loads without reading: the attack runs only on ``torch.jit.load``."""
    return ReadsAtLoad(path)


def onnx_with_sparse(kind: str) -> bytes:
    """An ONNX model with a sparse tensor: ``attribute`` (a Constant's sparse_value), ``huge`` (a sparse
    initializer declared [1e6, 1e6]: 4 TB once densified) or ``small`` (a valid 4x3 sparse initializer)."""
    from onnx import TensorProto, helper

    def sparse(dims, indices):
        values = helper.make_tensor("W" if kind != "attribute" else "C", TensorProto.FLOAT, [len(indices)],
                                    [1.0] * len(indices))
        idx = helper.make_tensor("W_idx", TensorProto.INT64, [len(indices)], indices)
        return helper.make_sparse_tensor(values, idx, dims)

    nodes, sparse_inits = [], []
    if kind == "attribute":
        nodes.append(helper.make_node("Constant", [], ["W"], sparse_value=sparse([4, 3], [0, 5])))
    else:
        sparse_inits.append(sparse([10**6, 10**6] if kind == "huge" else [4, 3], [0, 5]))
    nodes.append(helper.make_node("MatMul", ["input", "W"], ["logits"]))
    graph = helper.make_graph(
        nodes, "sparse", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 3])],
        sparse_initializer=sparse_inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]).SerializeToString()


def json_bytes(value) -> bytes:
    return json.dumps(value).encode()
