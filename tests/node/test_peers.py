"""The peer book on its own, with an injected clock and no network: heard addresses are few, untrusted
and rate-limited; undialable ones are refused; trusted ones persist; bootstrap ones are never dropped."""

import json
from itertools import count, pairwise
from pathlib import Path

import pytest
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.peer.id import ID

from node.p2p.peers import (
    IN_FLIGHT_EXPIRY,
    MAX_BACKOFF,
    MAX_HEARD_PER_ANSWER,
    MAX_IN_FLIGHT,
    MAX_PEERS,
    MAX_UNTRUSTED,
    MAX_UNTRUSTED_PER_SOURCE,
    PEERS_FILE,
    UNTRUSTED_BURST,
    UNTRUSTED_DIAL_EVERY,
    UNTRUSTED_RETRY,
    PeerBook,
    dialable,
    peer_id_of,
)

_ports = count(10_000)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def new_id() -> str:
    return str(ID.from_pubkey(create_new_key_pair().public_key).to_base58())


def address(host: str = "127.0.0.1", port: int | None = None, peer: str | None = None) -> str:
    return f"/ip4/{host}/tcp/{next(_ports) if port is None else port}/p2p/{peer or new_id()}"


def tarpits(n: int) -> list[str]:
    """Addresses of a host that accepts nothing (TEST-NET-3)."""
    return [address("203.0.113.7") for _ in range(n)]


def peer_of(text: str) -> str:
    peer = peer_id_of(text)
    assert peer is not None
    return peer


ME = new_id()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def book_in(tmp_path: Path, clock: FakeClock, bootstrap: tuple[str, ...] = ()) -> PeerBook:
    return PeerBook(tmp_path, me=ME, bootstrap=bootstrap, clock=clock)


# --- few addresses per answer --------------------------------------------------------------------


def test_one_answer_of_64_addresses_yields_at_most_8(tmp_path: Path, clock: FakeClock) -> None:
    book = book_in(tmp_path, clock)
    assert book.heard(tarpits(64), source=new_id()) == MAX_HEARD_PER_ANSWER == 8
    assert len(book.entries) == 8
    assert all(not e.trusted for e in book.entries.values())


def test_heard_skips_known_own_malformed_and_taken_endpoints(tmp_path: Path, clock: FakeClock) -> None:
    known = address()
    book = book_in(tmp_path, clock, bootstrap=(known,))
    shared = address("198.51.100.1", 4001)
    answer = [
        known,  # already in the book
        address(peer=peer_of(known)),  # a known peer at another address: not redirected
        address(peer=ME),  # ourselves
        "garbage",
        "/ip4/0.0.0.0/tcp/4001/p2p/" + new_id(),
        shared,
        address("198.51.100.1", 4001),  # another peer id at an endpoint already heard
    ]
    assert book.heard(answer, source=new_id()) == 1
    assert book.entries[peer_of(known)].address == known
    assert peer_of(shared) in book.entries


def test_one_source_cannot_fill_the_book(tmp_path: Path, clock: FakeClock) -> None:
    book = book_in(tmp_path, clock)
    source = new_id()
    taken = sum(book.heard(tarpits(64), source) for _ in range(5))
    assert taken == MAX_UNTRUSTED_PER_SOURCE
    assert book.heard(tarpits(64), new_id()) == MAX_HEARD_PER_ANSWER  # others are still heard


