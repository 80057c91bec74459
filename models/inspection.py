"""Static checks of an uploaded teacher, done on its bytes before any loader runs.

A teacher file is a tenant's code. Loaders for ``.pt2`` archives fall back to full pickle (which runs
arbitrary code) for some members, and TorchScript archives hold pickles too, so every pickle inside an
archive is read here as opcodes, never executed: only the globals a plain network needs may appear.
What a model may *do* is checked later, from its graphs, by :func:`refused_operators`.
"""

import json
import pickletools
import zipfile
from pathlib import Path, PurePosixPath

MAX_MEMBER_BYTES = 64 * 1024 * 1024  # a pickle or config larger than this is not a network's metadata


class ModelRefused(ValueError):
    """The file holds something a teacher may not hold; the message names it, for the user."""


# Globals a TorchScript archive's pickles use to rebuild modules and tensors. ``__torch__`` names are
# resolved by TorchScript's own type resolver against the archive's compiled code, never imported.
_TORCHSCRIPT_GLOBALS = {
    ("collections", "OrderedDict"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_parameter"),
    ("torch._utils", "_rebuild_qtensor"),
}
_TORCHSCRIPT_MODULES = ("__torch__", "torch.jit._pickle")
_UNANALYSABLE = {"INST", "OBJ", "EXT1", "EXT2", "EXT4"}  # classes built by name or from a registry
_STRING_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "STRING", "BINSTRING",
               "SHORT_BINSTRING"}
_MEMO_PUT = {"MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT"}
_MEMO_GET = {"GET", "BINGET", "LONG_BINGET"}


def _torchscript_global_allowed(module: str, name: str) -> bool:
    if (module, name) in _TORCHSCRIPT_GLOBALS:
        return True
    if module == "torch" and name.endswith("Storage") and name.isidentifier():
        return True
    return any(module == m or module.startswith(m + ".") for m in _TORCHSCRIPT_MODULES)


def pickle_globals(data: bytes, member: str) -> list[tuple[str, str]]:
    """Every global a pickle refers to, read from its opcodes without running it. A global whose name
    cannot be read statically (built on the stack by other means) is refused, not guessed."""
    found: list[tuple[str, str]] = []
    pushed: list[object] = []  # the last values pushed, as far as strings go
    memo: dict[int, object] = {}
    try:
        for op, arg, _pos in pickletools.genops(data):
            name = op.name
            if name in _UNANALYSABLE:
                raise ModelRefused(f"the archive member {member!r} builds objects by class name ({name}); "
                                   "a teacher's pickles may only hold tensors and modules")
            if name == "GLOBAL":
                module, _, attr = str(arg).partition(" ")
                found.append((module, attr))
                pushed.append(None)
            elif name == "STACK_GLOBAL":
                if len(pushed) < 2 or not all(isinstance(v, str) for v in pushed[-2:]):
                    raise ModelRefused(f"the archive member {member!r} refers to a global whose name is not a "
                                       "plain string; it cannot be checked, so it is refused")
                found.append((pushed[-2], pushed[-1]))
                pushed[-2:] = [None]
            elif name in _STRING_OPS:
                pushed.append(arg if isinstance(arg, str) else None)
            elif name in _MEMO_PUT:
                memo[len(memo) if name == "MEMOIZE" else int(arg)] = pushed[-1] if pushed else None
            elif name in _MEMO_GET:
                pushed.append(memo.get(int(arg)))
            else:
                pushed.append(None)
            del pushed[:-4]
    except ModelRefused:
        raise
    except Exception as exc:  # pickletools raises ValueError and friends on damaged streams
        raise ModelRefused(f"the archive member {member!r} is not a readable pickle ({type(exc).__name__})") from None
    return found


PICKLE_ADVICE = ("pickles are never loaded here; save the network with torch.jit.save(torch.jit.script(model), "
                 "path) or torch.export.save(torch.export.export(model, args), path), or upload its state dict "
                 "as safetensors")


