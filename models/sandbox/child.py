"""The process a tenant's model runs in: ``python -m models.sandbox.child MODEL FORMAT DEVICE THREADS GUARD
MEMORY CPU SCRATCH``. It sets its own limits before it reads a byte of the model, then answers ``load``
and ``forward`` requests on stdin/stdout (see ``protocol``) until told to exit or its input closes."""

import os
import resource
import sys


def _limit(which: int, value: int) -> None:
    if value > 0:
        resource.setrlimit(which, (value, value))


def _forbid_full_pickle() -> None:
    """The loaders' fallbacks to full pickle become errors: ``torch.load`` is forced to weights-only (the
    environment variable is read at each call), and the plain pickle and TorchScript-object loaders raise."""
    import pickle

    import torch

    def refuse(*_args, **_kwargs):
        raise RuntimeError("the model asked for a full-pickle load, which is refused")

    pickle.load = pickle.loads = refuse  # type: ignore[assignment]
    torch._C._pickle_load_obj = refuse  # custom objects in .pt2 archives


def operators(model) -> set[str]:
    """Every operator the model's graphs call: all methods of all TorchScript submodules (with called
    functions inlined), or every graph of an exported program."""
    import torch

    from models.teachers import FrozenModule

    ops: set[str] = set()
    if isinstance(model, FrozenModule):
        model = model.inner
    if isinstance(model, torch.jit.ScriptModule):
        for module in [model, *model.modules()]:
            c = getattr(module, "_c", None)
            if c is None:
                continue
            for name in c._method_names():
                graph = c._get_method(name).graph.copy()
                _graph_kinds(graph, ops)
                torch._C._jit_pass_inline(graph)
                _graph_kinds(graph, ops)
        return ops
    if isinstance(model, torch.fx.GraphModule):
        for sub in model.modules():
            if isinstance(sub, torch.fx.GraphModule):
                for node in sub.graph.nodes:
                    if node.op == "call_function":
                        ops.add(_fx_name(node.target))
                    elif node.op == "call_method":
                        ops.add(f"method::{node.target}")
    return ops


def fixed_batch(model) -> int | None:
    """The one batch size a graph was exported for, or None when its batch dimension is dynamic:
    ``torch.export.export(model, (x,))`` without ``dynamic_shapes``, or an ONNX file with a fixed first axis."""
    import torch

    from models.teachers import FrozenModule, OnnxModule

    if isinstance(model, OnnxModule):
        first = model.session.get_inputs()[0].shape
        return first[0] if first and isinstance(first[0], int) and first[0] > 0 else None
    if isinstance(model, FrozenModule) and isinstance(model.inner, torch.fx.GraphModule):
        for node in model.inner.graph.nodes:
            if node.op == "placeholder":
                value = node.meta.get("val")
                shape = getattr(value, "shape", None)
                if shape is not None and len(shape) and isinstance(shape[0], int):
                    return int(shape[0])
                return None
    return None


def run_in_chunks(model, x, size: int):
    """A fixed-batch graph on any batch: chunks of its size, the last one padded with zeros."""
    import torch

    outs = []
    for start in range(0, x.shape[0], size):
        chunk = x[start:start + size]
        rows = chunk.shape[0]
        if rows < size:
            chunk = torch.cat([chunk, chunk.new_zeros((size - rows, *chunk.shape[1:]))])
        out = model(chunk)
        if isinstance(out, tuple | list) and len(out) == 1:
            out = out[0]
        outs.append(out[:rows])
    return torch.cat(outs)


def _graph_kinds(graph, ops: set[str]) -> None:
    for node in graph.nodes():
        ops.add(node.kind())
        for block in node.blocks():
            _graph_kinds(block, ops)


def _fx_name(target) -> str:
    name = getattr(target, "_schema", None)
    if name is not None:
        return name.name  # "aten::linear"
    qualified = getattr(target, "__module__", None) or ""
    return f"{qualified.split('.')[0] or 'python'}::{getattr(target, '__name__', str(target))}"


