"""Saying what went wrong in one plain line: the real reason under Trio's exception groups, a busy
port, a data directory held by another running `juned`.

Trio wraps every failure of a task in an exception group per nursery it crosses, and libp2p's
errors are often such groups turned into text: a log line or a message then reads "Exceptions from
Trio nursery (1 sub-exception)" and hides the reason. `describe_exception` is used by every log
line and message that shows a caught exception, so that the operator reads the reason itself.
"""

import errno
import fcntl
import os
import re
import socket
import struct
from collections.abc import Iterator
from pathlib import Path

from node.datadir import STORE_NAME
from node.errors import NodeError

#: Modules whose exceptions carry messages meant for an operator: shown without their class name.
OWN_MODULES = ("node.", "protocol.", "wallet.")


def leaves(exc: BaseException) -> Iterator[BaseException]:
    """The exceptions inside `exc`'s (nested) groups, in order; `exc` itself if it is no group."""
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from leaves(inner)
    else:
        yield exc


def _plain(exc: BaseException) -> str:
    """One exception's own words, with its class name when the words alone would say little."""
    text = str(exc).strip()
    if type(exc).__module__.startswith(OWN_MODULES):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def describe_exception(exc: BaseException) -> str:
    """`exc` as one line, with every exception group replaced by the reasons of its members.

    A group is described by its leaves (joined by "; " when there are several, each said once);
    an exception whose message quotes a group it was raised from (`PeerFailed(f"{peer}: {exc}")`)
    has the quoted summary replaced by that group's description."""
    if isinstance(exc, BaseExceptionGroup):
        seen: list[str] = []
        for leaf in leaves(exc):
            text = describe_exception(leaf)
            if text not in seen:
                seen.append(text)
        return "; ".join(seen) or type(exc).__name__
    text = _plain(exc)
    cause: BaseException | None = exc.__cause__ or exc.__context__
    depth = 0
    while cause is not None and depth < 10:  # a chain of wrappers, each quoting the one below
        if isinstance(cause, BaseExceptionGroup) and str(cause) and str(cause) in text:
            text = text.replace(str(cause), describe_exception(cause))
        cause = cause.__cause__ or cause.__context__
        depth += 1
    return " ".join(text.split())


# --- busy ports ---------------------------------------------------------------------------------


class AddressInUse(NodeError):
    """A port this node must listen on is taken (another program, or another juned)."""

    def __init__(self, what: str, address: str, port: int | None, detail: str = "") -> None:
        self.what, self.address, self.port = what, address, port
        where = f"port {port}" if port is not None else address
        extra = f" ({detail})" if detail else ""
        super().__init__(
            f"{where} is already in use: the {what} cannot listen on {address}{extra}; stop what "
            f"uses it or choose another address"
        )


def address_in_use(exc: BaseException) -> OSError | None:
    """The EADDRINUSE error inside `exc` (and its groups and causes), if there is one."""
    for leaf in leaves(exc):
        current: BaseException | None = leaf
        while current is not None:
            if isinstance(current, OSError) and current.errno == errno.EADDRINUSE:
                return current
            current = current.__cause__
    return None


def host_port(address: str) -> tuple[str, int] | None:
    """(host, port) of `host:port` or of a multiaddr `/ip4|ip6/<host>/tcp/<port>…`; None if neither."""
    if address.startswith("/"):
        parts = address.split("/")
        if len(parts) >= 5 and parts[1] in ("ip4", "ip6", "dns", "dns4", "dns6") and parts[3] == "tcp":
            try:
                return parts[2], int(parts[4])
            except ValueError:
                return None
        return None
    host, _, port = address.rpartition(":")
    try:
        return host.strip("[]") or "0.0.0.0", int(port)
    except ValueError:
        return None


