"""Where the auditor reads blocks from: a chain file, or a node's data directory.

A source yields each block's raw canonical bytes, never a decoded block, so that the bytes the
signature workers check are exactly the bytes the replay decodes, and so that a damaged block is
reported by the replay at its height instead of ending the read. Framing damage (a truncated file,
an impossible length) ends the read with an `AuditSourceError` saying where.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import plyvel

from node.chainfile import MAGIC
from node.datadir import STORE_NAME, read_config
from node.errors import NodeError, StoreDamaged
from node.store import LevelStore, schema
from node.store.guard import detail
from protocol.crypto import Hash
from protocol.documents.block import MAX_BLOCK_SIZE


class AuditSourceError(NodeError):
    """The blocks cannot be read (missing, damaged or locked source); the message says where."""


@dataclass(frozen=True)
class NodeClaims:
    """What a data directory says about itself: the auditor compares it with its own replay."""

    currency: str
    genesis: Hash
    head_number: int
    head_hash: Hash
    head_digest: Hash


class BlockSource(Protocol):
    """Raw blocks in chain order, from block 0."""

    @property
    def label(self) -> str:
        """Where the blocks come from, for the report."""

    @property
    def claims(self) -> NodeClaims | None:
        """The node's own account of its head, when the source is a data directory."""

    def count(self) -> int:
        """How many blocks `blocks()` will yield (for the progress bar), read cheaply."""

    def blocks(self) -> Iterator[bytes]:
        """Each block's raw bytes, in order."""

    def close(self) -> None:
        """Release the files held."""


class ChainFileSource:
    """A chain file written by `juned export` (node/chainfile.py's layout)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            with path.open("rb") as stream:
                magic = stream.read(len(MAGIC))
        except OSError as exc:
            raise AuditSourceError(f"cannot read {path}: {exc.strerror or exc}") from exc
        if magic != MAGIC:
            raise AuditSourceError(f"{path} is not a June chain file (it does not start with {MAGIC!r})")

    @property
    def label(self) -> str:
        return f"chain file {self.path}"

    @property
    def claims(self) -> NodeClaims | None:
        return None

    def count(self) -> int:
        """Blocks framed in the file, by following the length headers without reading the blocks."""
        total = 0
        with self.path.open("rb") as stream:
            stream.seek(len(MAGIC))
            while len(header := stream.read(4)) == 4:
                stream.seek(int.from_bytes(header, "big"), 1)
                total += 1
        return total

    def blocks(self) -> Iterator[bytes]:
        try:
            with self.path.open("rb") as stream:
                stream.seek(len(MAGIC))
                position = 0
                while header := stream.read(4):
                    if len(header) != 4:
                        raise AuditSourceError(f"{self.path}: truncated after {position} blocks")
                    size = int.from_bytes(header, "big")
                    if size > MAX_BLOCK_SIZE:
                        raise AuditSourceError(
                            f"{self.path}: block {position} claims {size:,} bytes, "
                            f"over the {MAX_BLOCK_SIZE:,}-byte cap: the file is damaged"
                        )
                    raw = stream.read(size)
                    if len(raw) != size:
                        raise AuditSourceError(f"{self.path}: block {position} is truncated")
                    yield raw
                    position += 1
        except OSError as exc:
            raise AuditSourceError(f"cannot read {self.path}: {exc.strerror or exc}") from exc

    def close(self) -> None:
        pass


class DataDirSource:
    """A node's data directory, read without writing anything.

    The store is opened with plyvel directly rather than with `LevelStore.open`, which stamps a
    format version on a fresh store: the auditor issues no write at all. LevelDB locks a store
    while a node runs, so the node must be stopped (or its chain exported) first.
    """

    def __init__(self, datadir: Path) -> None:
        self.datadir = datadir
        try:
            config = read_config(datadir)
        except NodeError as exc:
            raise AuditSourceError(str(exc)) from exc
        path = datadir / STORE_NAME
        if not path.is_dir():
            raise AuditSourceError(f"{datadir} has no store ({STORE_NAME}/)")
        try:
            db = plyvel.DB(str(path), create_if_missing=False, paranoid_checks=True)
        except plyvel.CorruptionError as exc:
            damage = StoreDamaged(f"LevelDB cannot open it ({detail(exc)})", str(path), str(datadir))
            raise AuditSourceError(str(damage)) from exc
        except plyvel.IOError as exc:
            raise AuditSourceError(
                f"cannot open the store of {datadir}: {exc}. If a node is running on it, stop the node "
                "or audit a chain file written by `juned export`"
            ) from exc
        except plyvel.Error as exc:
            raise AuditSourceError(f"cannot open the store of {datadir}: {exc}") from exc
        self.store = LevelStore(db)
        try:
            format_version = db.get(schema.META_FORMAT)
            if format_version is not None and int(format_version) > schema.FORMAT_VERSION:
                raise AuditSourceError(
                    f"{datadir} uses storage format {int(format_version)}; this juned reads "
                    f"{schema.FORMAT_VERSION} and older"
                )
            pointer = self.store.head_pointer()
        except (NodeError, ValueError) as exc:
            self.store.close()
            raise AuditSourceError(f"{datadir}: {exc}") from exc
        if pointer is None:
            self.store.close()
            raise AuditSourceError(f"{datadir} holds no block yet")
        number, head_hash, digest = pointer
        self._claims = NodeClaims(config.currency, config.genesis, number, head_hash, digest)

    @property
    def label(self) -> str:
        return f"data directory {self.datadir}"

    @property
    def claims(self) -> NodeClaims | None:
        return self._claims

    def count(self) -> int:
        return self._claims.head_number + 1

    def blocks(self) -> Iterator[bytes]:
        for number in range(self.count()):
            try:
                raw = self.store.block_bytes(number)  # LevelDB checksums verified
            except NodeError as exc:  # StoreDamaged names the store and the repair
                raise AuditSourceError(f"block {number} cannot be read: {exc}") from exc
            if raw is None:
                raise AuditSourceError(f"{self.datadir}: block {number} is missing from the store")
            yield raw

    def close(self) -> None:
        self.store.close()


def open_source(*, datadir: Path | None = None, chain: Path | None = None) -> BlockSource:
    """The source named by exactly one of `datadir` and `chain`."""
    if (datadir is None) == (chain is None):
        raise ValueError("give exactly one source: a data directory or a chain file")
    if chain is not None:
        return ChainFileSource(chain)
    assert datadir is not None
    return DataDirSource(datadir)