def _measure(model, model_path: str, fmt: str, batch: int | None, header: dict) -> dict:
    """The teacher's deployment figures, timed here so that the pipe to the service is not in them: ONNX
    files in an ONNX Runtime session of the sandbox's thread count, other formats in torch. The request's
    ``inputs`` name what to time it on (a Hugging Face teacher: int64 token ids); ``input_shape``, one float32
    input."""
    import torch

    from models import deployment

    if "inputs" in header:
        inputs = deployment.inputs_from_wire(header["inputs"])
    else:
        shape = header.get("input_shape")
        if not isinstance(shape, list) or not all(isinstance(d, int) and 0 < d for d in shape):
            raise ValueError("malformed input shape")
        inputs = deployment.as_inputs(shape)
    timing = deployment.Timing(**{k: v for k, v in (header.get("timing") or {}).items()
                                  if k in deployment.Timing.__dataclass_fields__})
    threads = torch.get_num_threads()
    if fmt == "onnx":
        session = deployment.onnx_session(model_path, threads)
        if batch is None:
            call = deployment.onnx_call(session, len(inputs))
        else:  # a fixed-batch graph of one input, run in chunks of its batch
            name = session.get_inputs()[0].name
            run = lambda c: torch.from_numpy(session.run(None, {name: c.numpy()})[0])  # noqa: E731
            call = lambda x: run_in_chunks(run, torch.from_numpy(x), batch)  # noqa: E731
        figures = deployment.time_calls(call, inputs, timing)
        return {"figures": figures, "parameters": deployment.onnx_parameters(model_path), "runtime": "onnxruntime",
                "threads": threads}
    forward = model if batch is None else (lambda x: run_in_chunks(model, x, batch))
    figures = deployment.time_calls(deployment.torch_call(forward), inputs, timing)
    return {"figures": figures, "parameters": deployment.torch_parameters(model), "runtime": "torch",
            "threads": threads}


def main(argv: list[str]) -> int:
    model_path, fmt, device, threads, guard, memory, cpu, scratch = argv
    # Protocol on a private copy of stdout; whatever the model prints goes to stderr.
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    _limit(resource.RLIMIT_DATA, int(memory))
    _limit(resource.RLIMIT_CPU, int(cpu))
    _limit(resource.RLIMIT_FSIZE, int(scratch))
    _limit(resource.RLIMIT_CORE, 0)
    if guard == "1":
        os.environ["TORCH_FORCE_WEIGHTS_ONLY_LOAD"] = "1"
    import numpy as np
    import torch

    from models.failure_text import describe_failure
    from models.sandbox.protocol import Reader, array_from, array_payload, encode
    from models.teacher_outputs import entry_descriptions, select_output
    from models.teachers import TeacherInvalid, load_teacher

    torch.set_num_threads(max(1, int(threads)))
    if guard == "1":
        _forbid_full_pickle()
    reader = Reader(0)
    model, batch, names = None, None, None

    def send(header: dict, payload: bytes = b"") -> None:
        channel.write(encode(header, payload))
        channel.flush()

    def inputs(header: dict, payload: bytes):
        return torch.from_numpy(array_from(header["shape"], payload, header.get("dtype", "float32")).copy()).to(device)

    while True:
        try:
            header, payload = reader.receive(max_payload=1 << 34)
        except EOFError:
            return 0
        op = header.get("op")
        try:
            if op == "exit":
                return 0
            if op == "load":
                if guard == "1" and fmt == "torchscript":  # every method, before torch.jit.load runs one
                    from models.inspection import check_torchscript

                    check_torchscript(model_path)
                if fmt == "huggingface":  # unpacked (bounded) into the private /tmp, checked, then loaded
                    from models.text.hf_teacher import load_archived_teacher

                    model = load_archived_teacher(model_path, int(scratch))
                else:
                    model = load_teacher(model_path, fmt)
                if hasattr(model, "to") and device != "cpu":
                    model = model.to(device)
                batch = fixed_batch(model)
                names = getattr(model, "output_names", None)
                send({"ok": True, "ops": sorted(operators(model)), "fixed_batch": batch})
            elif op == "describe" and model is not None:
                # every output of one batch (sent at the graph's own batch size), by name, shape and dtype
                with torch.no_grad():
                    out = model(inputs(header, payload))
                send({"ok": True, "outputs": entry_descriptions(out, names)[:64]})
            elif op == "forward" and model is not None:
                x = inputs(header, payload)
                selection = header.get("output")  # the output chosen at upload; None: the only one
                if selection is not None and not isinstance(selection, str):
                    raise TeacherInvalid("the output to distil from must be a name or an index")

                def scores(chunk, model=model, names=names, selection=selection):
                    return select_output(model(chunk), names, selection)

                with torch.no_grad():
                    out = scores(x) if batch is None or x.shape[0] == batch else run_in_chunks(scores, x, batch)
                if not isinstance(out, torch.Tensor):
                    send({"ok": False, "error": f"the teacher returned a {type(out).__name__}, not a tensor of "
                                                "logits", "kind": "shape"})
                    continue
                shape, data = array_payload(np.asarray(out.detach().float().cpu().numpy()))
                send({"ok": True, "shape": shape}, data)
            elif op == "measure" and model is not None:
                send({"ok": True, **_measure(model, model_path, fmt, batch, header)})
            else:
                send({"ok": False, "error": f"unexpected request {op!r}"})
        except Exception as exc:  # the model's own error: only its kind is reported (models.failure_text)
            ours = isinstance(exc, TeacherInvalid) or type(exc).__name__ == "ModelRefused"
            message = str(exc) if ours else describe_failure(exc)
            send({"ok": False, "error": message.replace(model_path, "the uploaded file"),
                  "kind": type(exc).__name__})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