def _zip(path: Path, fmt: str) -> zipfile.ZipFile:
    with open(path, "rb") as f:
        head = f.read(2)
    if head[:1] == b"\x80" and head[1:2] and head[1] <= 5:
        raise ModelRefused(f"the file is a Python pickle (as torch.save or pickle.dump write), not a {fmt} model; "
                           + PICKLE_ADVICE)
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise ModelRefused(f"the file does not match its declared format {fmt!r}: it is not a loadable {fmt} "
                           f"model (a {fmt} file is a zip archive)") from None


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    if info.file_size > MAX_MEMBER_BYTES:
        raise ModelRefused(f"the archive member {info.filename!r} is {info.file_size} bytes; metadata and "
                           f"pickles may be at most {MAX_MEMBER_BYTES}")
    try:
        return zf.read(info)
    except Exception as exc:
        raise ModelRefused(f"the archive member {info.filename!r} cannot be read ({type(exc).__name__})") from None


def _refuse_torch_save(zf: zipfile.ZipFile, fmt: str, own_part: str) -> None:
    """torch.save writes a zip too: a pickle of Python objects, without the format's own parts."""
    names = zf.namelist()
    if any(n.endswith("/data.pkl") for n in names) and not any(own_part in n for n in names):
        raise ModelRefused(f"the file is a torch.save archive (a pickle of Python objects), not a {fmt} model; "
                           + PICKLE_ADVICE)


def check_torchscript(path: Path) -> None:
    with _zip(path, "torchscript") as zf:
        _refuse_torch_save(zf, "torchscript", "/code/")
        for info in zf.infolist():
            if not info.filename.endswith(".pkl"):
                continue
            for module, name in pickle_globals(_read(zf, info), info.filename):
                if not _torchscript_global_allowed(module, name):
                    raise ModelRefused(
                        f"the archive member {info.filename!r} refers to {module}.{name}, which a TorchScript "
                        "network does not need; it would run code when loaded, so the file is refused")


def _member_kind(name: str) -> str:
    parts = PurePosixPath(name).parts
    return "/".join(parts[1:]) if len(parts) > 1 else name


def check_exported_program(path: Path) -> None:
    """``torch.export.load`` unpickles weights and constants marked ``use_pickle``, custom and opaque
    objects, and legacy weight files with full pickle, and falls back to full pickle for sample inputs."""
    with _zip(path, "exported_program") as zf:
        _refuse_torch_save(zf, "exported_program", "/models/")
        for info in zf.infolist():
            kind = _member_kind(info.filename)
            if kind.endswith("_config.json") and kind.startswith(("data/weights/", "data/constants/")):
                _check_payload_config(_read(zf, info), info.filename)
            elif kind.startswith(("data/weights/", "data/constants/")) and kind.endswith((".pt", ".pkl")):
                raise ModelRefused(f"the archive member {info.filename!r} is a pickled weight file (a legacy "
                                   "format loaded with full pickle); save the program again with torch.export.save")
            elif kind.startswith("data/sample_inputs/"):
                _check_weights_only(_read(zf, info), info.filename)
            elif kind.endswith((".pkl", ".pt")):
                _check_weights_only(_read(zf, info), info.filename)


def _check_payload_config(raw: bytes, member: str) -> None:
    try:
        config = json.loads(raw).get("config", {})
        entries = list(config.items())
    except Exception:
        raise ModelRefused(f"the archive member {member!r} is not a valid payload config") from None
    for fqn, meta in entries:
        if not isinstance(meta, dict):
            raise ModelRefused(f"the archive member {member!r} has a malformed entry for {fqn!r}")
        if meta.get("use_pickle"):
            raise ModelRefused(f"the weight or constant {fqn!r} is stored as a pickle ('use_pickle'), which "
                               "would run code when loaded; only plain tensors are accepted")
        path_name = str(meta.get("path_name", ""))
        if path_name.startswith(("custom_obj", "opaque_obj")):
            raise ModelRefused(f"the constant {fqn!r} is a custom or opaque object ({path_name}); only plain "
                               "tensors are accepted")


