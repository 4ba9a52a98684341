"""The mempool: pending documents waiting for a block, validated on entry and after every block.

Every document is checked against the head's state with the rules blocks use
(`protocol.rules.pending`). Transactions are checked against the head plus the pool's earlier
transactions, so a wallet may chain payments (spend an output still pending) and a second spend of
a source already spent in the pool is refused at once. The pool is kept in the store (under the
`P` prefix) so that it survives a restart.

Nothing acknowledged is lost
----------------------------
A refusal may only mean "not yet" (`protocol.rules.waiting`: an issuer's sigPeriod or a member's
msPeriod not over, a CLTV/CSV lock or locktime not reached, an output of a transaction still to
come, a receiver whose identity is not written yet, ...). Such a document from a client (or the node
itself) is admitted as WAITING, with the rule and when it may pass; a relayed one is refused as
before (its sender keeps it). At each new head (`revalidate`), in arrival order except that a
transaction comes after the pending ones it spends: documents the new blocks wrote leave as
"written in block N"; those that can never be written leave with their reason (logged at INFO);
the others stay, WAITING or valid again (`take_ready` lists those to gossip now), and leave only
when their reference block falls out of its window (sigWindow, msWindow, idtyWindow, txWindow),
which the window rule, checked first, then refuses for ever. Waiting documents count in the bounds
like any other and are evicted by the same priorities; the forger (`build_block`) skips those not
valid yet. What became of the last `MAX_OUTCOMES` documents that left is kept under the `Q` prefix
(`status`, `GET /documents/{hash}`). After a restart the pool is reloaded in arrival order and
re-checked in dependency order, so chained payments and waiting documents are all kept.

Bounds and eviction
-------------------
The pool is bounded per kind and per issuer (`LIMITS`), so its memory is bounded whatever arrives.
When a kind's pool, or an issuer's share of it, is full, the newcomer is compared with the document
held there that is least likely to be written, and replaces it only if its own priority is strictly
higher; otherwise the answer is FULL, with the reason. Priorities, highest first, per kind:

- Identity: (1) how many distinct members certify it in the pool: a newcomer needs sigQty of them
  to be written, and certifications come from members only (the rules refuse others), so this is
  the signal a flood of throwaway keys cannot forge; (2) whether its owner asked to join (a pending
  IN membership with its uid): an identity is written only with its joiner; (3) origin: the node's
  own (LOCAL) over a client's submission (CLIENT) over a gossip relay (RELAY), since a client is
  answered and can be asked to retry elsewhere while relayed junk costs its sender nothing; (4) age,
  older first, so that a flood of equal rank cannot churn out what waited before it.
  A new identity never has certifications or a join request yet (both need it in the pool first):
  it can only take the place of a younger identity with neither, relayed when it comes from a
  client. Relayed junk thus never evicts anything, and nothing evicts an identity a member certified.
- Membership: (1) a member's renewal or leave, which keeps the web of trust as it is and cannot be
  flooded (one per member per msPeriod); then joins, by (2) how many distinct members certify the
  joiner (live written certifications and pending ones): the quorum it needs to be written;
  (3) a join of a written (excluded, not revoked) identity over a newcomer's; (4) origin; (5) age.
  A newcomer's join needs its pending identity, so such joins are bounded by the identity pool.
- Certification, revocation: origin, then age. Only members may issue them (the rules refuse the
  others, including revocations of non-members), so the per-issuer bound stops a flood.
- Transaction: origin, then age; a transaction that another pending one spends is never evicted
  (its child would become invalid), nor one the newcomer spends. Spending needs real sources, and
  the per-issuer bound holds.

Dependants: when an identity is evicted or removed, the certifications to it and its owner's join
request are re-checked at once and leave too, unless another pending identity of the same key (same
uid, for a join) still carries them; when a transaction leaves, those that spent its outputs leave
with it. (After a new head, the re-check in arrival order drops them the same way.) Every index and
count is updated with the document it counts (`consistency_errors` checks this, memory follows the
pool's size), and an eviction deletes the document from the store in the same write batch that
stores the newcomer. The lowest priority of a kind is found with a heap, so a flood costs
O(log n) per document, whether it is refused or evicts.

The stored value is `RECORD_MARK`, one origin byte, the 8-byte arrival number, then the document's
canonical CBOR, so that origin and age survive a restart; a value without the mark (older
versions) is read as a relayed document older than all the others.
"""

import heapq
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from node.errors import DiskFull, NodeError
from node.store import LevelStore
from protocol.crypto import Hash, PublicKey
from protocol.documents import (
    Certification,
    Identity,
    Membership,
    MembershipType,
    Revocation,
    Transaction,
    TransactionSource,
    decode_pending,
)
from protocol.documents.pending import PendingDocument
from protocol.errors import DecodeError, RuleViolation
from protocol.rules.context import RuleContext
from protocol.rules.pending import check_pending
from protocol.rules.transactions import apply_transaction
from protocol.rules.waiting import NotYet, classify, expires
from protocol.state.overlay import Overlay
from protocol.state.records import BlockSummary, DividendRecord
from protocol.state.tables import Table
from protocol.state.view import StateView
from protocol.wot.graph import WebOfTrust

log = logging.getLogger("june.mempool")

K = TypeVar("K")
V = TypeVar("V")