def test_untrusted_candidates_are_bounded_oldest_dropped(tmp_path: Path, clock: FakeClock) -> None:
    book = book_in(tmp_path, clock)
    first = tarpits(8)
    book.heard(first, new_id())
    for _ in range(MAX_UNTRUSTED // MAX_HEARD_PER_ANSWER):
        clock.now += 1
        book.heard(tarpits(64), new_id())
    untrusted = [p for p, e in book.entries.items() if not e.trusted]
    assert len(untrusted) == MAX_UNTRUSTED
    assert not any(peer_of(a) in book.entries for a in first)


# --- trust only after a successful dial ----------------------------------------------------------


def test_untrusted_addresses_are_not_advertised_until_a_dial_succeeds(
    tmp_path: Path, clock: FakeClock
) -> None:
    reached = address()
    book = book_in(tmp_path, clock, bootstrap=(reached,))
    book.succeeded(peer_of(reached))
    heard = [address() for _ in range(5)]
    book.heard(heard, new_id())
    assert book.addresses() == [reached]
    dialled = book.due(set())
    assert set(heard) & set(dialled)
    winner = next(a for a in dialled if a in heard)
    clock.now += 1
    book.succeeded(peer_of(winner))
    assert book.addresses() == [winner, reached]  # most recently seen first
    assert book.entries[peer_of(winner)].trusted


def test_an_operator_address_is_trusted_from_the_start(tmp_path: Path, clock: FakeClock) -> None:
    given = address()
    book = book_in(tmp_path, clock, bootstrap=(given,))
    assert book.addresses() == [given]
    assert book.due(set()) == [given]


def test_an_untrusted_address_is_dropped_after_two_failed_dials(tmp_path: Path, clock: FakeClock) -> None:
    heard = address()
    book = book_in(tmp_path, clock)
    book.heard([heard], new_id())
    peer = peer_of(heard)
    assert book.due(set()) == [heard]
    book.failed(peer)
    assert peer in book.entries
    assert book.due(set()) == []
    clock.now += UNTRUSTED_RETRY
    assert book.due(set()) == [heard]
    book.failed(peer)
    assert peer not in book.entries


def test_bootstrap_addresses_are_never_dropped_and_back_off(tmp_path: Path, clock: FakeClock) -> None:
    given = address("203.0.113.9")
    book = book_in(tmp_path, clock, bootstrap=(given,))
    peer = peer_of(given)
    dials = []
    for _ in range(600):  # ten minutes, every dial failing
        for dialled in book.due(set()):
            dials.append(clock.now)
            book.failed(peer_of(dialled))
        clock.now += 1
    assert peer in book.entries and book.entries[peer].trusted
    gaps = [b - a for a, b in pairwise(dials)]
    assert gaps[:4] == [1, 2, 4, 8]
    assert max(gaps) <= MAX_BACKOFF + 1 and gaps[-1] >= MAX_BACKOFF
    assert len(dials) < 20
    book.forget(peer)  # only a ban removes it
    assert peer not in book.entries


# --- never dial unspecified or nonsense addresses ------------------------------------------------

PEER = new_id()
UNDIALABLE = [
    f"/ip4/0.0.0.0/tcp/4001/p2p/{PEER}",
    f"/ip6/::/tcp/4001/p2p/{PEER}",
    f"/ip6/::ffff:0.0.0.0/tcp/4001/p2p/{PEER}",
    f"/ip4/224.0.0.1/tcp/4001/p2p/{PEER}",
    f"/ip6/ff02::1/tcp/4001/p2p/{PEER}",
    f"/ip4/255.255.255.255/tcp/4001/p2p/{PEER}",
    f"/ip4/192.0.2.1/tcp/0/p2p/{PEER}",
    f"/dns4/0/tcp/4001/p2p/{PEER}",
    f"/dns4/127.1/tcp/4001/p2p/{PEER}",
    f"/ip4/192.0.2.1/udp/4001/p2p/{PEER}",
    f"/ip4/192.0.2.1/tcp/4001/ws/p2p/{PEER}",
    f"/ip4/192.0.2.1/p2p/{PEER}",
    "/ip4/192.0.2.1/tcp/4001",
    "/ip4/192.0.2.1/tcp/4001/p2p/QmNotAPeerId",
    "garbage",
    "",
    "/" * 300,
    f"/dns4/{'a' * 10_000}.org/tcp/4001/p2p/{PEER}",
    "x" * 10_000,
]


@pytest.mark.parametrize("text", UNDIALABLE)
def test_undialable_addresses_are_refused(text: str) -> None:
    assert not dialable(text)


@pytest.mark.parametrize(
    "text",
    [
        f"/ip4/127.0.0.1/tcp/4001/p2p/{PEER}",
        f"/ip6/::1/tcp/4001/p2p/{PEER}",
        f"/ip4/192.168.1.20/tcp/4001/p2p/{PEER}",
        f"/dns4/node.example.org/tcp/4001/p2p/{PEER}",
        f"/dns/localhost/tcp/4001/p2p/{PEER}",
    ],
)
def test_loopback_private_and_named_addresses_are_dialable(text: str) -> None:
    assert dialable(text)


def test_undialable_addresses_are_never_due(tmp_path: Path, clock: FakeClock) -> None:
    book = book_in(tmp_path, clock, bootstrap=tuple(UNDIALABLE))
    for text in UNDIALABLE:
        assert not book.add(text)
    for start in range(0, len(UNDIALABLE), 4):
        assert book.heard(UNDIALABLE[start : start + 4], new_id()) == 0
    for _ in range(60):
        assert book.due(set()) == []
        clock.now += 1
    assert book.entries == {}


# --- rate-limited dials --------------------------------------------------------------------------


@pytest.mark.parametrize("dial_seconds", [0, 10])
def test_a_flood_of_tarpit_answers_makes_a_bounded_trickle_of_dials(
    tmp_path: Path, clock: FakeClock, dial_seconds: int
) -> None:
    """10 answers of 64 tarpit addresses from 10 sources within 30 s, every dial failing (at once, or
    after 10 s): at most UNTRUSTED_BURST + 30 / UNTRUSTED_DIAL_EVERY = 12 dials."""
    bound = UNTRUSTED_BURST + int(30 / UNTRUSTED_DIAL_EVERY)
    assert bound == 12
    book = book_in(tmp_path, clock)
    start = clock.now
    sources = [new_id() for _ in range(10)]
    pending: list[tuple[float, str]] = []
    dials = 0
    for tick in range(61):  # every 0.5 s from 0 to 30 s
        clock.now = start + tick * 0.5
        if tick % 6 == 0 and tick // 6 < len(sources):  # one answer every 3 s
            book.heard(tarpits(64), sources[tick // 6])
        for ends, peer in [p for p in pending if p[0] <= clock.now]:
            pending.remove((ends, peer))
            book.failed(peer)
        for dialled in book.due(set()):
            dials += 1
            pending.append((clock.now + dial_seconds, peer_of(dialled)))
    assert 0 < dials <= bound
    assert len([e for e in book.entries.values() if not e.trusted]) <= MAX_UNTRUSTED


def test_trusted_peers_are_dialled_before_candidates_and_in_flight_is_bounded(
    tmp_path: Path, clock: FakeClock
) -> None:
    given = [address() for _ in range(MAX_IN_FLIGHT + 4)]
    book = book_in(tmp_path, clock, bootstrap=tuple(given))
    book.heard(tarpits(8), new_id())
    first = book.due(set())
    assert len(first) == MAX_IN_FLIGHT and set(first) <= set(given)
    assert book.due(set()) == []  # all in flight: nothing dialled twice
    for dialled in first[:3]:
        book.succeeded(peer_of(dialled))
    second = book.due({peer_of(a) for a in first[:3]})
    assert len(second) == 3
    assert set(second) <= set(given) - set(first)


def test_due_honours_limit_connected_and_dialing(tmp_path: Path, clock: FakeClock) -> None:
    given = [address() for _ in range(4)]
    book = book_in(tmp_path, clock, bootstrap=tuple(given))
    assert book.dialing(peer_of(given[0]))
    assert not book.dialing(peer_of(given[0]))
    assert book.due({peer_of(given[1])}, limit=1) == [given[2]]
    assert book.due({peer_of(given[1])}) == [given[3]]
    book.succeeded(peer_of(given[0]))
    assert book.due(set()) == [given[0], given[1]]  # the one just seen first


def test_an_unreported_dial_stops_counting_after_a_while(tmp_path: Path, clock: FakeClock) -> None:
    given = address()
    heard = address()
    book = book_in(tmp_path, clock, bootstrap=(given,))
    book.heard([heard], new_id())
    assert set(book.due(set())) == {given, heard}
    clock.now += IN_FLIGHT_EXPIRY
    assert book.due(set()) == [given]  # released without penalty
    assert book.entries[peer_of(heard)].failures == 1  # an unreported candidate counts as failed


# --- the file ------------------------------------------------------------------------------------


def test_trusted_entries_survive_a_reload_untrusted_do_not(tmp_path: Path, clock: FakeClock) -> None:
    given, reached, heard = address(), address(), address()
    book = book_in(tmp_path, clock, bootstrap=(given,))
    book.heard([reached, heard], new_id())
    book.due(set())
    book.succeeded(peer_of(reached))
    again = book_in(tmp_path, clock)
    assert set(again.entries) == {peer_of(given), peer_of(reached)}
    assert all(e.trusted for e in again.entries.values())
    assert again.addresses() == [reached, given]
    assert not (tmp_path / "peers.tmp").exists()


def test_a_restarted_node_dials_its_known_peers_at_once(tmp_path: Path, clock: FakeClock) -> None:
    """The back-off earned while peers were away (often shutting down with us) is not carried over."""
    known = address()
    book = book_in(tmp_path, clock, bootstrap=(known,))
    for _ in range(8):
        clock.now += MAX_BACKOFF
        for dialled in book.due(set()):
            book.failed(peer_of(dialled))
    assert book.entries[peer_of(known)].next_try > clock.now + 1
    assert book.due(set()) == []
    again = book_in(tmp_path, clock)
    assert again.due(set()) == [known]
    assert again.entries[peer_of(known)].failures == book.entries[peer_of(known)].failures


def test_the_old_peers_json_format_loads_as_trusted(tmp_path: Path, clock: FakeClock) -> None:
    old, never = address(), address()
    (tmp_path / PEERS_FILE).write_text(
        json.dumps(
            {
                peer_of(old): {"address": old, "last_seen": 5.0, "failures": 2, "next_try": 0.0},
                peer_of(never): {"address": never, "last_seen": 0.0, "failures": 0, "next_try": 0.0},
            }
        ),
        encoding="utf-8",
    )
    book = book_in(tmp_path, clock)
    assert all(e.trusted for e in book.entries.values()) and len(book.entries) == 2
    assert book.addresses() == [old, never]
    assert set(book.due(set())) == {old, never}


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '"text"', "\x00\x01"])
def test_a_damaged_file_gives_an_empty_book(tmp_path: Path, clock: FakeClock, content: str) -> None:
    (tmp_path / PEERS_FILE).write_text(content, encoding="utf-8")
    given = address()
    book = book_in(tmp_path, clock, bootstrap=(given,))
    assert list(book.entries) == [peer_of(given)]


def test_damaged_entries_are_skipped(tmp_path: Path, clock: FakeClock) -> None:
    good = address()
    other = address()
    (tmp_path / PEERS_FILE).write_text(
        json.dumps(
            {
                peer_of(good): {"address": good, "last_seen": 1.0},
                peer_of(other): {"address": address(), "last_seen": 1.0},  # id does not match
                "x": {"address": "/ip4/0.0.0.0/tcp/1/p2p/" + new_id()},
                "y": "not an entry",
                "z": {"address": other, "last_seen": "yesterday"},
                ME: {"address": address(peer=ME)},
                peer_of(other) + "u": {"address": other, "trusted": False},
            }
        ),
        encoding="utf-8",
    )
    book = book_in(tmp_path, clock)
    assert list(book.entries) == [peer_of(good)]


def test_at_most_max_peers_trusted_and_the_operator_ones_are_kept(tmp_path: Path, clock: FakeClock) -> None:
    given = address()
    book = book_in(tmp_path, clock, bootstrap=(given,))
    for _ in range(MAX_PEERS + 10):
        clock.now += 1
        learnt = address()
        book.heard([learnt], new_id())
        book.succeeded(peer_of(learnt))
    trusted = [p for p, e in book.entries.items() if e.trusted]
    assert len(trusted) == MAX_PEERS
    assert peer_of(given) in book.entries
    saved = json.loads((tmp_path / PEERS_FILE).read_text(encoding="utf-8"))
    assert len(saved) == MAX_PEERS


def test_our_own_address_is_never_taken(tmp_path: Path, clock: FakeClock) -> None:
    book = book_in(tmp_path, clock, bootstrap=(address(peer=ME),))
    assert not book.add(address(peer=ME))
    assert book.heard([address(peer=ME)], new_id()) == 0
    assert book.entries == {}


def test_a_peer_book_that_cannot_be_written_lives_on_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    book = PeerBook(tmp_path, me=ME)
    book.add(address())

    def no_space(*_args: object, **_kwargs: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", no_space)
    assert book.add(address())  # no exception: the node keeps running
    assert book.add(address())
    assert caplog.text.count("could not be written") == 1  # said once
    monkeypatch.undo()
    book.add(address())
    assert len(PeerBook(tmp_path, me=ME).addresses()) == 4