def _check_weights_only(raw: bytes, member: str) -> None:
    """A member ``torch.load`` reads must load with the restricted, weights-only unpickler."""
    import io

    import torch

    try:
        torch.load(io.BytesIO(raw), weights_only=True, map_location="cpu")
    except Exception:
        raise ModelRefused(f"the archive member {member!r} holds objects other than tensors (it does not load "
                           "with weights_only=True); export the program with plain tensor inputs") from None


_ONNX_DOMAINS = {"", "ai.onnx", "ai.onnx.ml"}


def check_onnx(path: Path) -> None:
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:
        raise ModelRefused("the file is not a loadable onnx model; export it with torch.onnx.export, or "
                           "from your framework's ONNX exporter") from None
    for opset in model.opset_import:
        if opset.domain not in _ONNX_DOMAINS:
            raise ModelRefused(f"the ONNX model imports the custom operator domain {opset.domain!r}; only the "
                               "standard domains (ai.onnx, ai.onnx.ml) are accepted")
    for tensor in _onnx_tensors(model.graph):
        if tensor.data_location == onnx.TensorProto.EXTERNAL or len(tensor.external_data):
            raise ModelRefused(
                f"the ONNX tensor {tensor.name!r} keeps its data in an external file, which an upload cannot "
                "carry and a server must never read; export it with all weights inside the .onnx file "
                "(torch.onnx.export(..., external_data=False), or onnx.save(model, path, "
                "save_as_external_data=False))")
    for node in _onnx_nodes(model.graph):
        if node.domain not in _ONNX_DOMAINS:
            raise ModelRefused(f"the ONNX node {node.name or node.op_type!r} uses the custom operator domain "
                               f"{node.domain!r}; only the standard domains are accepted")


def _onnx_graphs(graph):
    yield graph
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("g"):
                yield from _onnx_graphs(attr.g)
            for g in attr.graphs:
                yield from _onnx_graphs(g)


def _onnx_nodes(graph):
    for g in _onnx_graphs(graph):
        yield from g.node


def _onnx_tensors(graph):
    for g in _onnx_graphs(graph):
        yield from g.initializer
        for sparse in g.sparse_initializer:
            yield sparse.values
            yield sparse.indices
        for node in g.node:
            for attr in node.attribute:
                if attr.HasField("t"):
                    yield attr.t
                yield from attr.tensors


def check_file(path: Path, fmt: str) -> None:
    """Refuse, with a reason, what the file's format loader must never be given."""
    check = {"torchscript": check_torchscript, "exported_program": check_exported_program,
             "onnx": check_onnx}.get(fmt)
    if check is not None:
        check(Path(path))


# What a network's graph may call. TorchScript and exported programs are made of ``aten`` and ``prim``
# operators; among ``aten`` a few read or write files or memory outside the network, and those are refused
# by name. Every other namespace (custom ``torch.ops`` libraries, distributed collectives, quantized
# backends) is refused.
ALLOWED_NAMESPACES = ("aten", "prim", "_operator", "operator", "math")
REFUSED_OPERATORS = {
    "aten::from_file", "aten::save", "aten::_save", "aten::load", "aten::_load", "aten::set_",
    "aten::_set_storage", "aten::_share_memory_", "aten::_pin_memory", "prim::PythonOp", "aten::wait",
    "prim::fork", "aten::_fork", "prim::rpc_async", "prim::rpc_sync", "prim::rpc_remote",
}


def refused_operators(ops: set[str]) -> list[str]:
    """The operators, of those a graph calls, that a teacher may not call."""
    refused = []
    for op in sorted(ops):
        namespace = op.split("::", 1)[0] if "::" in op else op.split(".", 1)[0]
        if op in REFUSED_OPERATORS or namespace not in ALLOWED_NAMESPACES:
            refused.append(op)
    return refused