def probe_listen(address: str) -> OSError | None:
    """Why binding `address` fails right now (a test bind, closed at once), or None if it would not.
    Used after a listener failed without saying why (py-libp2p logs and goes on)."""
    parsed = host_port(address)
    if parsed is None or parsed[1] == 0:
        return None
    host, port = parsed
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: TIME_WAIT is fine
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc
    return None


def listen_failure(what: str, address: str, exc: BaseException | None = None) -> NodeError:
    """The one-line error of a listener (`what`: "client API", "p2p listener") that could not open
    `address`: a busy port said as such, any other reason in its own words."""
    busy = address_in_use(exc) if exc is not None else None
    reason: BaseException | None = busy or (exc if exc is not None else probe_listen(address))
    parsed = host_port(address)
    if busy is not None or (isinstance(reason, OSError) and reason.errno == errno.EADDRINUSE):
        return AddressInUse(what, address, None if parsed is None else parsed[1])
    because = describe_exception(reason) if reason is not None else "the address cannot be listened on"
    return NodeError(f"the {what} cannot listen on {address}: {because}")


# --- a data directory held by another process ---------------------------------------------------


def store_locked(exc: BaseException) -> bool:
    """Whether opening a store failed because another process holds it: LevelDB's lock error
    (plyvel's IOError saying `…/LOCK: …`), wherever it sits in `exc`'s causes."""
    current: BaseException | None = exc
    while current is not None:
        if isinstance(current, OSError) and type(current).__module__.startswith("plyvel"):
            words = current.args[0] if current.args else b""
            text = words.decode("utf-8", "replace") if isinstance(words, bytes) else str(words)
            if "/LOCK" in text or "LOCK:" in text:
                return True
        current = current.__cause__
    return False


def lock_holder(store: Path) -> int | None:
    """The pid of the process holding LevelDB's lock on `store` (a POSIX record lock, which
    F_GETLK reports), or None if it cannot be known."""
    try:
        descriptor = os.open(store / "LOCK", os.O_RDWR)
    except OSError:
        return None
    try:
        query = struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        answer = fcntl.fcntl(descriptor, fcntl.F_GETLK, query)
        kind, _whence, _start, _length, pid = struct.unpack("hhqqi4x", answer)
    except (OSError, struct.error, ValueError):
        return None
    finally:
        os.close(descriptor)
    return pid if kind != fcntl.F_UNLCK and pid > 0 else None


class DataDirBusy(NodeError):
    """The data directory's store is open in another running juned."""

    def __init__(self, datadir: Path, pid: int | None) -> None:
        self.datadir, self.pid = datadir, pid
        who = f" (pid {pid})" if pid is not None else ""
        super().__init__(
            f"{datadir} is used by another running juned{who}: stop it first, or ask it through its "
            "client API (`juned status`, `juned export` and `juned peers` do)"
        )


def locked_store_path(exc: BaseException) -> Path | None:
    """The store whose lock `exc` failed to take (LevelDB names its `…/LOCK` file), if it did."""
    current: BaseException | None = exc
    while current is not None:
        if isinstance(current, OSError) and type(current).__module__.startswith("plyvel"):
            words = current.args[0] if current.args else b""
            text = words.decode("utf-8", "replace") if isinstance(words, bytes) else str(words)
            found = re.search(r"(/\S*)/LOCK\b", text)
            if found is not None:
                return Path(found.group(1))
        current = current.__cause__
    return None


def busy_store(exc: BaseException) -> DataDirBusy | None:
    """`DataDirBusy` for the data directory of the store `exc` could not lock, else None: what any
    command opening a data directory says when a node runs on it."""
    store = locked_store_path(exc)
    return None if store is None else DataDirBusy(store.parent, lock_holder(store))


def busy_datadir(datadir: Path, exc: BaseException) -> DataDirBusy | None:
    """`DataDirBusy` for `datadir` if `exc` is the store's lock error, else None."""
    if not store_locked(exc):
        return None
    return DataDirBusy(datadir, lock_holder(datadir / STORE_NAME))
