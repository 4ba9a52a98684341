"""A node's data directory: its configuration (`juned.toml`) and its store (`db/`).

The configuration names the currency and its block 0 hash, so a node never mixes chains: opening
a data directory checks that the store holds that currency and passes its integrity check.
"""

import errno
import os
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from node.errors import DataDirError, DiskFull, StoreDamaged
from node.store import LevelStore
from protocol.crypto import Hash, hash_hex, parse_hash_hex

CONFIG_NAME = "juned.toml"
STORE_NAME = "db"
#: `juned reindex` builds the new store here, then swaps it in (see `finish_swap`).
REINDEX_NAME = STORE_NAME + ".reindex"
#: The store being replaced, during the swap.
OLD_NAME = STORE_NAME + ".old"
#: Written (synced) once the rebuilt store is complete and checked: from then on the swap is
#: finished by whoever opens the data directory next, however it was interrupted.
SWAP_MARKER = "reindex.swap"


@dataclass
class NodeConfig:
    currency: str
    genesis: Hash
    listen: str = "/ip4/127.0.0.1/tcp/0"
    bootstrap: list[str] = field(default_factory=list)
    api: str = "127.0.0.1:0"
    key_file: str = ""
    #: The addresses peers are told to dial this node at (`juned run --announce`), when the listen
    #: address is not one (behind a NAT, a port forward, a DNS name); empty: the listen address.
    announce: list[str] = field(default_factory=list)

    def to_toml(self) -> str:
        bootstrap = ", ".join(f'"{address}"' for address in self.bootstrap)
        announce = ", ".join(f'"{address}"' for address in self.announce)
        return (
            "# June node configuration (juned)\n"
            f'currency = "{self.currency}"\n'
            f'genesis = "{hash_hex(self.genesis)}"\n'
            f'listen = "{self.listen}"\n'
            f"bootstrap = [{bootstrap}]\n"
            f'api = "{self.api}"\n'
            f'key_file = "{self.key_file}"\n'
            f"announce = [{announce}]\n"
        )

    @classmethod
    def from_toml(cls, text: str, origin: Path) -> "NodeConfig":
        try:
            data = tomllib.loads(text)
            return cls(
                currency=str(data["currency"]),
                genesis=parse_hash_hex(str(data["genesis"])),
                listen=str(data.get("listen", cls.listen)),
                bootstrap=[str(a) for a in data.get("bootstrap", [])],
                api=str(data.get("api", cls.api)),
                key_file=str(data.get("key_file", "")),
                announce=[str(a) for a in data.get("announce", [])],
            )
        except (tomllib.TOMLDecodeError, KeyError, ValueError, TypeError) as exc:
            raise DataDirError(f"{origin}: not a valid juned configuration: {exc}") from exc


def config_path(datadir: Path) -> Path:
    return datadir / CONFIG_NAME


def read_config(datadir: Path) -> NodeConfig:
    path = config_path(datadir)
    if not path.is_file():
        raise DataDirError(
            f"{datadir} is not a June data directory (no {CONFIG_NAME}): run `juned init` first"
        )
    return NodeConfig.from_toml(path.read_text(encoding="utf-8"), path)


def write_config(datadir: Path, config: NodeConfig) -> None:
    path = config_path(datadir)
    try:
        datadir.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(config.to_toml(), encoding="utf-8")
        temporary.replace(path)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFull(f"the configuration {path}") from exc
        raise


def sync_directory(directory: Path) -> None:
    """Make the renames and deletions done in `directory` durable."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def mark_swap(datadir: Path) -> None:
    """Record, durably, that `db.reindex/` is complete and is to replace `db/`."""
    marker = datadir / SWAP_MARKER
    temporary = marker.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8") as stream:
        stream.write(f"{REINDEX_NAME}/ is complete: it replaces {STORE_NAME}/\n")
        stream.flush()
        os.fsync(stream.fileno())
    temporary.replace(marker)
    sync_directory(datadir)


def finish_swap(datadir: Path) -> None:
    """Bring an interrupted `juned reindex` swap to an end, so `db/` is a whole store.

    The swap is: build `db.reindex/`; write the marker; rename `db/` to `db.old/`; rename
    `db.reindex/` to `db/`; delete the marker; delete `db.old/`. A kill at any instant leaves one
    of these states, each finished here (every step is a single rename or deletion, synced):

    - marker present: the rebuilt store is complete; move `db/` aside if it is still there, put
      `db.reindex/` in its place if it is not there yet, delete the marker, then `db.old/`;
    - no marker, `db/` present: the old store is in place (a partial `db.reindex/` is left for the
      next `juned reindex`, which starts it again); a leftover `db.old/` is deleted;
    - no marker, no `db/`, `db.old/` present (a swap by an older juned, killed between its two
      renames): the old store is put back.
    """
    store, fresh, old = datadir / STORE_NAME, datadir / REINDEX_NAME, datadir / OLD_NAME
    marker = datadir / SWAP_MARKER
    if marker.exists():
        if fresh.is_dir():
            if store.exists():
                if old.exists():
                    shutil.rmtree(old)
                store.rename(old)
                sync_directory(datadir)
            fresh.rename(store)
            sync_directory(datadir)
        marker.unlink()
        sync_directory(datadir)
    elif not store.exists() and old.is_dir():
        old.rename(store)
        sync_directory(datadir)
        return
    if old.exists() and store.exists():
        shutil.rmtree(old)


def open_store(datadir: Path) -> tuple[NodeConfig, LevelStore]:
    """The configuration and the store of `datadir`, checked to belong together and to be whole
    (`LevelStore.check_integrity`); an interrupted reindex is finished first (`finish_swap`)."""
    config = read_config(datadir)
    path = datadir / STORE_NAME
    try:
        finish_swap(datadir)
    except OSError as exc:
        raise DataDirError(f"{datadir}: cannot finish an interrupted `juned reindex`: {exc}") from exc
    if not path.exists():
        raise DataDirError(f"{datadir} has no store ({STORE_NAME}/): run `juned init` again")
    try:
        store = LevelStore.open(path, create=False)
    except StoreDamaged as exc:
        raise exc.located(str(path), str(datadir)) from exc.__cause__
    try:
        store.check_integrity(currency=config.currency)
        genesis = store.genesis_hash()
        if genesis is not None and genesis != config.genesis:
            raise DataDirError(
                f"{datadir}: the store's block 0 is {hash_hex(genesis)[:16]}…, the configuration says "
                f"{hash_hex(config.genesis)[:16]}…: this data directory belongs to another currency"
            )
    except StoreDamaged as exc:
        store.close()
        raise exc.located(str(path), str(datadir)) from exc.__cause__
    except BaseException:
        store.close()
        raise
    return config, store
