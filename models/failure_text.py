"""What a tenant is told when its model fails: the kind of failure, never the model's own text.

A model's exception message is the model's to write: ``raise RuntimeError(open(path).read())``, or a
``__setstate__`` that reads a file and fails on it, would carry bytes of the sandbox to the tenant. So the
message is replaced by the exception's class, the operator that failed (read from TorchScript's
traceback, where it is an operator's name and nothing else), and those few messages of torch's own that
hold nothing but numbers.
"""

import re

# torch's messages that say what to fix and can hold only digits where they vary.
_SAFE_MESSAGES = (
    re.compile(r"mat1 and mat2 shapes cannot be multiplied \(\d+x\d+ and \d+x\d+\)"),
    re.compile(r"size mismatch, got input \(\d+\), mat \(\d+x\d+\), vec \(\d+\)"),
    re.compile(r"Expected \d+D \(unbatched\) or \d+D \(batched\) input to conv\d+d, but got input of size: "
               r"\[[\d, ]+\]"),
    re.compile(r"The size of tensor a \(\d+\) must match the size of tensor b \(\d+\) at non-singleton "
               r"dimension \d+"),
)
_OPERATOR = re.compile(r"(?:torch|ops\.([A-Za-z_][A-Za-z0-9_]{0,40}))\.([A-Za-z_][A-Za-z0-9_]{0,60})")
_CLASS = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,80}")


def _failed_operator(text: str) -> str | None:
    """The operator under TorchScript's ``~~~ <--- HERE`` marker in the serialized code's traceback."""
    lines = text.splitlines()
    for i in range(len(lines) - 1, 0, -1):
        marker = lines[i]
        if "<--- HERE" not in marker or "~" not in marker:
            continue
        start = marker.index("~")
        found = _OPERATOR.match(lines[i - 1][start:])
        if found:
            namespace = found.group(1) or "aten"
            return f"{namespace}::{found.group(2)}"
    return None


def describe_failure(exc: BaseException) -> str:
    """``RuntimeError in aten::from_file (the model's own message is not shown)``, or torch's message when
    it is one of the few known to hold only numbers."""
    kind = type(exc).__name__
    kind = kind if _CLASS.fullmatch(kind) else "an exception"
    text = str(exc)
    for pattern in _SAFE_MESSAGES:
        found = pattern.search(text)
        if found:
            return f"{kind}: {found.group(0)}"
    operator = _failed_operator(text)
    where = f" in {operator}" if operator else ""
    return f"{kind}{where} (the model's own message is not shown)"