PENDING_PREFIX = b"P"
#: What became of documents that left the pool: `Q` + 8-byte sequence number → hash + JSON outcome.
OUTCOME_PREFIX = b"Q"
#: How many outcomes are remembered (the oldest are forgotten first).
MAX_OUTCOMES = 10_000
#: How many blocks below the head are searched for pool documents they wrote, when the previous head
#: the pool saw is unknown (after a restart) or left the chain (a fork switch deeper than this).
WRITTEN_SCAN = 16
#: First byte of a stored pending value; no document starts with it (documents are CBOR arrays).
RECORD_MARK = 0x01

#: How many documents of each kind the pool holds, and how many of them one issuer may have.
LIMITS: dict[type, tuple[int, int]] = {
    Identity: (1000, 1),
    Membership: (2000, 1),
    Certification: (5000, 10),
    Revocation: (1000, 1),
    Transaction: (10000, 50),
}

_PLURAL: dict[type, str] = {
    Identity: "identities",
    Membership: "memberships",
    Certification: "certifications",
    Revocation: "revocations",
    Transaction: "transactions",
}


class NotReady(NodeError):
    """The node cannot judge pending documents yet (it has no chain)."""


class Admission(StrEnum):
    ACCEPTED = "accepted"
    WAITING = "waiting"  # not valid yet, but may become so: kept and checked again at each block
    KNOWN = "known"
    FULL = "full"  # the pool (or this issuer's share of it) is full: try again later


class Origin(StrEnum):
    """Where a pending document came from, one of the signals of its priority."""

    CLIENT = "client"  # submitted to this node's API
    RELAY = "relay"  # relayed by a peer's gossip
    LOCAL = "local"  # the node's own forger or operator


_ORIGIN_RANK = {Origin.RELAY: 0, Origin.CLIENT: 1, Origin.LOCAL: 2}
_ORIGIN_CODE = {Origin.CLIENT: b"c", Origin.RELAY: b"r", Origin.LOCAL: b"l"}
_ORIGIN_OF_CODE = {code: origin for origin, code in _ORIGIN_CODE.items()}

# A membership's standing on the head (part of its priority).
_NEWCOMER, _WRITTEN, _MEMBER = 0, 1, 2


@dataclass(frozen=True)
class AdmissionResult:
    admission: Admission
    reason: str = ""  # FULL: why; WAITING: the rule not met yet
    evicted: tuple[Hash, ...] = ()  # documents that left the pool to make room (and their dependants)
    until: int | None = None  # WAITING: the median time from which the rule may pass, when known


class State(StrEnum):
    """What became of a document sent to this node."""

    PENDING = "pending"  # in the pool, valid on the head: the next block may write it
    WAITING = "waiting"  # in the pool, not valid yet (`reason`), checked again at each block
    WRITTEN = "written"  # written in block `block`
    DROPPED = "dropped"  # left the pool without being written (`reason`)
    UNKNOWN = "unknown"  # never seen, or forgotten (only the last `MAX_OUTCOMES` are remembered)


@dataclass(frozen=True)
class DocumentStatus:
    state: State
    reason: str = ""
    block: int | None = None  # WRITTEN: the block that wrote it
    until: int | None = None  # WAITING: the median time from which it may pass, when known
    expires: int | None = None  # PENDING, WAITING: the median time after which it never can


def issuers_of(document: PendingDocument) -> tuple[PublicKey, ...]:
    return document.issuers if isinstance(document, Transaction) else (document.issuer,)


def _parents_of(document: PendingDocument) -> set[Hash]:
    """Hashes of the transactions whose outputs `document` spends."""
    if not isinstance(document, Transaction):
        return set()
    return {i.source.tx_hash for i in document.inputs if isinstance(i.source, TransactionSource)}


@dataclass(slots=True)
class _Entry:
    hash: Hash
    document: PendingDocument
    origin: Origin
    seq: int  # arrival number: lower is older
    standing: int = _NEWCOMER  # memberships: _MEMBER, _WRITTEN or _NEWCOMER on the head
    written_certifiers: frozenset[PublicKey] = frozenset()  # memberships of written non-members
    waiting: NotYet | None = None  # the rule it does not meet yet on the head (None: valid now)

    def record(self) -> bytes:
        return (
            bytes((RECORD_MARK,))
            + _ORIGIN_CODE[self.origin]
            + self.seq.to_bytes(8, "big")
            + self.document.to_bytes()
        )


def _read_record(raw: bytes) -> tuple[Origin, int | None, bytes]:
    """(origin, arrival number, document bytes) of a stored value; raise `ValueError` if malformed."""
    if raw[:1] != bytes((RECORD_MARK,)):
        return Origin.RELAY, None, raw  # written before origins were kept
    if len(raw) < 10 or raw[1:2] not in _ORIGIN_OF_CODE:
        raise ValueError("truncated pending record")
    return _ORIGIN_OF_CODE[raw[1:2]], int.from_bytes(raw[2:10], "big"), raw[10:]


class _Writer(Protocol):
    def put(self, key: bytes, value: bytes) -> None: ...

    def delete(self, key: bytes) -> None: ...


class _Nowhere:
    """A writer for in-memory changes that must not reach the disk."""

    def put(self, key: bytes, value: bytes) -> None:
        return None

    def delete(self, key: bytes) -> None:
        return None


