"""The peer book: addresses of peers worth dialling, kept in `<datadir>/peers.json` across restarts.

Discovery for a few dozen tiers-lieux is a static bootstrap list plus what peers tell each other
(the sync protocol's `peers` request) plus our own reconnect loop with a per-peer back-off
(libp2p-notes §8: the built-in bootstrap gives a peer up after three failed dials).

What a peer tells us is hearsay, so one `peers` answer must not turn into dozens of dials (measured:
64 tarpit addresses in one answer made 123 dials in 30 s). Hence two kinds of entry:

* **trusted**: given by the operator (bootstrap list, `juned run --bootstrap`, `Node.connect`) or
  dialled successfully at least once. Dialled with an exponential back-off per peer, never dropped
  for failing, saved in `peers.json` and advertised to other peers.
* **untrusted**: heard in a `peers` answer and never reached. At most `MAX_HEARD_PER_ANSWER` taken
  per answer, `MAX_UNTRUSTED_PER_SOURCE` per answering peer and `MAX_UNTRUSTED` in all (the oldest
  dropped); dialled from a token bucket (`UNTRUSTED_BURST` at once, then one every
  `UNTRUSTED_DIAL_EVERY` seconds), dropped after `MAX_UNTRUSTED_FAILURES` failed dials, never
  advertised and not saved: a restart forgets them. One successful dial makes an entry trusted.

The caller (the network's reconnect loop) asks `due()` what to dial, dials exactly that, and reports
each outcome with `succeeded()` or `failed()`; a dial started elsewhere (`Node.connect`) is announced
with `dialing()` first. See `PeerBook.due`.
"""

import ipaddress
import json
import logging
import os
import re
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import multiaddr
from libp2p.peer.peerinfo import info_from_p2p_addr

log = logging.getLogger("june.peers")

PEERS_FILE = "peers.json"
#: Most trusted peers remembered; the least recently seen (bootstrap ones last) are forgotten first.
MAX_PEERS = 200
#: Back-off of a trusted peer after n failures: min(MAX_BACKOFF, 0.5 * 2**n) seconds.
MAX_BACKOFF = 60.0

#: Most new addresses taken from one `peers` answer, and most entries of one answer looked at.
MAX_HEARD_PER_ANSWER = 8
MAX_SCANNED_PER_ANSWER = 64
#: Most untrusted candidates in the book (the oldest heard are dropped), and per answering peer.
MAX_UNTRUSTED = 64
MAX_UNTRUSTED_PER_SOURCE = 16
#: Failed dials after which an untrusted candidate is dropped, and the wait before its second dial.
MAX_UNTRUSTED_FAILURES = 2
UNTRUSTED_RETRY = 30.0
#: Token bucket of untrusted dials: at most UNTRUSTED_BURST + t / UNTRUSTED_DIAL_EVERY dials in any
#: t seconds (12 in 30 s), and at most MAX_UNTRUSTED_IN_FLIGHT of them at once.
UNTRUSTED_BURST = 2
UNTRUSTED_DIAL_EVERY = 3.0
MAX_UNTRUSTED_IN_FLIGHT = 2
#: Most dials (trusted and untrusted) in flight at once.
MAX_IN_FLIGHT = 16
#: A dial neither `succeeded` nor `failed` after this long is no longer counted as in flight (an
#: untrusted one counts as failed). Longer than the node's 3 attempts of 10 s.
IN_FLIGHT_EXPIRY = 60.0

