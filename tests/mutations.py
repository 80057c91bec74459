"""A Hypothesis strategy for hostile bytes: a valid file with a few flips, cuts, insertions and
overwrites, the overwrites drawn from values that break length fields and parsers."""

from hypothesis import strategies as st

BREAKERS = (b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\xff\xff\xff")


@st.composite
def mutated(draw, original: bytes, breakers: tuple[bytes, ...] = ()):
    """``original`` changed in 1 to 8 places; ``breakers`` add format-specific overwrites."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "overwrite"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del data[at:at + draw(st.integers(1, 64))]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            chunk = draw(st.sampled_from([*BREAKERS, *breakers]))
            data[at:at + len(chunk)] = chunk
    return bytes(data)
