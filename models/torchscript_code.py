"""The operators a TorchScript archive's code calls, read from its ``code/`` files without compiling them.

``torch.jit.load`` compiles every class the archive holds and runs its ``__setstate__`` while loading,
before a graph can be asked what it calls. So every method — ``forward``, exported ones and
``__setstate__`` alike — is read here as text: serialized TorchScript is Python syntax in which an
``aten`` operator is written ``torch.<name>`` and any other ``ops.<namespace>.<name>``. The code is
tokenized, never executed; a file that does not tokenize is refused, not guessed.
"""

import io
import tokenize

# Short names of the refused operators (see models.inspection.REFUSED_OPERATORS): a hand-edited archive
# may reach them as tensor methods (``t.set_(...)``) or bare calls (``fork(...)``), not only as ``torch.x``.
SIGNIFICANT = (tokenize.NAME, tokenize.OP, tokenize.STRING, tokenize.NUMBER)


class CodeUnreadable(ValueError):
    pass


def _tokens(source: bytes, member: str) -> list[tuple[int, str]]:
    try:
        text = source.decode("utf-8")
        return [(t.type, t.string) for t in tokenize.generate_tokens(io.StringIO(text).readline)
                if t.type in SIGNIFICANT]
    except (UnicodeDecodeError, tokenize.TokenError, SyntaxError) as exc:
        raise CodeUnreadable(f"the archive's code file {member!r} is not readable TorchScript code "
                             f"({type(exc).__name__})") from None


def _chain(tokens: list[tuple[int, str]], i: int) -> list[str]:
    """The dotted name starting at token ``i``: ``torch.ops.aten.add`` -> ['torch', 'ops', 'aten', 'add']."""
    names = [tokens[i][1]]
    while i + 2 < len(tokens) and tokens[i + 1] == (tokenize.OP, ".") and tokens[i + 2][0] == tokenize.NAME:
        names.append(tokens[i + 2][1])
        i += 2
    return names


def called_operators(source: bytes, member: str, short_names: dict[str, str]) -> set[str]:
    """Operators the code refers to, as ``namespace::name``; ``short_names`` maps a refused operator's
    short name to its full name, so that any use of the name (an attribute, a call, a string) counts."""
    tokens = _tokens(source, member)
    ops: set[str] = set()
    for i, (kind, text) in enumerate(tokens):
        if kind == tokenize.STRING:
            literal = text.strip("'\"bBrRuUfF")
            if literal in short_names or literal in short_names.values():
                ops.add(short_names.get(literal, literal))
            continue
        if kind != tokenize.NAME:
            continue
        if text in short_names:
            ops.add(short_names[text])
        if i and tokens[i - 1] == (tokenize.OP, "."):
            continue  # inside a chain already read from its start
        chain = _chain(tokens, i)
        if chain[0] == "torch" and len(chain) >= 4 and chain[1] == "ops":
            ops.add(f"{chain[2]}::{chain[3]}")
        elif chain[0] == "ops" and len(chain) >= 3:
            ops.add(f"{chain[1]}::{chain[2]}")
        elif chain[0] == "torch" and len(chain) == 2:
            ops.add(f"aten::{chain[1]}")
        elif chain[0] == "torch" and len(chain) > 2:
            ops.add(".".join(chain))  # not a form serialized code takes: its namespace is refused
    return ops
