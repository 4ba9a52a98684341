"""Errors of the node that are not the sender's fault: the node's own storage or setup is wrong."""


class NodeError(Exception):
    """A failure of this node (disk, configuration, data directory); nobody is to blame but us."""


class StoreError(NodeError):
    """The store cannot be read or written, or its content is not what it should be."""


class DataDirError(StoreError):
    """The data directory belongs to another currency, or to a newer storage format."""


#: What to do about a damaged store, said with every `StoreDamaged` message.
REPAIR_ADVICE = (
    "repair: `juned reindex --datadir {datadir}` rebuilds the state from the blocks; if blocks "
    "themselves are damaged, re-sync: move {store} aside, `juned init --datadir {datadir} --genesis "
    "FILE` from the chain's block 0, then `juned run` downloads the chain from peers"
)


class StoreDamaged(StoreError):
    """The store's content fails a check (a LevelDB checksum, a missing or unlinked block, a head
    that disagrees with its block): damaged outside June, since a crash cannot do it. The message
    names what is damaged and how to repair it, in one line."""

    def __init__(self, what: str, store: str = "db/", datadir: str = "DATADIR") -> None:
        self.what = what
        self.store = store
        self.datadir = datadir
        super().__init__(self._message())

    def _message(self) -> str:
        advice = REPAIR_ADVICE.format(datadir=self.datadir, store=self.store)
        return f"the store {self.store} is damaged: {self.what}; {advice}"

    def located(self, store: str, datadir: str) -> "StoreDamaged":
        """The same damage, named with the store's path and its data directory."""
        located = StoreDamaged(self.what, store, datadir)
        located.__cause__ = self.__cause__
        return located


class DiskFull(StoreError):
    """A write failed because the disk is full (ENOSPC): nothing was damaged, and writes succeed
    again once space is freed."""

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(
            f"disk full: {what} could not be written; free some space and try again (nothing was damaged)"
        )
