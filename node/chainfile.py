"""Chain files: a whole chain in one file, for export, import and the auditor.

Layout: the 8-byte magic `JUNECHN1`, then for each block in order a 4-byte big-endian length and
the block's canonical bytes. Reading checks every length against the block size cap, so a damaged
or hostile file gives a `ChainFileError`, never a huge allocation.
"""

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from protocol.documents import Block
from protocol.documents.block import MAX_BLOCK_SIZE
from protocol.errors import DecodeError

MAGIC = b"JUNECHN1"


class ChainFileError(Exception):
    """A file that is not a June chain file, or is damaged; the message says where."""


def write_chain(path: Path, blocks: Iterable[bytes]) -> int:
    """Write the blocks' canonical bytes to `path` (atomically: a temporary file, then a rename)."""
    temporary = path.with_name(path.name + ".partial")
    count = 0
    with temporary.open("wb") as out:
        out.write(MAGIC)
        for raw in blocks:
            out.write(len(raw).to_bytes(4, "big"))
            out.write(raw)
            count += 1
    temporary.replace(path)
    return count


def read_chain(path: Path) -> Iterator[Block]:
    """The blocks of a chain file, decoded strictly, in order."""
    with path.open("rb") as stream:
        yield from _read(stream, path)


def _read(stream: BinaryIO, path: Path) -> Iterator[Block]:
    if stream.read(len(MAGIC)) != MAGIC:
        raise ChainFileError(f"{path} is not a June chain file")
    position = 0
    while True:
        header = stream.read(4)
        if not header:
            return
        if len(header) != 4:
            raise ChainFileError(f"{path}: truncated after {position} blocks")
        size = int.from_bytes(header, "big")
        if size > MAX_BLOCK_SIZE:
            raise ChainFileError(f"{path}: block {position} claims {size} bytes, the cap is {MAX_BLOCK_SIZE}")
        raw = stream.read(size)
        if len(raw) != size:
            raise ChainFileError(f"{path}: block {position} is truncated")
        try:
            yield Block.from_bytes(raw)
        except DecodeError as exc:
            raise ChainFileError(f"{path}: block {position} is malformed: {exc}") from exc
        position += 1
