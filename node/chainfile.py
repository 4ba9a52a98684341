"""Chain files: a whole chain in one file, for export, import and the auditor.

Layout: the 8-byte magic `JUNECHN1`, then for each block in order a 4-byte big-endian length and
the block's canonical bytes. Reading checks every length against the block size cap, so a damaged
or hostile file gives a `ChainFileError`, never a huge allocation.

`read_block_zero` also takes a *raw block file*: one block's canonical CBOR bytes and nothing else,
as served by `GET /blocks/0/raw` and written by a devnet as `block0.cbor`, so that an operator can
start from whichever of the two a founder handed out.
"""

from collections.abc import Generator, Iterable, Iterator
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


def read_chain(path: Path) -> Generator[Block, None, None]:
    """The blocks of a chain file, decoded strictly, in order."""
    with path.open("rb") as stream:
        yield from _read(stream, path)


def read_block_zero(path: Path) -> Block:
    """Block 0 from a chain file (its first block) or from a raw block file; `ChainFileError`, with
    a message an operator can act on, if the file holds neither or its first block is not a block 0."""
    try:
        with path.open("rb") as stream:
            head = stream.read(len(MAGIC))
            if head == MAGIC:
                stream.seek(0)
                block = next(_read(stream, path), None)
                if block is None:
                    raise ChainFileError(f"{path} is a chain file with no block")
            else:
                raw = head + stream.read(MAX_BLOCK_SIZE + 1 - len(head))
                if len(raw) > MAX_BLOCK_SIZE:
                    raise ChainFileError(f"{path} is neither a chain file nor a block (too large)")
                if not raw:
                    raise ChainFileError(f"{path} is empty")
                try:
                    block = Block.from_bytes(raw)
                except DecodeError as exc:
                    raise ChainFileError(f"{path} is neither a chain file nor a block: {exc}") from exc
    except OSError as exc:
        raise ChainFileError(f"{path}: {exc.strerror or exc}") from exc
    if block.number != 0:
        raise ChainFileError(f"{path} starts with block {block.number}, not block 0")
    return block


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
