"""Refusals that time may lift: which broken rule means "not yet" and which means "never".

A pending document is checked as if it were written in the next block (`protocol.rules.pending`).
Some rules it breaks there will still hold in every later block: its signature, its form, a uid
already taken, a source spent by a written transaction, a reference block too old. Others depend on
time passing or on other documents being written first: a pool keeps such a document and checks it
again at each block, until it passes or its reference block leaves its window (then the window
rule, checked first, refuses it for ever).

`NOT_YET` is the table, rule code → why the refusal is temporary. A code missing from it is a
refusal for ever. Some codes name several checks, only some of which are temporary; `classify`
tells them apart from the state (`_SOMETIMES`). When the moment the rule will pass is known,
`NotYet.until` gives it as a median time: the document passes once the head's median time has
reached it.
"""

from collections.abc import Callable
from dataclasses import dataclass

from protocol.crypto import Hash
from protocol.documents import (
    BlockRef,
    Certification,
    DividendSource,
    Identity,
    Membership,
    Transaction,
)
from protocol.documents.pending import PendingDocument
from protocol.errors import RuleViolation
from protocol.rules.context import RuleContext
from protocol.rules.windows import get_reference_median_time
from protocol.state.view import StateView
from protocol.unlock import UnlockError, check_unlock

#: Rule code → why breaking it is temporary.
NOT_YET: dict[str, str] = {
    # Certifications
    "BR_G66": "the issuer's stock of live certifications frees up as they expire (sigStock)",
    "BR_G67": "an issuer certifies once per sigPeriod: allowed when the period has passed",
    "BR_G69": "the receiver is not a member yet: its identity may still be written, or it may rejoin "
    "(a revoked receiver, or a pending identity that was dropped: never)",
    "BR_G71": "a live certification is renewed once sigReplay has passed",
    # Memberships
    "BR_G108": "one membership per msPeriod: allowed when the period has passed",
    # Transactions
    "BR_G89": "the locktime counts from the source's writing: allowed when it has elapsed",
    "BR_G90": "an output's unit base is allowed once the currency reaches it",
}

#: Codes that are temporary only in some cases, told apart by `classify`.
_SOMETIMES: dict[str, str] = {
    "BR_G63": "a newcomer's join waits for its identity to be written or pending (an identity's own "
    "BR_G63 is its window: never)",
    "BR_G64": "a reference block beyond the node's head may come (one on this chain too old: never)",
    "BR_G65": "as BR_G64, for certifications",
    "BR_G103": "as BR_G64, for transactions",
    "BR_G87": "an output of a transaction not written yet (its parent still to come); a dividend or "
    "a known transaction's output that is gone is spent: never",
    "BR_G88": "a CLTV or CSV time lock not reached yet; any other failed unlock: never",
}

#: The reference-window rule of each kind, and which window it is.
_WINDOW = {
    Identity: ("BR_G63", "idty_window"),
    Certification: ("BR_G65", "sig_window"),
    Membership: ("BR_G64", "ms_window"),
    Transaction: ("BR_G103", "tx_window"),
}

#: The latest median time a time lock is probed at (far beyond any chain's life).
_FAR_FUTURE = 2**53


@dataclass(frozen=True)
class NotYet:
    """A refusal that may be lifted later: the broken rule, why, and from when it may pass."""

    code: str
    reason: str
    until: int | None = None  # the head's median time from which the rule may pass, if known


