"""Errors of the node that are not the sender's fault: the node's own storage or setup is wrong."""


class NodeError(Exception):
    """A failure of this node (disk, configuration, data directory); nobody is to blame but us."""


class StoreError(NodeError):
    """The store cannot be read or written, or its content is not what it should be."""


class DataDirError(StoreError):
    """The data directory belongs to another currency, or to a newer storage format."""
