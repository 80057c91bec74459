"""How much of a model archive the static check may read: members, decoded bytes and pickle opcodes.

A zip's central directory can list millions of members, and each deflated member can claim anything: a
392 KB file of six 64 MiB pickles once cost 145 s of API CPU. The check counts members from the end
record before ``zipfile`` parses the directory, refuses a member whose claimed size or expansion is out
of bounds before decompressing it, and stops once the bytes read or opcodes walked pass a total.
"""

import struct
import zipfile

MAX_MEMBERS = 50_000  # an archive's entries: code, pickles and one file per tensor
MAX_MEMBER_BYTES = 64 * 1024**2  # one pickle, config or code file, decoded
MAX_SCANNED_BYTES = 128 * 1024**2  # all of them together
MAX_OPCODES = 1_000_000  # pickle opcodes walked in all; a network's metadata takes thousands
MAX_RATIO = 200  # a member past RATIO_FLOOR may expand at most this much
RATIO_FLOOR = 1024**2

_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")


class BudgetExceeded(ValueError):
    """The archive holds more than the check may read; the message says what and how to fix it."""


def zip_member_count(path) -> int | None:
    """The number of entries the archive's end record claims (None when it has none: not a zip)."""
    with open(path, "rb") as f:
        f.seek(0, 2)
        size = f.tell()
        tail_start = max(0, size - (_EOCD.size + 65535 + _ZIP64_LOCATOR.size))
        f.seek(tail_start)
        tail = f.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        return None
    fields = _EOCD.unpack_from(tail, at)
    count = max(fields[3], fields[4])
    if count == 0xFFFF and at >= _ZIP64_LOCATOR.size:
        locator = _ZIP64_LOCATOR.unpack_from(tail, at - _ZIP64_LOCATOR.size)
        if locator[0] == b"PK\x06\x07":
            with open(path, "rb") as f:
                f.seek(locator[2])
                record = f.read(_ZIP64_EOCD.size)
            if len(record) == _ZIP64_EOCD.size and record[:4] == b"PK\x06\x06":
                values = _ZIP64_EOCD.unpack(record)
                count = max(values[6], values[7])
    return count


class ScanBudget:
    """What one archive's check has read so far."""

    def __init__(self, *, max_members: int = MAX_MEMBERS, max_member_bytes: int = MAX_MEMBER_BYTES,
                 max_bytes: int = MAX_SCANNED_BYTES, max_opcodes: int = MAX_OPCODES):
        self.max_members, self.max_member_bytes = max_members, max_member_bytes
        self.max_bytes, self.max_opcodes = max_bytes, max_opcodes
        self.bytes = self.opcodes = 0

    def members(self, path) -> None:
        count = zip_member_count(path)
        if count is not None and count > self.max_members:
            raise BudgetExceeded(f"the archive holds {count} members, more than the {self.max_members} a model "
                                 "archive may hold")

    def claim(self, info: zipfile.ZipInfo, limit: int | None = None) -> None:
        """A member's sizes from its header, before a byte of it is decompressed."""
        limit = min(limit or self.max_member_bytes, self.max_member_bytes)
        if info.file_size > limit:
            raise BudgetExceeded(f"the archive member {info.filename!r} is {info.file_size} bytes decoded; a "
                                 f"member the check reads may be at most {limit}")
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise BudgetExceeded(f"the archive member {info.filename!r} expands from {info.compress_size} to "
                                 f"{info.file_size} bytes, more than {MAX_RATIO} times; save the model again "
                                 "without compressing it that much")
        if self.bytes + info.file_size > self.max_bytes:
            raise BudgetExceeded(f"the archive's code, pickles and configs take more than {self.max_bytes} bytes "
                                 "decoded, more than a network's metadata needs")
        self.bytes += info.file_size

    def opcode(self, member: str) -> None:
        self.opcodes += 1
        if self.opcodes > self.max_opcodes:
            raise BudgetExceeded(f"the archive's pickles hold more than {self.max_opcodes} opcodes (the limit was "
                                 f"passed in {member!r}), more than a network's metadata needs")
