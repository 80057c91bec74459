"""Static checks of an uploaded teacher, done on its bytes before any loader runs.

A teacher file is a tenant's code. Loaders for ``.pt2`` archives fall back to full pickle (which runs
arbitrary code) for some members, and TorchScript archives hold pickles too, so every pickle inside an
archive is read here as opcodes, never executed: only the globals a plain network needs may appear.
What a model may *do* is checked later, from its graphs, by :func:`refused_operators`.
"""

import io
import json
import pickletools
import zipfile
from pathlib import Path, PurePosixPath

from models.torchscript_code import CodeUnreadable, called_operators
from models.zip_budget import MAX_MEMBER_BYTES, BudgetExceeded, ScanBudget

MAX_CONFIG_BYTES = 4 * 1024**2  # a .pt2 weights or constants config: a few hundred bytes per tensor
MAX_CONFIG_ENTRIES = 100_000


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
# What torch.save writes for plain tensors (a .pt2's sample inputs): the weights-only unpickler's own set.
_TENSOR_GLOBALS = {
    ("collections", "OrderedDict"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_parameter"),
    ("torch", "device"),
    ("torch", "Size"),
}
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


def _tensor_global_allowed(module: str, name: str) -> bool:
    return (module, name) in _TENSOR_GLOBALS or (module == "torch" and name.endswith("Storage")
                                                 and name.isidentifier())


def pickle_globals(data: bytes, member: str, budget: ScanBudget | None = None) -> list[tuple[str, str]]:
    """Every global a pickle refers to, read from its opcodes without running it. A global whose name
    cannot be read statically (built on the stack by other means) is refused, not guessed."""
    found: list[tuple[str, str]] = []
    pushed: list[object] = []  # the last values pushed, as far as strings go
    memo: dict[int, object] = {}
    budget = budget or ScanBudget()
    try:
        for op, arg, _pos in pickletools.genops(data):
            budget.opcode(member)
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
    except BudgetExceeded as exc:
        raise ModelRefused(str(exc)) from None
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


def _open(path: Path, fmt: str, budget: ScanBudget) -> zipfile.ZipFile:
    try:
        budget.members(path)
    except BudgetExceeded as exc:
        raise ModelRefused(str(exc)) from None
    return _zip(path, fmt)


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: ScanBudget, limit: int = MAX_MEMBER_BYTES) -> bytes:
    try:
        budget.claim(info, limit)
    except BudgetExceeded as exc:
        raise ModelRefused(str(exc)) from None
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


def check_torchscript(path: Path, budget: ScanBudget | None = None) -> None:
    """Every pickle's globals, and every operator every method of the archive's code calls (``__setstate__``
    runs while ``torch.jit.load`` loads, before any graph could be asked)."""
    budget = budget or ScanBudget()
    with _open(path, "torchscript", budget) as zf:
        _refuse_torch_save(zf, "torchscript", "/code/")
        for info in zf.infolist():
            if _member_kind(info.filename).startswith("code/") and info.filename.endswith(".py"):
                _check_code(_read(zf, info, budget), info.filename)
            if not info.filename.endswith((".pkl", ".debug_pkl")):
                continue
            for module, name in pickle_globals(_read(zf, info, budget), info.filename, budget):
                if not _torchscript_global_allowed(module, name):
                    raise ModelRefused(
                        f"the archive member {info.filename!r} refers to {module}.{name}, which a TorchScript "
                        "network does not need; it would run code when loaded, so the file is refused")


def _check_code(source: bytes, member: str) -> None:
    try:
        ops = called_operators(source, member, _SHORT_NAMES)
    except CodeUnreadable as exc:
        raise ModelRefused(str(exc)) from None
    refused = refused_operators(ops)
    if refused:
        raise ModelRefused(f"the archive's code ({member!r}) calls operators a teacher may not use: "
                           f"{', '.join(refused[:10])} (file, process, network or custom operators; every method, "
                           "__setstate__ included, is checked before anything is loaded); export the network "
                           "without them")


