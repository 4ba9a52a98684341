"""The mempool: pending documents waiting for a block, validated on entry and after every block.

Every document is checked against the head's state with the rules blocks use
(`protocol.rules.pending`). Transactions are checked against the head plus the pool's earlier
transactions, so a wallet may chain payments (spend an output still pending) and a second spend of
a source already spent in the pool is refused at once. The pool is bounded per kind and per issuer,
so a flood from one key cannot crowd out the others, and it is kept in the store so that it
survives a restart.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from node.errors import NodeError
from node.store import LevelStore
from protocol.crypto import Hash, PublicKey
from protocol.documents import Certification, Identity, Membership, Revocation, Transaction, decode_pending
from protocol.documents.pending import PendingDocument
from protocol.errors import DecodeError, RuleViolation
from protocol.rules.context import RuleContext
from protocol.rules.pending import check_pending
from protocol.rules.transactions import apply_transaction
from protocol.state.overlay import Overlay
from protocol.state.view import StateView

PENDING_PREFIX = b"P"

#: How many documents of each kind the pool holds, and how many of them one issuer may have.
LIMITS: dict[type, tuple[int, int]] = {
    Identity: (1000, 1),
    Membership: (2000, 1),
    Certification: (5000, 10),
    Revocation: (1000, 1),
    Transaction: (10000, 50),
}


class NotReady(NodeError):
    """The node cannot judge pending documents yet (it has no chain)."""


class Admission(StrEnum):
    ACCEPTED = "accepted"
    KNOWN = "known"
    FULL = "full"  # the pool (or this issuer's share of it) is full: try again later


@dataclass(frozen=True)
class AdmissionResult:
    admission: Admission
    reason: str = ""


def issuers_of(document: PendingDocument) -> tuple[PublicKey, ...]:
    return document.issuers if isinstance(document, Transaction) else (document.issuer,)


class Mempool:
    """Pending documents of one node, persisted in its store under the `P` prefix."""

    def __init__(self, store: LevelStore) -> None:
        self.store = store
        self._documents: dict[Hash, PendingDocument] = {}
        # Counts for the bounds, kept as documents come and go (a scan per admission is quadratic)
        self._per_kind: Counter[type] = Counter()
        self._per_issuer: Counter[tuple[type, PublicKey]] = Counter()
        self._spending = self._fresh_overlay()  # the head with the pool's transactions applied
        self._load()

    def _keep(self, document: PendingDocument) -> None:
        self._documents[document.hash] = document
        self._per_kind[type(document)] += 1
        self._per_issuer.update((type(document), key) for key in issuers_of(document))

    def _forget(self, document_hash: Hash) -> PendingDocument | None:
        document = self._documents.pop(document_hash, None)
        if document is not None:
            self._per_kind[type(document)] -= 1
            self._per_issuer.subtract((type(document), key) for key in issuers_of(document))
            self.store.db.delete(PENDING_PREFIX + document_hash)
        return document

    def _load(self) -> None:
        chain = self.store.chain()
        for key, raw in self.store.db.iterator(prefix=PENDING_PREFIX):
            try:
                document = decode_pending(raw, currency=None if chain is None else chain.currency)
            except DecodeError:
                self.store.db.delete(key)
                continue
            self._keep(document)
        self.revalidate()

    def __len__(self) -> int:
        return len(self._documents)

    def __contains__(self, document_hash: object) -> bool:
        return document_hash in self._documents

    def documents(self) -> list[PendingDocument]:
        """Every pending document, oldest kinds first (the forger picks what fits)."""
        return list(self._documents.values())

    def add(self, document: PendingDocument, *, durable: bool = True) -> AdmissionResult:
        """Admit a document that could be written in the next block; raise `RuleViolation` if not.

        `durable`: on disk before this returns (a client is told "accepted"); relayed documents
        skip the disk sync, a crash loses at most the latest of them, which peers still hold."""
        document_hash = document.hash
        if document_hash in self._documents:
            return AdmissionResult(Admission.KNOWN)
        self._follow_head()
        kind = type(document)
        total, per_issuer = LIMITS[kind]
        if self._per_kind[kind] >= total:
            return AdmissionResult(Admission.FULL, f"the pool holds {total} {kind.__name__.lower()}s already")
        for key in issuers_of(document):
            if self._per_issuer[kind, key] >= per_issuer:
                return AdmissionResult(
                    Admission.FULL, f"this issuer has {per_issuer} pending {kind.__name__.lower()}s"
                )
        self._check(document)
        self._keep(document)
        self.store.db.put(PENDING_PREFIX + document_hash, document.to_bytes(), sync=durable)
        return AdmissionResult(Admission.ACCEPTED)

    def spending_view(self) -> StateView:
        """The head as the pool's transactions leave it: what a key can spend next."""
        self._follow_head()
        return self.store if self._spending is None else self._spending

    def _follow_head(self) -> None:
        """Re-check the pool if the head moved since the pool's transactions were last applied."""
        pointer = self.store.head_pointer()
        if pointer is not None and (self._spending is None or self._spending.number != pointer[0] + 1):
            self.revalidate()

    def _fresh_overlay(self) -> Overlay | None:
        pointer = self.store.head_pointer()
        return None if pointer is None else Overlay(self.store, pointer[0] + 1)

    def _check(self, document: PendingDocument) -> None:
        """Check `document` on the head (transactions: on the head and the pool's transactions,
        which it then joins)."""
        if self.store.head() is None or self._spending is None:
            raise NotReady("this node has no block yet: pending documents wait for block 0")
        if isinstance(document, Transaction):
            check_pending(self._spending, document)
            apply_transaction(self._spending, RuleContext.for_pending(self.store), document, set())
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
        return next(
            (d for d in self._documents.values() if isinstance(d, Identity) and d.issuer == target), None
        )

    def revalidate(self) -> list[tuple[PendingDocument, str]]:
        """Drop what the new head made invalid (written in a block, spent, expired); say what and why."""
        dropped: list[tuple[PendingDocument, str]] = []
        self._spending = self._fresh_overlay()
        if self.store.head() is None:
            return dropped
        for document_hash, document in list(self._documents.items()):  # in arrival order
            try:
                self._check(document)
            except RuleViolation as violation:
                self._forget(document_hash)
                dropped.append((document, str(violation)))
        return dropped

    def remove(self, hashes: Iterable[Hash]) -> None:
        for document_hash in hashes:
            self._forget(document_hash)
