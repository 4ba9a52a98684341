"""Penalties and bans, decided in one place (style: only `node/p2p` maps misbehaviour to bans).

Only provable misbehaviour counts: malformed requests or responses, blocks that break a rule, a
currency that is not ours. Slowness and network failures do not. A banned peer is disconnected,
forgotten by the peerstore (or the auto-connector would dial it again) and refused if it dials in.
"""

import logging
from typing import Any

from libp2p.abc import INotifee

log = logging.getLogger("june.p2p")

#: Faults after which a peer is banned.
MAX_FAULTS = 3


class BanList(INotifee):
    """Counts each peer's faults; closes connections from banned peers as they open."""

    def __init__(self) -> None:
        self.faults: dict[str, int] = {}
        self.banned: set[str] = set()

    def fault(self, peer: Any, reason: str) -> bool:
        """Count one fault of `peer`; True when it is now banned."""
        key = str(peer)
        self.faults[key] = self.faults.get(key, 0) + 1
        log.warning("peer %s: %s (fault %d of %d)", key, reason, self.faults[key], MAX_FAULTS)
        if self.faults[key] >= MAX_FAULTS and key not in self.banned:
            self.banned.add(key)
            log.warning("peer %s banned: %s", key, reason)
            return True
        return False

    def ban(self, peer: Any, reason: str) -> None:
        self.banned.add(str(peer))
        log.warning("peer %s banned: %s", peer, reason)

    def is_banned(self, peer: Any) -> bool:
        return str(peer) in self.banned

    async def connected(self, network: Any, connection: Any) -> None:
        peer = connection.muxed_conn.peer_id
        if self.is_banned(peer):
            await network.close_peer(peer)

    async def disconnected(self, network: Any, connection: Any) -> None:
        return None

    async def opened_stream(self, network: Any, stream: Any) -> None:
        return None

    async def closed_stream(self, network: Any, stream: Any) -> None:
        return None

    async def listen(self, network: Any, address: Any) -> None:
        return None

    async def listen_close(self, network: Any, address: Any) -> None:
        return None
