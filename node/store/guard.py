"""`GuardedDB`: a plyvel database whose errors say what happened in June's words.

Every LevelDB call of the node goes through it (the store, the mempool, the candidates), so a
LevelDB error never surfaces raw: a checksum mismatch or a corrupt table (`plyvel.CorruptionError`)
becomes `StoreDamaged`, naming the store and the repair; "No space left on device" becomes
`DiskFull`, logged once as a WARNING until a write succeeds again; anything else is a `StoreError`.

LevelDB keeps refusing every write after a background write failed (a memtable flush on a full
disk), until it is reopened: while the disk is full, a write first reopens the database if there is
free space again (`REOPEN_FREE`), so a node resumes by itself once space returns.
"""

import errno
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import plyvel

from node.errors import DiskFull, StoreDamaged, StoreError

log = logging.getLogger("june.store")

NO_SPACE = "No space left on device"
#: Free bytes on the store's filesystem before a store that ran out of space is reopened.
REOPEN_FREE = 8 << 20


def detail(exc: BaseException) -> str:
    """LevelDB's own words (plyvel passes them as bytes)."""
    argument = exc.args[0] if exc.args else exc
    return argument.decode("utf-8", "replace") if isinstance(argument, bytes) else str(argument)


def is_disk_full(exc: BaseException) -> bool:
    """True for LevelDB's ENOSPC error and for an `OSError(ENOSPC)` from a file write."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    words = detail(exc)
    return isinstance(exc, plyvel.Error) and (NO_SPACE in words or "quota exceeded" in words)


class GuardedDB:
    """The subset of `plyvel.DB` the node uses, with its errors translated (see the module)."""

    def __init__(self, db: Any, path: Path) -> None:
        self._db = db
        self.path = path
        #: True from a write refused for lack of space until a write succeeds.
        self.full = False
        #: LevelDB checks the CRC of every table block it reads from a file (not of cached ones)
        self.verify_checksums = True
        self._lost = False
        #: Opens the database again (see `_reopen_if_space`).
        self.opener: Callable[[], Any] = lambda: plyvel.DB(
            str(path), create_if_missing=False, paranoid_checks=True
        )

    # Errors -------------------------------------------------------------------------------------

    def damaged(self, what: str) -> StoreDamaged:
        return StoreDamaged(what, str(self.path), str(self.path.parent))

    def translate(self, exc: Exception, *, writing: bool) -> StoreError:
        if isinstance(exc, plyvel.CorruptionError):
            return self.damaged(f"LevelDB found corrupt data ({detail(exc)})")
        if is_disk_full(exc):
            what = f"the store {self.path}"
            if not self.full:
                self.full = True
                log.warning(
                    "disk full: %s could not be written; the node stops accepting writes until space returns",
                    what,
                )
            return DiskFull(what)
        return StoreError(f"the store {self.path} failed: {detail(exc)}")

    def _reopen_if_space(self) -> None:
        """Before a write while the disk is full: reopen LevelDB if space has returned (it refuses
        writes for good after a failed background flush, until reopened)."""
        if not self.full:
            return
        try:
            stats = os.statvfs(self.path)
        except OSError:
            return
        if stats.f_bavail * stats.f_frsize < REOPEN_FREE:
            return
        self._db.close()
        self._lost = True  # closed and not yet open again: reads retry the opening too
        try:
            self._db = self.opener()
        except plyvel.Error as exc:
            raise self.translate(exc, writing=True) from exc
        self._lost = False

    def _written(self) -> None:
        if self.full:
            self.full = False
            log.warning("disk space is back: the store %s accepts writes again", self.path)

    # plyvel.DB ----------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return bool(self._db.closed)

    def close(self) -> None:
        self._db.close()

    def get(self, key: bytes, default: Any = None, **options: Any) -> Any:
        options.setdefault("verify_checksums", self.verify_checksums)
        if self._lost:
            self._reopen_if_space()
        try:
            return self._db.get(key, default, **options)
        except plyvel.Error as exc:
            raise self.translate(exc, writing=False) from exc

    def put(self, key: bytes, value: bytes, **options: Any) -> None:
        self._reopen_if_space()
        try:
            self._db.put(key, value, **options)
        except plyvel.Error as exc:
            raise self.translate(exc, writing=True) from exc
        self._written()

    def delete(self, key: bytes, **options: Any) -> None:
        self._reopen_if_space()
        try:
            self._db.delete(key, **options)
        except plyvel.Error as exc:
            raise self.translate(exc, writing=True) from exc
        self._written()

    @contextmanager
    def write_batch(self, **options: Any) -> Iterator[Any]:
        """A batch written when the block ends (not at all if it raises)."""
        self._reopen_if_space()
        try:
            with self._db.write_batch(**options) as batch:
                yield batch
        except plyvel.Error as exc:
            raise self.translate(exc, writing=True) from exc
        self._written()

    def iterator(self, **options: Any) -> "GuardedIterator":
        options.setdefault("verify_checksums", self.verify_checksums)
        if self._lost:
            self._reopen_if_space()
        try:
            return GuardedIterator(self._db.iterator(**options), self)
        except plyvel.Error as exc:
            raise self.translate(exc, writing=False) from exc


class GuardedIterator:
    """A plyvel iterator whose errors are translated (an object, not a generator: left unfinished,
    it is released like plyvel's own, with nothing to run at collection)."""

    def __init__(self, inner: Any, db: GuardedDB) -> None:
        self._inner = inner
        self._db = db

    def __iter__(self) -> "GuardedIterator":
        return self

    def __next__(self) -> Any:
        try:
            return next(self._inner)
        except plyvel.Error as exc:
            raise self._db.translate(exc, writing=False) from exc

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
