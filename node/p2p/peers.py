"""The peer book: addresses of peers worth dialling, kept in `<datadir>/peers.json` across restarts.

Discovery for a few dozen tiers-lieux is a static bootstrap list plus what peers tell each other
(the sync protocol's `peers` request) plus our own reconnect loop with a per-peer back-off
(libp2p-notes §8: the built-in bootstrap gives a peer up after three failed dials).
"""

import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import multiaddr
from libp2p.peer.peerinfo import info_from_p2p_addr

log = logging.getLogger("june.peers")

PEERS_FILE = "peers.json"
#: Most peers remembered; the least recently seen are forgotten first.
MAX_PEERS = 200
MAX_BACKOFF = 60.0


@dataclass
class PeerEntry:
    address: str
    last_seen: float = 0.0
    failures: int = 0
    next_try: float = 0.0


def peer_id_of(address: str) -> str | None:
    """The peer id in a full `/…/p2p/<id>` address, or None if `address` is not one."""
    try:
        return str(info_from_p2p_addr(multiaddr.Multiaddr(address)).peer_id)
    except Exception:  # any malformed text: not an address we can dial
        return None


class PeerBook:
    """Known peers by peer id, saved atomically after each change."""

    def __init__(self, datadir: Path, *, me: str, bootstrap: Sequence[str] = ()) -> None:
        self.path = datadir / PEERS_FILE
        self.me = me
        self.entries: dict[str, PeerEntry] = {}
        self._load()
        for address in bootstrap:
            self.add(address)

    def _load(self) -> None:
        if not self.path.exists():
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            for peer, entry in data.items():
                self.entries[str(peer)] = PeerEntry(**entry)
        except (ValueError, TypeError, AttributeError) as exc:
            log.warning("%s is damaged (%s): starting with an empty peer book", self.path, exc)
            self.entries = {}

    def save(self) -> None:
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(
            json.dumps({p: asdict(e) for p, e in self.entries.items()}, indent=1), encoding="utf-8"
        )
        os.replace(temporary, self.path)

    def add(self, address: str) -> bool:
        """Remember `address` (a full address with /p2p/); False if it is malformed or our own."""
        peer = peer_id_of(address)
        if peer is None or peer == self.me:
            return False
        entry = self.entries.get(peer)
        if entry is not None and entry.address == address:
            return False
        self.entries[peer] = PeerEntry(address, last_seen=entry.last_seen if entry else 0.0)
        if len(self.entries) > MAX_PEERS:
            oldest = min(self.entries, key=lambda p: self.entries[p].last_seen)
            del self.entries[oldest]
        self.save()
        return True

    def forget(self, peer: str) -> None:
        if self.entries.pop(peer, None) is not None:
            self.save()

    def due(self, connected: set[str], now: float | None = None) -> list[str]:
        """Addresses of unconnected peers whose back-off has passed."""
        now = time.time() if now is None else now
        return [e.address for p, e in self.entries.items() if p not in connected and e.next_try <= now]

    def succeeded(self, peer: str) -> None:
        entry = self.entries.get(peer)
        if entry is not None:
            entry.failures, entry.next_try, entry.last_seen = 0, 0.0, time.time()
            self.save()

    def failed(self, peer: str) -> None:
        entry = self.entries.get(peer)
        if entry is not None:
            entry.failures += 1
            entry.next_try = time.time() + min(MAX_BACKOFF, 0.5 * 2**entry.failures)
            self.save()

    def addresses(self) -> list[str]:
        return [e.address for e in sorted(self.entries.values(), key=lambda e: -e.last_seen)]
