"""Example teachers to try the service with, made from data that ships with scikit-learn.

    python -m models.examples digits-teacher teacher.pt2   # a torch.export program (format exported_program)
    python -m models.examples digits-teacher teacher.onnx  # ONNX (format onnx)
    python -m models.examples digits-teacher teacher.pt    # TorchScript, which PyTorch 2.14 deprecates
    python -m models.examples text-teacher bert.zip texts.jsonl  # a small BERT (format huggingface), a text set
"""

import argparse
import contextlib
import io
import warnings
from pathlib import Path

import torch
from torch import nn

from models.transfer_sets import load_builtin
from models.zoo import build_student

DIGITS_TEACHER_SPEC = {"arch": "mlp", "hidden_sizes": [256, 256], "dropout": 0.2}


def digits_teacher(epochs: int = 40, hidden: int = 256, seed: int = 0) -> nn.Module:
    """A 64-256-256-10 MLP teacher with dropout, trained on the digits training split."""
    torch.manual_seed(seed)
    data = load_builtin("digits")
    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    # Built by the zoo, so its state dict also loads as a safetensors teacher with arch "mlp".
    model = build_student(DIGITS_TEACHER_SPEC | {"hidden_sizes": [hidden, hidden]}, [64], 10)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(len(x), generator=gen).split(64):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    return model.eval()


def save_torchscript(model: nn.Module, path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch 2.14 deprecates TorchScript; kept for old files
        torch.jit.save(torch.jit.script(model.eval()), str(path))


def _batch_example(model: nn.Module, input_shape) -> tuple[torch.Tensor, dict]:
    return torch.zeros((2, *input_shape)), ({0: torch.export.Dim("batch", min=1, max=1 << 20)},)


def save_exported_program(model: nn.Module, path: Path, input_shape=(64,)) -> None:
    """A torch.export program with a dynamic batch dimension, the format that outlives TorchScript."""
    x, dynamic = _batch_example(model, input_shape)
    program = torch.export.export(model.eval(), (x,), dynamic_shapes=dynamic)
    torch.export.save(program, str(path))


def save_onnx(model: nn.Module, path: Path, input_shape=(64,)) -> None:
    x, dynamic = _batch_example(model, input_shape)
    # The exporter reports progress on stdout and warns about its own internals: neither is the user's concern.
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (x,), str(path), dynamic_shapes=dynamic, dynamo=True,
                          external_data=False)


SAVERS = {".pt2": ("exported_program", save_exported_program), ".onnx": ("onnx", save_onnx),
          ".pt": ("torchscript", save_torchscript)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m models.examples", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("digits-teacher", help="train an MLP teacher on scikit-learn's digits; save it as a "
                       "torch.export program (.pt2), ONNX (.onnx) or TorchScript (.pt)")
    p.add_argument("out", type=Path)
    p.add_argument("--epochs", type=int, default=40)
    t = sub.add_parser("text-teacher", help="train a small BERT on generated three-class sentences; write it as the "
                       ".zip of its save_pretrained folder, and a JSON-lines transfer set of such sentences")
    t.add_argument("out", type=Path)
    t.add_argument("texts", type=Path)
    t.add_argument("--samples", type=int, default=1500)
    args = parser.parse_args(argv)
    if args.command == "text-teacher":
        return _text_teacher(args.out, args.texts, args.samples)
    if args.out.suffix not in SAVERS:
        parser.error(f"name the file .pt2 (torch.export), .onnx or .pt (TorchScript), not {args.out.name!r}")
    fmt, save = SAVERS[args.out.suffix]
    model = digits_teacher(epochs=args.epochs)
    save(model, args.out)
    data = load_builtin("digits")
    with torch.no_grad():
        acc = (model(torch.from_numpy(data.x_test)).argmax(1).numpy() == data.y_test).mean()
    print(f"wrote {args.out}: digits teacher, format {fmt}, input_shape [64], 10 classes, test accuracy {acc:.3f}")


def _text_teacher(out: Path, texts_path: Path, samples: int) -> None:
    import tempfile

    from models.text import examples

    with tempfile.TemporaryDirectory() as folder:
        out.write_bytes(examples.zipped(examples.train_teacher(Path(folder) / "bert")))
    examples.write_text_set(texts_path, samples)
    print(f"wrote {out}: a 2-layer BERT, format huggingface, classes {', '.join(examples.CLASS_NAMES)}; "
          f"wrote {texts_path}: {samples} labelled texts, a fifth of them the test split")


if __name__ == "__main__":
    main()