_NOWHERE = _Nowhere()

#: Records `_HeadReads` keeps before it starts afresh (a flood of refused transactions reading
#: random sources must not grow it until the next block).
HEAD_READS = 200_000


class _HeadReads(StateView):
    """The store's state at one head, keeping what it read.

    A pending transaction is checked, then applied to the pool's overlay, and both read the same
    sources, rights, dividends and accounts; a chained payment reads them again. The store's state
    changes only when the head moves, and the pool then reads through a new one (`pointer`)."""

    def __init__(self, store: LevelStore, pointer: tuple[int, Hash, Hash]) -> None:
        self.store = store
        self.pointer = pointer
        self._records: dict[tuple[str, Any], Any] = {}
        self._dividends: dict[tuple[int, int], tuple[int, ...]] = {}
        self._context: RuleContext | None = None

    def context(self) -> RuleContext:
        """The context pending documents are checked in on this head (the same for all of them)."""
        if self._context is None:
            self._context = RuleContext.for_pending(self.store)
        return self._context

    def read(self, table: Table[K, V], key: K) -> V | None:
        slot = (table.name, key)
        records = self._records
        if slot in records:
            found: V | None = records[slot]
            return found
        if len(records) >= HEAD_READS:
            records.clear()
        found = records[slot] = self.store.read(table, key)
        return found

    def dividend_numbers(self, start: int, stop: int) -> Iterator[int]:
        numbers = self._dividends.get((start, stop))
        if numbers is None:
            if len(self._dividends) >= HEAD_READS:
                self._dividends.clear()
            numbers = self._dividends[start, stop] = tuple(self.store.dividend_numbers(start, stop))
        return iter(numbers)

    def head(self) -> BlockSummary | None:
        return self.store.head()

    def web_of_trust(self) -> WebOfTrust:
        return self.store.web_of_trust()  # the store keeps it in step: never rebuilt here

    def block_hash(self, number: int) -> Hash | None:
        return self.store.block_hash(number)

    def state_digest(self) -> Hash:
        return self.store.state_digest()

    def members(self) -> Iterable[PublicKey]:
        return self.store.members()

    def members_to_kick(self) -> Iterable[PublicKey]:
        return self.store.members_to_kick()

    def certifiers_of(self, receiver: PublicKey) -> Iterable[PublicKey]:
        return self.store.certifiers_of(receiver)

    def certified_by(self, issuer: PublicKey) -> Iterable[PublicKey]:
        return self.store.certified_by(issuer)

    def all_certifications(self) -> Iterable[tuple[PublicKey, PublicKey]]:
        return self.store.all_certifications()

    def certifications_expiring(self, until: int) -> Iterable[tuple[PublicKey, PublicKey]]:
        return self.store.certifications_expiring(until)

    def memberships_expiring(self, until: int) -> Iterable[PublicKey]:
        return self.store.memberships_expiring(until)

    def memberships_revoking(self, until: int) -> Iterable[PublicKey]:
        return self.store.memberships_revoking(until)

    def transaction_sources_of(self, conditions: str) -> Iterable[TransactionSource]:
        return self.store.transaction_sources_of(conditions)

    def last_dividend(self, number: int) -> tuple[int, DividendRecord] | None:
        return self.store.last_dividend(number)