def classify(
    view: StateView,
    document: PendingDocument,
    violation: RuleViolation,
    *,
    settled: Callable[[Hash], bool] = lambda _hash: False,
) -> NotYet | None:
    """`NotYet` if `document`, refused with `violation` on `view`, may pass in a later block; None if
    it never can. `settled(hash)`: the document (a transaction, an identity) is known written or
    dropped, so an output of it that is missing was spent or will never exist, and an identity not
    written that it names never will be.

    A document whose signature does not verify is refused for ever whatever the rule broken (the
    signature is checked last, so a "not yet" refusal says nothing of it)."""
    code = violation.code
    if code not in NOT_YET and code not in _SOMETIMES:
        return None
    if not document.is_signature_valid():
        return None
    head = view.head()
    if head is None:
        return None
    ctx = RuleContext.for_pending(view)
    window_code, _window = _WINDOW.get(type(document), ("", ""))
    reference: BlockRef | None = getattr(document, "block", None)
    if code == window_code:
        # The reference is not on the chain or too old: only a block beyond our head may still come.
        if reference is None or reference.number <= head.number:
            return None
        return NotYet(code, f"{violation.reason} (not reached yet)")
    if code == "BR_G69" and isinstance(document, Certification):
        receiver = view.identity(document.receiver)
        if receiver is not None and receiver.revoked_on is not None:
            return None  # a revoked identity never comes back
        if receiver is None and settled(document.identity):
            return None  # the identity it names left the pool unwritten
    if code in NOT_YET:
        return NotYet(code, violation.reason, _until(view, ctx, document, code))
    if code == "BR_G63":
        temporary = isinstance(document, Membership) and view.identity(document.issuer) is None
        return NotYet(code, violation.reason) if temporary else None
    if code == "BR_G87" and isinstance(document, Transaction):
        for tx_input in document.inputs:
            source = tx_input.source
            if view.source(source) is not None:
                continue
            if isinstance(source, DividendSource) or settled(source.tx_hash):
                return None  # spent, or never to exist
        return NotYet(code, f"{violation.reason} (yet)")
    if code == "BR_G88" and isinstance(document, Transaction):
        until = _unlock_time(view, ctx, document)
        return None if until is None else NotYet(code, violation.reason, until)
    return None


def expires(view: StateView, document: PendingDocument) -> int | None:
    """The median time after which `document`'s reference block is out of its window (it can never
    be written then), or None when the reference is not on the chain (or it has none)."""
    reference: BlockRef | None = getattr(document, "block", None)
    head, chain = view.head(), view.chain()
    if reference is None or head is None or chain is None or type(document) not in _WINDOW:
        return None
    ctx = RuleContext.for_pending(view)
    ref_time = get_reference_median_time(view, ctx, reference)
    if ref_time is None:
        return None
    return ref_time + int(getattr(chain.parameters, _WINDOW[type(document)][1]))


def _until(view: StateView, ctx: RuleContext, document: PendingDocument, code: str) -> int | None:
    """When the rule `code` will pass for `document`, if the state says."""
    if isinstance(document, Certification):
        issued = [view.certification(document.issuer, r) for r in view.certified_by(document.issuer)]
        records = [r for r in issued if r is not None]
        if code == "BR_G67":
            return max((r.chainable_on for r in records), default=None)
        if code == "BR_G66":
            return min((r.expires_on for r in records), default=None)
        if code == "BR_G71":
            existing = view.certification(document.issuer, document.receiver)
            return None if existing is None else existing.replayable_on + 1
    if isinstance(document, Membership) and code == "BR_G108":
        record = view.membership(document.issuer)
        return None if record is None else record.chainable_on
    if isinstance(document, Transaction) and code == "BR_G89":
        times = [s.written_time for i in document.inputs if (s := view.source(i.source)) is not None]
        return max(times, default=ctx.median_time) + document.locktime
    return None


def _unlocks(conditions: str, tx: Transaction, index: int, median_time: int, written_time: int) -> bool:
    try:
        check_unlock(conditions, tx, index, median_time=median_time, written_time=written_time)
    except UnlockError:
        return False
    return True


def _unlock_time(view: StateView, ctx: RuleContext, tx: Transaction) -> int | None:
    """The first median time at which every input of `tx` unlocks, if time alone is missing (a
    CLTV or CSV lock); None if some input never unlocks."""
    latest = ctx.median_time
    for index, tx_input in enumerate(tx.inputs):
        source = view.source(tx_input.source)
        if source is None:
            return None
        conditions, written = source.conditions, source.written_time
        if _unlocks(conditions, tx, index, ctx.median_time, written):
            continue
        if not _unlocks(conditions, tx, index, _FAR_FUTURE, written):
            return None
        low, high = ctx.median_time, _FAR_FUTURE  # fails at low, passes at high: time locks only open
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (low, middle) if _unlocks(conditions, tx, index, middle, written) else (middle, high)
        latest = max(latest, high)
    return latest
