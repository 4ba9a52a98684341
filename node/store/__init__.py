"""The node's storage: the chain and its state in LevelDB, one atomic batch per block."""

from node.store.level import LevelStore

__all__ = ["LevelStore"]
