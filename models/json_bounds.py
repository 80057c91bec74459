"""How deeply JSON text nests, measured without parsing it.

``json.loads`` and pydantic recurse once per level of nesting: ``[[[[…]]]]`` a few thousand levels deep
raises RecursionError (a 500) and, below that, costs a stack frame and a Python object per bracket. The
depth is found here in a few vectorised passes over the bytes (no recursion, no objects per byte), so text
nested past a bound is refused before any parser sees it.

For valid JSON the depth is exact. For invalid JSON it is exact up to the first error, which is as far as
a parser would get before refusing the text, so a parser never goes deeper than this says.
"""

import json

import numpy as np

MAX_JSON_DEPTH = 32  # the deepest spec the API takes (a sweep of student specs) nests 5 levels

_QUOTE, _BACKSLASH = ord('"'), ord("\\")
_OPENERS, _CLOSERS = (ord("["), ord("{")), (ord("]"), ord("}"))


class JSONTooDeep(ValueError):
    def __init__(self, depth: int, limit: int):
        super().__init__(f"the JSON nests {depth} levels deep, more than the limit of {limit}; "
                         "send a flatter document")
        self.depth, self.limit = depth, limit


def _as_utf8(text: bytes | str) -> bytes:
    if isinstance(text, str):
        return text.encode("utf-8", "surrogatepass")
    # json.loads reads UTF-16 and UTF-32 too, where a bracket's byte may be half of another character:
    # measure the text the parser would see.
    encoding = json.detect_encoding(text)
    if encoding == "utf-8":
        return text
    return text.decode(encoding, "replace").encode("utf-8", "surrogatepass")


def nesting_depth(text: bytes | str) -> int:
    """The most arrays and objects open at once anywhere in ``text``, brackets inside strings not counted."""
    raw = np.frombuffer(_as_utf8(text), np.uint8)
    if raw.size == 0:
        return 0
    positions = np.arange(raw.size)
    # A quote is escaped when an odd number of backslashes runs right before it.
    last_plain = np.maximum.accumulate(np.where(raw != _BACKSLASH, positions, -1))
    backslashes_before = np.empty(raw.size, np.int64)
    backslashes_before[0] = 0
    backslashes_before[1:] = positions[:-1] - last_plain[:-1]
    quotes = (raw == _QUOTE) & (backslashes_before % 2 == 0)
    # Inside a string after an odd number of unescaped quotes; a bracket is never a quote itself.
    outside = (np.cumsum(quotes) & 1) == 0
    steps = (np.isin(raw, _OPENERS) & outside).astype(np.int32) - (np.isin(raw, _CLOSERS) & outside)
    return int(np.cumsum(steps).max(initial=0))


def check_depth(text: bytes | str, limit: int = MAX_JSON_DEPTH) -> None:
    depth = nesting_depth(text)
    if depth > limit:
        raise JSONTooDeep(depth, limit)
