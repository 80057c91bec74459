"""Messages between the service and a sandboxed model: a length, a JSON header, then raw bytes.

Arrays cross as raw little-endian numbers in C order, of one of a few plain dtypes named in the header
(inputs in the teacher's input dtype, outputs as float32), so neither side ever unpickles what the other
sent; the receiving side bounds every length before reading it.
"""

import json
import math
import os
import selectors
import struct
import time

import numpy as np

LENGTH = struct.Struct(">I")
MAX_HEADER_BYTES = 1 << 20


class ProtocolError(RuntimeError):
    """The other side sent something malformed, too large, or nothing in time."""


class Timeout(ProtocolError):
    pass


def encode(header: dict, payload: bytes = b"") -> bytes:
    raw = json.dumps({**header, "nbytes": len(payload)}).encode()
    return LENGTH.pack(len(raw)) + raw + payload


WIRE_DTYPES = {"float32": "<f4", "float16": "<f2", "int64": "<i8", "int32": "<i4", "bool": "|b1"}


def array_payload(a: np.ndarray, dtype: str = "float32") -> tuple[list[int], bytes]:
    a = np.ascontiguousarray(a, dtype=WIRE_DTYPES[dtype])
    return list(a.shape), a.tobytes()


def array_from(shape: list[int], payload: bytes, dtype: str = "float32") -> np.ndarray:
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise ProtocolError(f"malformed array shape {shape!r}")
    if dtype not in WIRE_DTYPES:
        raise ProtocolError(f"an array of unknown dtype {dtype!r}")
    wire = np.dtype(WIRE_DTYPES[dtype])
    if math.prod(shape) * wire.itemsize != len(payload):
        raise ProtocolError("array bytes do not match their shape")
    return np.frombuffer(payload, dtype=wire).reshape(shape)


class Reader:
    """Reads messages from a file descriptor, each read bounded by a deadline."""

    def __init__(self, fd: int):
        self.fd = fd
        self.selector = selectors.DefaultSelector()
        self.selector.register(fd, selectors.EVENT_READ)

    def _exact(self, n: int, deadline: float | None) -> bytes:
        chunks, left = [], n
        while left:
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self.selector.select(remaining):
                    raise Timeout("no answer in time")
            chunk = os.read(self.fd, min(left, 1 << 20))
            if not chunk:
                raise EOFError("the other side closed the channel")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def receive(self, *, max_payload: int, deadline: float | None = None,
                check=None) -> tuple[dict, bytes]:
        """``check(header)`` may refuse a header before its payload is read."""
        (size,) = LENGTH.unpack(self._exact(LENGTH.size, deadline))
        if size > MAX_HEADER_BYTES:
            raise ProtocolError(f"a message header of {size} bytes")
        try:
            header = json.loads(self._exact(size, deadline))
        except (ValueError, UnicodeDecodeError):
            raise ProtocolError("a message header that is not JSON") from None
        nbytes = header.get("nbytes") if isinstance(header, dict) else None
        if not isinstance(nbytes, int) or not 0 <= nbytes <= max_payload:
            raise ProtocolError(f"a payload of {nbytes!r} bytes (at most {max_payload} expected)")
        if check is not None:
            check(header)
        return header, self._exact(nbytes, deadline)

    def close(self) -> None:
        self.selector.close()