class Mempool:
    """Pending documents of one node, persisted in its store under the `P` prefix.

    `limits` overrides some of `LIMITS` (kind → (total, per issuer))."""

    def __init__(self, store: LevelStore, *, limits: dict[type, tuple[int, int]] | None = None) -> None:
        self.store = store
        self.limits = {**LIMITS, **(limits or {})}
        self._entries: dict[Hash, _Entry] = {}  # in arrival order
        # Indexes, kept as documents come and go (a scan per admission is quadratic); an empty
        # entry is deleted, so that their size follows the pool's
        self._by_kind: dict[type, dict[Hash, _Entry]] = {kind: {} for kind in _PLURAL}
        self._by_issuer: dict[tuple[type, PublicKey], dict[Hash, _Entry]] = {}
        self._certs_to: dict[PublicKey, dict[Hash, Certification]] = {}  # by receiver
        self._spenders: dict[Hash, set[Hash]] = {}  # pending transaction → pending ones spending it
        # a transaction not in the pool → the pending (waiting) ones spending it, should it come
        self._orphans: dict[Hash, set[Hash]] = {}
        # Per kind, a heap of (priority, hash), lowest first. When a document's priority changes an
        # item with the new one is pushed; items of documents gone or with an outdated priority are
        # dropped when they come up, and the heap is rebuilt when it holds too many of them.
        self._heaps: dict[type, list[tuple[tuple[int, ...], Hash]]] = {kind: [] for kind in _PLURAL}
        self._next_seq = 0
        self._head_reads: _HeadReads | None = None
        self._spending = self._fresh_overlay()  # the head with the pool's transactions applied
        # What became of documents that left: hash → (sequence number, outcome), oldest first
        self._outcomes: dict[Hash, tuple[int, DocumentStatus]] = {}
        self._next_outcome = 0
        self._seen_head: tuple[int, Hash] | None = None  # the head the last re-check saw
        self._ready: dict[Hash, PendingDocument] = {}  # were waiting, valid since (see `take_ready`)
        self._load_outcomes()
        self._load()

    # Bookkeeping -------------------------------------------------------------------------------

    def _keep(self, entry: _Entry) -> None:
        document, document_hash = entry.document, entry.hash
        kind = type(document)
        self._entries[document_hash] = entry
        self._by_kind[kind][document_hash] = entry
        for key in issuers_of(document):
            self._by_issuer.setdefault((kind, key), {})[document_hash] = entry
        if isinstance(document, Certification):
            self._certs_to.setdefault(document.receiver, {})[document_hash] = document
        for parent in _parents_of(document):
            held = self._spenders if parent in self._entries else self._orphans
            held.setdefault(parent, set()).add(document_hash)
        children = self._orphans.pop(document_hash, None)
        if children:
            self._spenders[document_hash] = children
        self._push(entry)
        self._reprioritise(document)

    def _forget(self, document_hash: Hash, writer: _Writer) -> _Entry | None:
        entry = self._entries.pop(document_hash, None)
        if entry is None:
            return None
        document = entry.document
        kind = type(document)
        del self._by_kind[kind][document_hash]
        for key in issuers_of(document):
            held = self._by_issuer[kind, key]
            del held[document_hash]
            if not held:
                del self._by_issuer[kind, key]
        if isinstance(document, Certification):
            certs = self._certs_to[document.receiver]
            del certs[document_hash]
            if not certs:
                del self._certs_to[document.receiver]
        for parent in _parents_of(document):
            for index in (self._spenders, self._orphans):
                spenders = index.get(parent)
                if spenders is not None:
                    spenders.discard(document_hash)
                    if not spenders:
                        del index[parent]
        children = self._spenders.pop(document_hash, None)
        if children:
            self._orphans[document_hash] = children
        self._reprioritise(document)
        writer.delete(PENDING_PREFIX + document_hash)
        return entry

    def _push(self, entry: _Entry) -> None:
        kind = type(entry.document)
        heap = self._heaps[kind]
        heapq.heappush(heap, (self._priority(entry), entry.hash))
        if len(heap) > 2 * len(self._by_kind[kind]) + 64:
            self._rebuild_heap(kind)

    def _rebuild_heap(self, kind: type) -> None:
        heap = [(self._priority(entry), entry.hash) for entry in self._by_kind[kind].values()]
        heapq.heapify(heap)
        self._heaps[kind] = heap

    def _reprioritise(self, document: PendingDocument) -> None:
        """Push the new priorities of the documents whose priority `document` coming or going changed:
        a certification counts for its receiver's identity and join, a join for its identity."""
        if isinstance(document, Certification):
            kinds: tuple[type, ...] = (Identity, Membership)
        elif isinstance(document, Membership):
            kinds = (Identity,)
        else:
            return
        key = document.receiver if isinstance(document, Certification) else document.issuer
        for kind in kinds:
            for entry in self._by_issuer.get((kind, key), {}).values():
                self._push(entry)

    def _evict(self, document_hash: Hash, writer: _Writer, reason: str) -> list[_Entry]:
        """Forget a document for `reason`, then its dependants that no longer pass; return all that
        left (each recorded as dropped)."""
        entry = self._entries.get(document_hash)
        if entry is None:
            return []
        self._record_dropped(entry, reason, writer)
        document = entry.document
        dependants: list[Hash] = []
        if isinstance(document, Identity):
            certs = self._certs_to.get(document.issuer, {})
            dependants = [h for h, cert in certs.items() if cert.identity == document_hash]
            if self.store.identity(document.issuer) is None:
                dependants += list(self._by_issuer.get((Membership, document.issuer), {}))
        self._forget(document_hash, writer)
        gone = [entry]
        for dependant in dependants:
            held = self._entries.get(dependant)
            if held is None:
                continue
            try:
                self._check(held.document)
            except RuleViolation as violation:
                gone += self._evict(dependant, writer, f"its identity left the pool ({violation})")
        if isinstance(document, Transaction):
            gone += self._reapply(writer)  # and drop the transactions that spent its outputs
        return gone

    def _load(self) -> None:
        chain = self.store.chain()
        currency = None if chain is None else chain.currency
        loaded: list[tuple[int | None, _Entry]] = []
        for key, raw in self.store.db.iterator(prefix=PENDING_PREFIX):
            try:
                origin, seq, body = _read_record(raw)
                document = decode_pending(body, currency=currency)
            except (DecodeError, ValueError):
                self.store.db.delete(key)
                continue
            document_hash = document.hash
            if key != PENDING_PREFIX + document_hash:
                self.store.db.delete(key)
                continue
            loaded.append((seq, _Entry(document_hash, document, origin, seq or 0)))
        legacy = [entry for seq, entry in loaded if seq is None]
        for number, entry in enumerate(legacy):  # older than any kept with its number, in key order
            entry.seq = number - len(legacy)
        for entry in sorted((entry for _seq, entry in loaded), key=lambda e: e.seq):
            self._keep(entry)
            self._next_seq = max(self._next_seq, entry.seq + 1)
        self.revalidate()

    def consistency_errors(self) -> list[str]:
        """What is wrong with the pool's indexes, counts and stored copy (nothing, unless a bug)."""
        errors: list[str] = []
        for document_hash, entry in self._entries.items():
            if entry.document.hash != document_hash or entry.hash != document_hash:
                errors.append(f"{document_hash.hex()} is kept under another hash")
        by_kind = {
            kind: {h for h, e in self._entries.items() if type(e.document) is kind} for kind in _PLURAL
        }
        if {kind: set(held) for kind, held in self._by_kind.items()} != by_kind:
            errors.append("the per-kind index differs from the pool")
        by_issuer: dict[tuple[type, PublicKey], set[Hash]] = {}
        for document_hash, entry in self._entries.items():
            for key in issuers_of(entry.document):
                by_issuer.setdefault((type(entry.document), key), set()).add(document_hash)
        if {slot: set(held) for slot, held in self._by_issuer.items()} != by_issuer:
            errors.append("the per-issuer index differs from the pool")
        certs_to: dict[PublicKey, set[Hash]] = {}
        spenders: dict[Hash, set[Hash]] = {}
        for document_hash, entry in self._entries.items():
            if isinstance(entry.document, Certification):
                certs_to.setdefault(entry.document.receiver, set()).add(document_hash)
            for parent in _parents_of(entry.document):
                if parent in self._entries:
                    spenders.setdefault(parent, set()).add(document_hash)
        if {key: set(held) for key, held in self._certs_to.items()} != certs_to:
            errors.append("the certification index differs from the pool")
        if self._spenders != spenders:
            errors.append("the spender index differs from the pool")
        orphans: dict[Hash, set[Hash]] = {}
        for document_hash, entry in self._entries.items():
            for parent in _parents_of(entry.document):
                if parent not in self._entries:
                    orphans.setdefault(parent, set()).add(document_hash)
        if self._orphans != orphans:
            errors.append("the index of transactions spending outputs not pending differs from the pool")
        for kind, heap in self._heaps.items():
            if not {(self._priority(e), h) for h, e in self._by_kind[kind].items()} <= set(heap):
                errors.append(f"the heap of {_PLURAL[kind]} misses a current priority")
            if len(heap) > 2 * len(self._by_kind[kind]) + 64:
                errors.append(f"the heap of {_PLURAL[kind]} holds {len(heap)} items")
        for kind, (total, per_issuer) in self.limits.items():
            if len(self._by_kind[kind]) > total:
                errors.append(f"{len(self._by_kind[kind])} {_PLURAL[kind]}, over the bound of {total}")
            if any(len(held) > per_issuer for (k, _key), held in self._by_issuer.items() if k is kind):
                errors.append(f"an issuer has more than {per_issuer} {_PLURAL[kind]}")
        stored = {bytes(key): bytes(raw) for key, raw in self.store.db.iterator(prefix=PENDING_PREFIX)}
        expected = {PENDING_PREFIX + h: e.record() for h, e in self._entries.items() if e.seq >= 0}
        legacy = {PENDING_PREFIX + h for h, e in self._entries.items() if e.seq < 0}
        if {k: v for k, v in stored.items() if k not in legacy} != expected or not legacy <= stored.keys():
            errors.append("the store's pending documents differ from the pool")
        return errors

    # Reading -----------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, document_hash: object) -> bool:
        return document_hash in self._entries

    def documents(self) -> list[PendingDocument]:
        """Every pending document, in arrival order (the forger picks what fits)."""
        return [entry.document for entry in self._entries.values()]

    def origin(self, document_hash: Hash) -> Origin | None:
        """Where a pending document came from, or None if it is not in the pool."""
        entry = self._entries.get(document_hash)
        return None if entry is None else entry.origin

    def spending_view(self) -> StateView:
        """The head as the pool's transactions leave it: what a key can spend next."""
        self._follow_head()
        return self.store if self._spending is None else self._spending

    # Admission ---------------------------------------------------------------------------------

    def add(
        self, document: PendingDocument, *, durable: bool = True, origin: Origin = Origin.CLIENT
    ) -> AdmissionResult:
        """Admit a document that could be written in the next block; raise `RuleViolation` if not.

        A client's (or the node's own) document that breaks a rule time may lift (see
        `protocol.rules.waiting`) is admitted as WAITING, with the rule and when it may pass.

        When the pool is full, the document takes the place of one less likely to be written (see
        the module's docstring), or is answered FULL. `durable`: on disk before this returns (a
        client is told "accepted"); relayed documents skip the disk sync, a crash loses at most the
        latest of them, which peers still hold."""
        document_hash = document.hash
        if document_hash in self._entries:
            return AdmissionResult(Admission.KNOWN)
        self._follow_head()
        entry = _Entry(document_hash, document, origin, self._next_seq)
        self._assess(entry)
        victims = self._victims(entry)
        if isinstance(victims, str):
            return AdmissionResult(Admission.FULL, victims)
        try:
            self._check(document)
        except RuleViolation as violation:
            # Not valid yet: a client's document waits its turn; a relayed one is refused (it costs
            # its sender nothing, and the peer that made it keeps it)
            entry.waiting = None if origin is Origin.RELAY else self._classify(document, violation)
            if entry.waiting is None:
                raise
        self._next_seq += 1
        evicted: list[Hash] = []
        try:
            with self.store.db.write_batch(sync=durable) as batch:
                self._keep(entry)
                batch.put(PENDING_PREFIX + document_hash, entry.record())
                for victim in victims:
                    reason = "evicted to make room for a document likelier to be written"
                    evicted += (gone.hash for gone in self._evict(victim.hash, batch, reason))
        except DiskFull:
            # Nothing reached the disk: forget the newcomer (a retry must not be "known"); the
            # victims are still on disk and come back with the next start
            self._forget(document_hash, _NOWHERE)
            if isinstance(document, Transaction):
                self._reapply(_NOWHERE)
            raise
        if entry.waiting is not None:
            waiting = entry.waiting
            return AdmissionResult(
                Admission.WAITING, f"{waiting.code}: {waiting.reason}", tuple(evicted), waiting.until
            )
        return AdmissionResult(Admission.ACCEPTED, evicted=tuple(evicted))

    def _victims(self, entry: _Entry) -> list[_Entry] | str:
        """The documents `entry` must replace to fit, or why it does not fit."""
        kind = type(entry.document)
        total, per_issuer = self.limits[kind]
        priority = self._priority(entry)
        victims: list[_Entry] = []
        spared = _parents_of(entry.document)

        def make_room(held: dict[Hash, _Entry], bound: int) -> bool:
            while len(held) - sum(victim.hash in held for victim in victims) >= bound:
                excluded = spared | {victim.hash for victim in victims}
                lowest = self._lowest_of(kind, held, excluded)
                if lowest is None or not priority > self._priority(lowest):
                    return False
                victims.append(lowest)
            return True

        for key in issuers_of(entry.document):
            if not make_room(self._by_issuer.get((kind, key), {}), per_issuer):
                return (
                    f"this issuer has {per_issuer} pending {_PLURAL[kind]}, "
                    "none less likely to be written than this one"
                )
        if not make_room(self._by_kind[kind], total):
            return f"the pool holds {total} {_PLURAL[kind]}, none less likely to be written than this one"
        return victims

    def _lowest_of(self, kind: type, held: dict[Hash, _Entry], excluded: set[Hash]) -> _Entry | None:
        """The document of `held` least likely to be written that may be evicted, if any: not in
        `excluded`, and not a transaction another pending one spends (it stays while its child does)."""
        if held is not self._by_kind[kind]:  # an issuer's share: a few documents
            candidates = (e for h, e in held.items() if h not in excluded and h not in self._spenders)
            return min(candidates, key=self._priority, default=None)
        heap = self._heaps[kind]
        passed: list[tuple[tuple[int, ...], Hash]] = []
        lowest = None
        while heap:
            priority, document_hash = heap[0]
            entry = self._entries.get(document_hash)
            if entry is None or self._priority(entry) != priority:
                heapq.heappop(heap)  # gone, or an outdated priority (an item with the current one exists)
            elif document_hash in excluded or document_hash in self._spenders:
                passed.append(heapq.heappop(heap))
            else:
                lowest = entry
                break
        for item in passed:
            heapq.heappush(heap, item)
        return lowest

    def _priority(self, entry: _Entry) -> tuple[int, ...]:
        """How likely a document is to be written: higher is likelier (see the module's docstring)."""
        document = entry.document
        tail = (_ORIGIN_RANK[entry.origin], -entry.seq)
        if isinstance(document, Identity):
            return (self._certifiers(document.issuer, document.hash), self._has_join(document), *tail)
        if isinstance(document, Membership):
            if entry.standing == _MEMBER:
                return (1, 0, _MEMBER, *tail)
            certifiers = self._pending_certifiers(document.issuer) | entry.written_certifiers
            return (0, len(certifiers), entry.standing, *tail)
        return tail

    def _pending_certifiers(self, receiver: PublicKey, identity: Hash | None = None) -> set[PublicKey]:
        """Issuers of the pool's certifications to `receiver` (of its identity `identity`, if given).

        They are members: the rules admit no other issuer, and the pool is re-checked when the head
        moves."""
        certs = self._certs_to.get(receiver, {})
        return {c.issuer for c in certs.values() if identity is None or c.identity == identity}

    def _certifiers(self, receiver: PublicKey, identity: Hash) -> int:
        return len(self._pending_certifiers(receiver, identity))

    def _has_join(self, identity: Identity) -> int:
        held = self._by_issuer.get((Membership, identity.issuer), {})
        return int(
            any(
                isinstance(e.document, Membership)
                and e.document.type is MembershipType.IN
                and e.document.uid == identity.uid
                for e in held.values()
            )
        )

    def _assess(self, entry: _Entry) -> None:
        """Compute the head-dependent part of a membership's priority (its issuer's standing)."""
        document = entry.document
        if not isinstance(document, Membership):
            return
        identity = self.store.identity(document.issuer)
        if identity is None:
            entry.standing, entry.written_certifiers = _NEWCOMER, frozenset()
        elif identity.member:
            entry.standing, entry.written_certifiers = _MEMBER, frozenset()
        else:
            entry.standing = _WRITTEN
            entry.written_certifiers = frozenset(self.store.certifiers_of(document.issuer))

    # Checks ------------------------------------------------------------------------------------

    def _follow_head(self) -> None:
        """Re-check the pool if the head moved since the pool's transactions were last applied."""
        pointer, reads = self.store.head_pointer(), self._head_reads
        if pointer is not None and (self._spending is None or reads is None or reads.pointer != pointer):
            self.revalidate()

    def _fresh_overlay(self) -> Overlay | None:
        """The head, through the reads kept since it became the head (a new store reader if it moved)."""
        pointer = self.store.head_pointer()
        if pointer is None:
            return None
        if self._head_reads is None or self._head_reads.pointer != pointer:
            self._head_reads = _HeadReads(self.store, pointer)
        return Overlay(self._head_reads, pointer[0] + 1)

    def _reapply(self, writer: _Writer) -> list[_Entry]:
        """Rebuild the spending overlay from the pool's transactions after one of them left, and
        drop those that spent what is gone (all passed with it: a missing source is what changed)."""
        self._spending = self._fresh_overlay()
        if self._spending is None or self.store.head() is None:
            return []
        ctx = RuleContext.for_pending(self.store)
        dropped: list[_Entry] = []
        for document_hash in self._in_order(self._by_kind[Transaction]):  # parents first
            entry = self._entries[document_hash]
            transaction = entry.document
            assert isinstance(transaction, Transaction)
            if entry.waiting is not None:
                continue  # not applied: checked again at the next block
            if all(self._spending.source(i.source) is not None for i in transaction.inputs):
                apply_transaction(self._spending, ctx, transaction, set())
            else:
                self._record_dropped(entry, "it spent an output of a transaction that left the pool", writer)
                self._forget(entry.hash, writer)
                dropped.append(entry)
        return dropped

    def _in_order(self, held: dict[Hash, _Entry]) -> list[Hash]:
        """The hashes of `held` (a subset of the pool, in arrival order) in arrival order, except that
        a transaction comes after the pending ones it spends (a waiting child may have come first)."""
        return list(self._walk(held))

    def _walk(self, held: dict[Hash, _Entry]) -> Iterator[Hash]:
        placed: set[Hash] = set()
        for start in held:
            stack, expanded = [start], set()
            while stack:
                document_hash = stack[-1]
                if document_hash in placed:
                    stack.pop()
                    continue
                parents = [
                    p
                    for p in _parents_of(self._entries[document_hash].document)
                    if p in held and p not in placed
                ]
                if parents and document_hash not in expanded:
                    expanded.add(document_hash)
                    stack.extend(sorted(parents, key=lambda p: held[p].seq, reverse=True))
                    continue
                stack.pop()
                placed.add(document_hash)
                yield document_hash

    def _classify(self, document: PendingDocument, violation: RuleViolation) -> NotYet | None:
        """Whether a refusal may be lifted later (see `protocol.rules.waiting`), with what the pool
        knows: a source spent by one of its transactions is a double spend (never), and a
        transaction whose outputs are missing is settled when it was written or dropped. A document
        written already never waits (sent again, it would pass again only as a replay)."""
        known = self._outcomes.get(document.hash)
        if known is not None and known[1].state is State.WRITTEN:
            return None
        if isinstance(document, Transaction) and self._spending is not None:
            view: StateView = self._spending
            if violation.code == "BR_G87" and any(
                self._spending.source(i.source) is None and self.store.source(i.source) is not None
                for i in document.inputs
            ):
                return None  # a source a pending transaction spends already
        else:
            view = self.store
        return classify(view, document, violation, settled=self._settled)

    def _settled(self, document_hash: Hash) -> bool:
        return document_hash in self._outcomes and document_hash not in self._entries

    def _check(self, document: PendingDocument) -> None:
        """Check `document` on the head (transactions: on the head and the pool's transactions,
        which it then joins)."""
        if self.store.head() is None or self._spending is None:
            raise NotReady("this node has no block yet: pending documents wait for block 0")
        if isinstance(document, Transaction):
            check_pending(self._spending, document)
            assert self._head_reads is not None  # built with the overlay
            apply_transaction(self._spending, self._head_reads.context(), document, set())
            return
        check_pending(self.store, document, identity=self._pending_identity_for(document))

    def _pending_identity_for(self, document: PendingDocument) -> Identity | None:
        """The pending identity a certification or a newcomer's membership refers to, if any."""
        if isinstance(document, Certification):
            target = document.receiver
        elif isinstance(document, Membership):
            target = document.issuer
        else:
            return None
        if self.store.identity(target) is not None:
            return None
        for entry in self._by_issuer.get((Identity, target), {}).values():
            if isinstance(entry.document, Identity):
                return entry.document
        return None

    def revalidate(self) -> list[tuple[PendingDocument, str]]:
        """Check the pool again on a new head: documents the new blocks wrote leave (recorded as
        written), those that can never be written leave (recorded as dropped, logged), those not
        valid yet stay, waiting. Say what left and why."""
        left: list[tuple[PendingDocument, str]] = []
        self._spending = self._fresh_overlay()
        if self.store.head() is None:
            return left
        written = self._written_since_last_check()
        with self.store.db.write_batch() as batch:
            for document_hash in self._in_order(self._entries):  # arrival order, parents first
                entry = self._entries[document_hash]
                number = written.get(document_hash)
                if number is not None:
                    self._record(batch, entry, DocumentStatus(State.WRITTEN, block=number))
                    self._forget(document_hash, batch)
                    left.append((entry.document, f"written in block {number}"))
                    continue
                try:
                    self._check(entry.document)
                    if entry.waiting is not None:
                        self._ready[document_hash] = entry.document
                    entry.waiting = None
                except RuleViolation as violation:
                    entry.waiting = self._classify(entry.document, violation)
                    if entry.waiting is None:
                        self._record_dropped(entry, str(violation), batch)
                        self._forget(document_hash, batch)
                        left.append((entry.document, str(violation)))
                        continue
                self._assess(entry)
        for kind in self._heaps:  # memberships' standings may have changed
            self._rebuild_heap(kind)
        left += ((entry.document, "the pool is over its bounds") for entry in self._trim())
        return left

    def take_ready(self) -> list[PendingDocument]:
        """The documents that were waiting and became valid since the last call, still in the pool:
        peers refused them while they were not valid yet, so the node may gossip them now."""
        ready = [d for h, d in self._ready.items() if h in self._entries]
        self._ready.clear()
        return ready

    def _written_since_last_check(self) -> dict[Hash, int]:
        """Hash → number of the documents written in the blocks since the head the last re-check saw
        (the last `WRITTEN_SCAN` blocks if it is unknown or no longer on the chain)."""
        pointer = self.store.head_pointer()
        if pointer is None:
            return {}
        head_number, head_hash = pointer[0], pointer[1]
        seen = self._seen_head
        self._seen_head = (head_number, head_hash)
        if seen is not None and seen[0] <= head_number and self.store.block_hash(seen[0]) == seen[1]:
            first = seen[0] + 1
        else:
            first = max(0, head_number - WRITTEN_SCAN + 1)
        written: dict[Hash, int] = {}
        for number in range(first, head_number + 1):
            block = self.store.block(number)
            if block is None:
                continue
            for documents in (
                block.identities,
                block.joiners,
                block.actives,
                block.leavers,
                block.revocations,
                block.certifications,
                block.transactions,
            ):
                written.update((document.hash, number) for document in documents)
        return written

    # Outcomes ----------------------------------------------------------------------------------

    def status(self, document_hash: Hash) -> DocumentStatus:
        """What became of a document: pending or waiting in the pool, written, dropped, or unknown."""
        entry = self._entries.get(document_hash)
        if entry is not None:
            until = expires(self.store, entry.document) if self.store.head() is not None else None
            if entry.waiting is None:
                return DocumentStatus(State.PENDING, expires=until)
            reason = f"{entry.waiting.code}: {entry.waiting.reason}"
            return DocumentStatus(State.WAITING, reason, until=entry.waiting.until, expires=until)
        known = self._outcomes.get(document_hash)
        return DocumentStatus(State.UNKNOWN) if known is None else known[1]

    def _record_dropped(self, entry: _Entry, reason: str, writer: _Writer) -> None:
        log.info(
            "mempool: dropped %s %s: %s", type(entry.document).__name__.lower(), entry.hash.hex()[:16], reason
        )
        self._record(writer, entry, DocumentStatus(State.DROPPED, reason))

    def _record(self, writer: _Writer, entry: _Entry, status: DocumentStatus) -> None:
        """Remember what became of a document that leaves the pool, forgetting the oldest outcome
        beyond `MAX_OUTCOMES`."""
        previous = self._outcomes.pop(entry.hash, None)
        if previous is not None:
            writer.delete(OUTCOME_PREFIX + previous[0].to_bytes(8, "big"))
        seq = self._next_outcome
        self._next_outcome += 1
        self._outcomes[entry.hash] = (seq, status)
        body = {"state": status.state.value, "reason": status.reason, "block": status.block}
        writer.put(OUTCOME_PREFIX + seq.to_bytes(8, "big"), entry.hash + json.dumps(body).encode())
        while len(self._outcomes) > MAX_OUTCOMES:
            oldest = next(iter(self._outcomes))
            old_seq, _status = self._outcomes.pop(oldest)
            writer.delete(OUTCOME_PREFIX + old_seq.to_bytes(8, "big"))

    def _load_outcomes(self) -> None:
        for key, raw in self.store.db.iterator(prefix=OUTCOME_PREFIX):  # oldest first
            try:
                seq = int.from_bytes(key[len(OUTCOME_PREFIX) :], "big")
                body = json.loads(raw[32:])
                status = DocumentStatus(State(body["state"]), str(body["reason"]), body["block"])
            except (ValueError, KeyError, TypeError):
                self.store.db.delete(key)
                continue
            previous = self._outcomes.pop(Hash(raw[:32]), None)
            if previous is not None:  # recorded again since (a write lost with a crash)
                self.store.db.delete(OUTCOME_PREFIX + previous[0].to_bytes(8, "big"))
            self._outcomes[Hash(raw[:32])] = (seq, status)
            self._next_outcome = seq + 1

    def _trim(self) -> list[_Entry]:
        """Evict the documents least likely to be written while a bound is exceeded (after a
        restart with lower limits)."""
        trimmed: list[_Entry] = []
        for kind, (total, per_issuer) in self.limits.items():
            bounds = [(self._by_kind[kind], total)]
            bounds += [(held, per_issuer) for (k, _key), held in self._by_issuer.items() if k is kind]
            for held, bound in bounds:
                while len(held) > bound and (lowest := self._lowest_of(kind, held, set())) is not None:
                    trimmed += self._evict(lowest.hash, self.store.db, "the pool is over its bounds")
        return trimmed

    def remove(self, hashes: Iterable[Hash]) -> None:
        """Take documents out of the pool, with those that no longer pass without them."""
        for document_hash in hashes:
            self._evict(document_hash, self.store.db, "removed")