#: Longest address text considered at all (the wire allows 200 characters).
MAX_ADDRESS_LENGTH = 256
_HOST_PROTOCOLS = frozenset({"ip4", "ip6", "dns", "dns4", "dns6"})
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_TOP_LABEL = re.compile(r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


@dataclass
class PeerEntry:
    address: str
    last_seen: float = 0.0
    failures: int = 0
    next_try: float = 0.0
    #: Given by the operator or reached once; False for a candidate only heard of.
    trusted: bool = True
    #: Given by the operator in this run (bootstrap, `add`): never evicted first. Not saved.
    operator: bool = False
    #: For an untrusted candidate: the peer that told us, and when.
    source: str = ""
    heard_at: float = 0.0


def _dialable_ip(text: str) -> bool:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return False
    if ip.is_loopback:  # ::1 sits in a reserved range; tests and single-machine devnets dial it
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return _dialable_ip(str(ip.ipv4_mapped))
        if ip.is_link_local:  # needs a zone, which a multiaddr cannot carry here
            return False
    return not (ip.is_unspecified or ip.is_multicast or ip.is_reserved)


def _dialable_host(protocol: str, host: str) -> bool:
    if protocol in ("ip4", "ip6"):
        return _dialable_ip(host)
    if len(host) > 253:
        return False
    labels = host.split(".")
    # A numeric or hex last label ("0", "127.1", "0x0") is an IP in disguise: getaddrinfo takes it.
    return all(_LABEL.fullmatch(label) for label in labels) and bool(_TOP_LABEL.fullmatch(labels[-1]))


def dialable(address: str) -> bool:
    """Whether `address` is worth a dial: exactly `/ip4|ip6|dns|dns4|dns6/<host>/tcp/<port>/p2p/<id>`
    with a unicast host (loopback and private ranges allowed; `0.0.0.0`, `::`, multicast, broadcast,
    reserved and IPv6 link-local refused; DNS names must be plain names, not numbers), a port other
    than 0 and a valid peer id. Text longer than `MAX_ADDRESS_LENGTH` is refused unparsed."""
    if not isinstance(address, str) or len(address) > MAX_ADDRESS_LENGTH:
        return False
    try:
        parts = list(multiaddr.Multiaddr(address).items())
    except Exception:  # any malformed text
        return False
    if len(parts) != 3:
        return False
    (host_protocol, host), (transport, port), (p2p, _) = parts
    if host_protocol.name not in _HOST_PROTOCOLS or transport.name != "tcp" or p2p.name != "p2p":
        return False
    if not _dialable_host(host_protocol.name, str(host)) or int(port) == 0:
        return False
    return peer_id_of(address) is not None


def _ip_of(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP host of a multiaddr (an IPv4-mapped IPv6 as its IPv4), or None (a DNS name, junk)."""
    try:
        first = next(iter(multiaddr.Multiaddr(address).items()), None)
    except Exception:  # any malformed text
        return None
    if first is None or first[0].name not in ("ip4", "ip6"):
        return None
    try:
        ip = ipaddress.ip_address(str(first[1]))
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def is_unspecified(address: str) -> bool:
    """Whether `address` is on `0.0.0.0` or `::`: a place to listen, never a place to dial."""
    ip = _ip_of(address)
    return ip is not None and ip.is_unspecified


def is_loopback_ip(host: str) -> bool:
    """Whether the text IP `host` (a socket's remote address) is a loopback one; False for junk."""
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def shareable(addresses: Sequence[str], *, to_loopback: bool) -> list[str]:
    """The `addresses` this node may tell a peer (in a `peers` answer, in identify): only `dialable`
    ones, so never `0.0.0.0` or `::`, and loopback ones only to a peer that is itself on loopback
    (`to_loopback`): elsewhere 127.0.0.1 names the peer's own machine, where it would dial itself or
    a stranger. Order kept, duplicates dropped."""
    kept: list[str] = []
    for address in addresses:
        if address in kept or not dialable(address):
            continue
        ip = _ip_of(address)
        if ip is not None and ip.is_loopback and not to_loopback:
            continue
        kept.append(address)
    return kept


def expand_unspecified(address: str, interfaces: Sequence[str]) -> list[str]:
    """`address` with an unspecified host replaced by each of `interfaces` (IPs of the same family):
    a node listening on `/ip4/0.0.0.0/tcp/7777` is reachable at each of its machine's IPv4s on port
    7777, and that is what it can hand out. Other addresses are returned as they are."""
    ip = _ip_of(address)
    if ip is None or not ip.is_unspecified:
        return [address]
    family = "ip4" if ip.version == 4 else "ip6"
    parts = str(multiaddr.Multiaddr(address)).split("/", 3)  # ["", "ip4", "0.0.0.0", "tcp/7777/…"]
    if len(parts) < 4:
        return []
    tail = parts[3]
    expanded = []
    for interface in interfaces:
        try:
            candidate = ipaddress.ip_address(interface)
        except ValueError:
            continue
        if candidate.version == ip.version and not candidate.is_unspecified:
            expanded.append(f"/{family}/{candidate}/{tail}")
    return expanded


def local_ipv4_addresses() -> list[str]:
    """This machine's IPv4 addresses, loopback last (what a listener on 0.0.0.0 is reachable at).

    From the host name's addresses and the source address of the default route (a UDP socket
    `connect` sends nothing); no interface library needed, and any failure just gives fewer."""
    found: list[str] = []
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.append(str(info[4][0]))
    except OSError:
        pass
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere, nothing is sent
            found.append(str(probe.getsockname()[0]))
    except OSError:
        pass
    outside = [a for a in dict.fromkeys(found) if not ipaddress.ip_address(a).is_loopback]
    outside = [a for a in outside if not ipaddress.ip_address(a).is_unspecified]
    return [*outside, "127.0.0.1"]


def peer_id_of(address: str) -> str | None:
    """The peer id in a full `/…/p2p/<id>` address, or None if `address` is not one."""
    if not isinstance(address, str) or len(address) > MAX_ADDRESS_LENGTH:
        return None
    try:
        return str(info_from_p2p_addr(multiaddr.Multiaddr(address)).peer_id)
    except Exception:  # any malformed text: not an address we can dial
        return None


def _normalised(address: str) -> str:
    return str(multiaddr.Multiaddr(address))


def _endpoint(address: str) -> str:
    """The host and port part of a normalised address: two peer ids at one endpoint cannot both be."""
    return address.split("/p2p/", 1)[0]


class PeerBook:
    """Known peers by peer id; trusted entries saved atomically after each change.

    `entries` holds trusted and untrusted entries alike (see the module docstring)."""

    def __init__(
        self,
        datadir: Path,
        *,
        me: str,
        bootstrap: Sequence[str] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = datadir / PEERS_FILE
        self._unsaved = False  # the last save failed (said once in the log)
        self.me = me
        self.clock = clock
        self.entries: dict[str, PeerEntry] = {}
        #: Peer id -> when its dial started, for dials not yet reported.
        self.in_flight: dict[str, float] = {}
        self._tokens = float(UNTRUSTED_BURST)
        self._refilled = clock()
        self._load()
        for address in bootstrap:
            self.add(address)

    # --- the file -----------------------------------------------------------------------------

    def _load(self) -> None:
        if not self.path.exists():
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise TypeError(f"a {type(data).__name__}, not an object")
        except (OSError, ValueError, TypeError) as exc:
            log.warning("%s is damaged (%s): starting with an empty peer book", self.path, exc)
            return
        skipped = 0
        for peer, raw in data.items():
            entry = self._entry_from_file(str(peer), raw)
            if entry is None:
                skipped += 1
            else:
                self.entries[str(peer)] = entry
        if skipped:
            log.warning("%s: %d damaged entries skipped", self.path, skipped)
        self._evict_trusted()

    def _entry_from_file(self, peer: str, raw: Any) -> PeerEntry | None:
        """One saved entry; the format before untrusted entries existed (no `trusted`) is trusted."""
        if not isinstance(raw, dict) or raw.get("trusted", True) is not True:
            return None
        address = raw.get("address")
        numbers = [raw.get(key, 0) for key in ("last_seen", "failures")]
        if not all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers):
            return None
        if not isinstance(address, str) or not dialable(address) or peer_id_of(address) != peer:
            return None
        if peer == self.me:
            return None
        last_seen, failures = numbers
        # A back-off belongs to the process whose dials failed (often while its peers shut down with
        # it), so it is not saved: a restarted node dials its known peers at once (an older file's
        # `next_try` is ignored), then backs off again if they are still away.
        return PeerEntry(_normalised(address), float(last_seen), max(0, int(failures)))

    def save(self) -> None:
        """Write the trusted entries to `peers.json` atomically (untrusted ones are not kept)."""
        saved = {
            peer: {
                "address": e.address,
                "last_seen": e.last_seen,
                "failures": e.failures,
                "trusted": True,
            }
            for peer, e in self.entries.items()
            if e.trusted
        }
        temporary = self.path.with_suffix(".tmp")
        try:
            temporary.write_text(json.dumps(saved, indent=1), encoding="utf-8")
            os.replace(temporary, self.path)
        except OSError as exc:  # a full disk, say: the book lives on in memory, saved next time
            if not self._unsaved:
                log.warning("%s could not be written (%s); the peer book is kept in memory", self.path, exc)
            self._unsaved = True
            return
        if self._unsaved:
            log.warning("%s written again", self.path)
        self._unsaved = False

    # --- learning addresses -------------------------------------------------------------------

    def add(self, address: str) -> bool:
        """Remember an operator-given `address` (bootstrap list, `--bootstrap`, `Node.connect`) as
        trusted: it is dialled with back-off and never dropped for failing. It replaces what the
        book knew of that peer. False if it is not `dialable`, our own, or already known so."""
        if not dialable(address):
            return False
        peer = peer_id_of(address)
        if peer is None or peer == self.me:
            return False
        address = _normalised(address)
        entry = self.entries.get(peer)
        if entry is not None and entry.trusted and entry.address == address:
            entry.operator = True
            return False
        last_seen = entry.last_seen if entry is not None and entry.trusted else 0.0
        self.entries[peer] = PeerEntry(address, last_seen=last_seen, operator=True)
        self._evict_trusted()
        self.save()
        return True

    def heard(
        self,
        addresses: Sequence[str],
        source: str,
        now: float | None = None,
        *,
        source_on_loopback: bool = True,
    ) -> int:
        """Take candidates from one `peers` answer of peer `source`; returns how many were taken.

        At most `MAX_HEARD_PER_ANSWER` new ones, skipping addresses that are not `dialable` (so
        never `0.0.0.0` or `::`: they are not retried), our own, of a peer already in the book, at
        an endpoint already in the book, or over the `MAX_UNTRUSTED_PER_SOURCE` of `source`; and
        loopback ones from a `source` not itself on loopback (`shareable`: from elsewhere,
        127.0.0.1 names that peer's machine, not one we can reach). They are untrusted: not
        advertised, not saved."""
        now = self.clock() if now is None else now
        endpoints = {_endpoint(e.address) for e in self.entries.values()}
        from_source = sum(1 for e in self.entries.values() if not e.trusted and e.source == source)
        taken = 0
        for address in addresses[:MAX_SCANNED_PER_ANSWER]:
            if taken >= MAX_HEARD_PER_ANSWER or from_source >= MAX_UNTRUSTED_PER_SOURCE:
                break
            if not shareable([address], to_loopback=source_on_loopback):
                continue
            peer = peer_id_of(address)
            address = _normalised(address)
            if peer is None or peer == self.me or peer in self.entries or _endpoint(address) in endpoints:
                continue
            self.entries[peer] = PeerEntry(address, trusted=False, source=source, heard_at=now)
            endpoints.add(_endpoint(address))
            taken += 1
            from_source += 1
        self._evict_untrusted()
        return taken

    def forget(self, peer: str) -> None:
        """Drop `peer` entirely (it was banned)."""
        self.in_flight.pop(peer, None)
        entry = self.entries.pop(peer, None)
        if entry is not None and entry.trusted:
            self.save()

    def _evict_trusted(self) -> None:
        trusted = [p for p, e in self.entries.items() if e.trusted]
        for _ in range(len(trusted) - MAX_PEERS):
            oldest = min(trusted, key=lambda p: (self.entries[p].operator, self.entries[p].last_seen))
            trusted.remove(oldest)
            del self.entries[oldest]

    def _evict_untrusted(self) -> None:
        untrusted = [p for p, e in self.entries.items() if not e.trusted]
        for _ in range(len(untrusted) - MAX_UNTRUSTED):
            oldest = min(untrusted, key=lambda p: (p in self.in_flight, self.entries[p].heard_at))
            untrusted.remove(oldest)
            del self.entries[oldest]

    # --- dialling -----------------------------------------------------------------------------

    def due(self, connected: set[str], now: float | None = None, limit: int | None = None) -> list[str]:
        """The addresses to dial now, at most `limit` (pass it rather than slicing the result).

        Trusted peers whose back-off has passed, most recently seen first, then untrusted candidates
        as the token bucket allows (oldest heard first, one per source per call); never a peer in
        `connected` or already in flight, and never more than `MAX_IN_FLIGHT` dials in flight.

        Every address returned is counted in flight (and an untrusted one has spent a token): the
        caller must dial each of them and report the outcome with `succeeded(peer)` or
        `failed(peer)`. A dial not reported within `IN_FLIGHT_EXPIRY` stops counting (an untrusted
        one as failed)."""
        now = self.clock() if now is None else now
        self._expire(now)
        self._tokens = min(
            float(UNTRUSTED_BURST), self._tokens + max(0.0, now - self._refilled) / UNTRUSTED_DIAL_EVERY
        )
        self._refilled = now
        room = MAX_IN_FLIGHT - len(self.in_flight)
        if limit is not None:
            room = min(room, limit)
        if room <= 0:
            return []

        def waiting(peer: str, entry: PeerEntry) -> bool:
            return peer not in connected and peer not in self.in_flight and entry.next_try <= now

        trusted = sorted(
            (p for p, e in self.entries.items() if e.trusted and waiting(p, e)),
            key=lambda p: -self.entries[p].last_seen,
        )[:room]
        chosen = list(trusted)
        untrusted_flying = sum(1 for p in self.in_flight if p in self.entries and not self.entries[p].trusted)
        sources: set[str] = set()
        candidates = sorted(
            (p for p, e in self.entries.items() if not e.trusted and waiting(p, e)),
            key=lambda p: (self.entries[p].failures, self.entries[p].heard_at),
        )
        for peer in candidates:
            if len(chosen) >= room or untrusted_flying >= MAX_UNTRUSTED_IN_FLIGHT or self._tokens < 1:
                break
            if self.entries[peer].source in sources:
                continue
            sources.add(self.entries[peer].source)
            self._tokens -= 1
            untrusted_flying += 1
            chosen.append(peer)
        for peer in chosen:
            self.in_flight[peer] = now
        return [self.entries[p].address for p in chosen]

    def _expire(self, now: float) -> None:
        for peer, started in list(self.in_flight.items()):
            if now - started >= IN_FLIGHT_EXPIRY:
                entry = self.entries.get(peer)
                if entry is not None and not entry.trusted:
                    self.failed(peer, now)
                else:
                    del self.in_flight[peer]

    def dialing(self, peer: str, now: float | None = None) -> bool:
        """Announce a dial of `peer` started outside `due` (e.g. `Node.connect`), so that `due` does
        not dial it twice; report its outcome with `succeeded`/`failed`. False if already in flight."""
        if peer in self.in_flight:
            return False
        self.in_flight[peer] = self.clock() if now is None else now
        return True

    def succeeded(self, peer: str, now: float | None = None) -> None:
        """A dial of `peer` succeeded: it is no longer in flight, and its entry becomes trusted
        (saved, advertised) with its back-off reset."""
        self.in_flight.pop(peer, None)
        entry = self.entries.get(peer)
        if entry is None:
            return
        now = self.clock() if now is None else now
        entry.trusted, entry.source = True, ""
        entry.failures, entry.next_try, entry.last_seen = 0, 0.0, now
        self._evict_trusted()
        self.save()

    def failed(self, peer: str, now: float | None = None) -> None:
        """A dial of `peer` failed (after the caller's own retries): it is no longer in flight. A
        trusted entry backs off (0.5 s doubling up to `MAX_BACKOFF`); an untrusted one is retried
        after `UNTRUSTED_RETRY` once, then dropped."""
        self.in_flight.pop(peer, None)
        entry = self.entries.get(peer)
        if entry is None:
            return
        now = self.clock() if now is None else now
        entry.failures += 1
        if entry.trusted:
            entry.next_try = now + min(MAX_BACKOFF, 0.5 * 2 ** min(entry.failures, 16))
            self.save()
        elif entry.failures >= MAX_UNTRUSTED_FAILURES:
            del self.entries[peer]
        else:
            entry.next_try = now + UNTRUSTED_RETRY

    # --- advertising --------------------------------------------------------------------------

    def addresses(self) -> list[str]:
        """What we tell other peers: the trusted entries, most recently seen first (never an untrusted
        candidate)."""
        trusted = [e for e in self.entries.values() if e.trusted]
        return [e.address for e in sorted(trusted, key=lambda e: -e.last_seen)]