def _member_kind(name: str) -> str:
    parts = PurePosixPath(name).parts
    return "/".join(parts[1:]) if len(parts) > 1 else name


def check_exported_program(path: Path, budget: ScanBudget | None = None) -> None:
    """``torch.export.load`` unpickles weights and constants marked ``use_pickle``, custom and opaque
    objects, and legacy weight files with full pickle, and falls back to full pickle for sample inputs."""
    budget = budget or ScanBudget()
    with _open(path, "exported_program", budget) as zf:
        _refuse_torch_save(zf, "exported_program", "/models/")
        for info in zf.infolist():
            kind = _member_kind(info.filename)
            if kind.endswith("_config.json") and kind.startswith(("data/weights/", "data/constants/")):
                _check_payload_config(_read(zf, info, budget, MAX_CONFIG_BYTES), info.filename)
            elif kind.startswith(("data/weights/", "data/constants/")) and kind.endswith((".pt", ".pkl")):
                raise ModelRefused(f"the archive member {info.filename!r} is a pickled weight file (a legacy "
                                   "format loaded with full pickle); save the program again with torch.export.save")
            elif kind.startswith("data/sample_inputs/") or kind.endswith((".pkl", ".pt")):
                _check_tensor_pickle(_read(zf, info, budget), info.filename, budget)


def _check_payload_config(raw: bytes, member: str) -> None:
    try:
        config = json.loads(raw).get("config", {})
        entries = list(config.items())
    except Exception:
        raise ModelRefused(f"the archive member {member!r} is not a valid payload config") from None
    if len(entries) > MAX_CONFIG_ENTRIES:
        raise ModelRefused(f"the archive member {member!r} lists {len(entries)} weights or constants, more than "
                           f"the {MAX_CONFIG_ENTRIES} a network may have")
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


def _check_tensor_pickle(raw: bytes, member: str, budget: ScanBudget) -> None:
    """A member ``torch.load`` would read (a torch.save zip, as sample inputs are): its pickle may hold
    tensors and nothing else. Read as opcodes here, never loaded: its storages are not even decompressed."""
    try:
        inner = zipfile.ZipFile(io.BytesIO(raw))
        infos = inner.infolist()
    except Exception:
        raise ModelRefused(f"the archive member {member!r} is not a torch.save archive of tensors; export the "
                           "program with plain tensor inputs") from None
    if len(infos) > budget.max_members:
        raise ModelRefused(f"the archive member {member!r} holds {len(infos)} members, more than "
                           f"{budget.max_members}")
    pickles = [i for i in infos if i.filename.endswith(".pkl")]
    if not pickles:
        raise ModelRefused(f"the archive member {member!r} holds no pickle of tensors; export the program with "
                           "plain tensor inputs")
    for info in pickles:
        for module, name in pickle_globals(_read(inner, info, budget), f"{member}/{info.filename}", budget):
            if not _tensor_global_allowed(module, name):
                raise ModelRefused(f"the archive member {member!r} refers to {module}.{name}: it holds objects "
                                   "other than tensors, which would need a full pickle load; export the program "
                                   "with plain tensor inputs")


def check_file(path: Path, fmt: str, budget: dict | None = None) -> None:
    """Refuse, with a reason, what the file's format loader must never be given. ``budget`` overrides the
    bounds of :class:`ScanBudget` (tests show the CPU limit with them lifted)."""
    from models.onnx_check import check_onnx

    if fmt == "onnx":
        check_onnx(Path(path))
    elif fmt in ("torchscript", "exported_program"):
        check = check_torchscript if fmt == "torchscript" else check_exported_program
        check(Path(path), ScanBudget(**(budget or {})))


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


_SHORT_NAMES = {op.split("::", 1)[1]: op for op in REFUSED_OPERATORS}
