"""Forging: block 0 from a genesis description, the next block from pending documents, and the
proof-of-work search.

The forger keeps every rule by construction: it filters pending documents with the same check
functions as validation, then confirms the whole block with `compute_block_delta`, which also
gives the state digest to write. The nonce search needs no secret key; the issuer signs after it.
"""

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from protocol.crypto import ZERO_HASH, PublicKey
from protocol.documents import (
    Block,
    Certification,
    Identity,
    Membership,
    Revocation,
    Transaction,
    TransactionSource,
)
from protocol.documents.pending import PendingDocument
from protocol.errors import ProtocolError, RuleViolation
from protocol.genesis import GenesisDescription
from protocol.params import BLOCK_MAX_TX_CHAINING_DEPTH
from protocol.rules.block import compute_block_delta
from protocol.rules.certifications import check_certification
from protocol.rules.context import RuleContext
from protocol.rules.exclusions import check_revocation
from protocol.rules.header import compute_members_count, compute_money
from protocol.rules.identities import check_identity
from protocol.rules.local import check_transaction_local
from protocol.rules.memberships import (
    check_certification_quorum,
    check_distance,
    check_membership,
    make_distance_evaluator,
)
from protocol.rules.pending import get_membership_role
from protocol.rules.production import (
    HeaderFields,
    compute_header,
    compute_max_block_size,
    compute_personal_difficulty,
    is_hash_valid,
)
from protocol.rules.transactions import apply_transaction, check_transaction
from protocol.state.memory import MemoryState
from protocol.state.overlay import Overlay
from protocol.state.view import StateView


class ForgeError(ProtocolError):
    """No block can be forged (the issuer is not a member, the chain has no block 0, …)."""


@dataclass(frozen=True)
class BlockContent:
    identities: tuple[Identity, ...] = ()
    joiners: tuple[Membership, ...] = ()
    actives: tuple[Membership, ...] = ()
    leavers: tuple[Membership, ...] = ()
    revocations: tuple[Revocation, ...] = ()
    excluded: tuple[PublicKey, ...] = ()
    certifications: tuple[Certification, ...] = ()
    transactions: tuple[Transaction, ...] = ()


def build_genesis(description: GenesisDescription, issuer: PublicKey, *, pow_min: int = 0) -> Block:
    """Block 0 of the currency `description` founds, issued by founder `issuer` (unsigned, nonce 0)."""
    description.check()
    draft = Block(
        currency=description.currency,
        number=0,
        pow_min=pow_min,
        time=description.time,
        median_time=description.time,
        members_count=len(description.identities),
        unit_base=0,
        issuers_count=0,
        issuers_frame=1,
        issuers_frame_var=0,
        dividend=None,
        issuer=issuer,
        previous_hash=None,
        previous_issuer=None,
        parameters=description.parameters,
        state_digest=ZERO_HASH,
        identities=description.identities,
        joiners=description.memberships,
        certifications=description.certifications,
    )
    delta = compute_block_delta(MemoryState(), draft, signatures=False, proof_of_work=False)
    return replace(draft, state_digest=delta.digest)


def build_block(view: StateView, pending: Iterable[PendingDocument], issuer: PublicKey, time: int) -> Block:
    """The next block on `view`: the valid pending documents that fit, the exclusions and the UD due.

    `time` is the forger's clock; the block's time is kept within [medianTime, medianTime +
    maxAcceleration]. The block is unsigned with nonce 0: run `prove`, then `Block.signed`.
    """
    chain, head = view.chain(), view.head()
    if chain is None or head is None:
        raise ForgeError("the chain has no block 0 yet: forge it with build_genesis")
    identity = view.identity(issuer)
    if identity is None or not identity.member:
        raise ForgeError("only members forge blocks")
    params, number = chain.parameters, head.number + 1
    header = compute_header(view, params, number)
    ctx = RuleContext(number, header.median_time, chain.currency, params, head)
    block_time = min(max(time, header.median_time), header.median_time + params.max_acceleration)
    limit = compute_max_block_size(view, number, header.issuers_count)
    documents = list(pending)
    for content in (
        select_content(view, ctx, documents, limit),
        select_content(view, ctx, [d for d in documents if not isinstance(d, Transaction)], limit),
        select_content(view, ctx, [d for d in documents if isinstance(d, Revocation)], limit),
        select_content(view, ctx, [], limit),
    ):
        draft = assemble(view, ctx, content, issuer, block_time, header)
        try:
            delta = compute_block_delta(view, draft, signatures=False, proof_of_work=False)
        except RuleViolation:
            continue  # documents that interact badly: retry with fewer kinds
        return replace(draft, state_digest=delta.digest)
    raise ForgeError("no valid block can be built on this state")  # even an empty block failed


def assemble(
    view: StateView,
    ctx: RuleContext,
    content: BlockContent,
    issuer: PublicKey,
    time: int,
    header: HeaderFields,
) -> Block:
    head = ctx.previous
    assert head is not None
    draft = Block(
        currency=ctx.currency,
        number=ctx.number,
        pow_min=header.pow_min,
        time=time,
        median_time=ctx.median_time,
        members_count=0,
        unit_base=0,
        issuers_count=header.issuers_count,
        issuers_frame=header.issuers_frame,
        issuers_frame_var=header.issuers_frame_var,
        dividend=None,
        issuer=issuer,
        previous_hash=view.block_hash(head.number),
        previous_issuer=head.issuer,
        parameters=None,
        state_digest=ZERO_HASH,
        **content.__dict__,
    )
    newcomers = {i.issuer: i for i in content.identities}
    returning = frozenset(m.issuer for m in content.joiners if m.issuer not in newcomers)
    full_ctx = replace(ctx, newcomers=newcomers, returning=returning)
    members_count = compute_members_count(view, full_ctx, draft)
    step = compute_money(full_ctx, members_count)
    return replace(
        draft, members_count=members_count, dividend=step.new_dividend, unit_base=step.state.unit_base
    )


@dataclass
class _Pending:
    """Pending documents of the chain's currency, by kind, in a deterministic order."""

    identities: list[Identity] = field(default_factory=list)
    certifications: list[Certification] = field(default_factory=list)
    memberships: list[Membership] = field(default_factory=list)
    revocations: list[Revocation] = field(default_factory=list)
    transactions: list[Transaction] = field(default_factory=list)

    @classmethod
    def sort(cls, documents: Iterable[PendingDocument], currency: str) -> "_Pending":
        pending = cls()
        for document in sorted(documents, key=lambda d: d.hash):
            if document.currency != currency or not document.is_signature_valid():
                continue
            match document:
                case Identity():
                    pending.identities.append(document)
                case Certification():
                    pending.certifications.append(document)
                case Membership():
                    pending.memberships.append(document)
                case Revocation():
                    pending.revocations.append(document)
                case Transaction():
                    pending.transactions.append(document)
        return pending


def select_content(
    view: StateView, ctx: RuleContext, documents: list[PendingDocument], limit: int
) -> BlockContent:
    """The largest set of documents that the rules accept together, in a deterministic order."""
    pending = _Pending.sort(documents, ctx.currency)
    revocations: dict[PublicKey, Revocation] = {}
    for revocation in pending.revocations:
        if revocation.issuer not in revocations and _accepted(check_revocation, view, revocation):
            revocations[revocation.issuer] = revocation
    excluded = set(view.members_to_kick()) | set(revocations)

    identities: dict[PublicKey, Identity] = {}
    for identity in pending.identities:
        taken = identity.issuer in identities or any(i.uid == identity.uid for i in identities.values())
        if not taken and _accepted(check_identity, view, ctx, identity):
            identities[identity.issuer] = identity
    wot_ctx = replace(ctx, newcomers=identities)

    roles: dict[PublicKey, str] = {}
    memberships: dict[PublicKey, Membership] = {}
    for membership in pending.memberships:
        key = membership.issuer
        if key in memberships or key in excluded:
            continue
        role = "joiner" if key in identities else get_membership_role(view, membership)
        if _accepted(check_membership, view, wot_ctx, membership, role):
            memberships[key], roles[key] = membership, role
    leaving = {k for k, role in roles.items() if role == "leaver"}
    returning = frozenset(k for k, role in roles.items() if role == "joiner" and k not in identities)
    wot_ctx = replace(wot_ctx, returning=returning)
    certifications = _select_certifications(view, wot_ctx, pending.certifications, excluded | leaving)
    proposed = set(identities) | returning
    _drop_unqualified(view, wot_ctx, roles, memberships, identities, proposed, certifications)
    wanted = set(memberships)
    certifications = [c for c in certifications if c.receiver not in proposed or c.receiver in wanted]
    rows = len(identities) + len(memberships) + len(revocations) + len(certifications)  # not excluded (§6.6)
    return BlockContent(
        identities=tuple(i for k, i in identities.items() if k in wanted),
        joiners=tuple(m for k, m in memberships.items() if roles[k] == "joiner"),
        actives=tuple(m for k, m in memberships.items() if roles[k] == "active"),
        leavers=tuple(m for k, m in memberships.items() if roles[k] == "leaver"),
        revocations=tuple(revocations.values()),
        excluded=tuple(sorted(excluded)),
        certifications=tuple(certifications),
        transactions=tuple(_select_transactions(view, ctx, pending.transactions, limit - 1 - rows)),
    )


def _drop_unqualified(
    view: StateView,
    ctx: RuleContext,
    roles: dict[PublicKey, str],
    memberships: dict[PublicKey, Membership],
    identities: dict[PublicKey, Identity],
    proposed: set[PublicKey],
    certifications: list[Certification],
) -> None:
    """Remove joiners and actives short of certifications or distance, until every one qualifies.

    `proposed` are the newcomers (new identities and returning members) first selected. Dropping a
    newcomer drops the certifications it received, which can disqualify no one else (certifications
    to a newcomer only count for it), but a distance evaluation changes with them, hence the loop.
    """
    while True:
        candidates = {k: m for k, m in memberships.items() if roles[k] in ("joiner", "active")}
        certs = [c for c in certifications if c.receiver not in proposed or c.receiver in candidates]
        failing = {
            key
            for key, membership in candidates.items()
            if not _accepted(
                check_certification_quorum,
                view,
                ctx,
                key,
                membership.uid,
                [c.issuer for c in certs if c.receiver == key],
            )
        }
        remaining = candidates.keys() - failing
        if remaining:
            evaluator = make_distance_evaluator(view, ctx, certs)
            failing |= {
                key
                for key in remaining
                if not _accepted(check_distance, evaluator, ctx, key, candidates[key].uid)
            }
        if not failing:
            return
        for key in failing:
            memberships.pop(key, None)
            identities.pop(key, None)


def _select_certifications(
    view: StateView, ctx: RuleContext, pending: list[Certification], unreachable: set[PublicKey]
) -> list[Certification]:
    """One valid certification per issuer; those to newcomers first, since they let people join."""
    chosen: dict[PublicKey, Certification] = {}
    for cert in sorted(pending, key=lambda c: not ctx.is_newcomer(c.receiver)):
        if cert.issuer in chosen or cert.receiver in unreachable:
            continue
        if _accepted(check_certification, view, ctx, cert):
            chosen[cert.issuer] = cert
    return list(chosen.values())


def _select_transactions(
    view: StateView, ctx: RuleContext, pending: list[Transaction], room: int
) -> list[Transaction]:
    """Transactions valid one after the other (chaining allowed up to depth 5), within `room` lines.

    Pending transactions come sorted by hash, so a child may come before its parent: passes repeat
    over the ones left out while a pass takes any (at most one pass per chaining level)."""
    state = Overlay(view, ctx.number)
    chosen: list[Transaction] = []
    depth: dict[bytes, int] = {}
    accounts: set[str] = set()
    remaining = list(pending)
    while remaining:
        left: list[Transaction] = []
        for tx in remaining:
            lines = tx.compact_line_count()
            parents = [
                depth[i.source.tx_hash]
                for i in tx.inputs
                if isinstance(i.source, TransactionSource) and i.source.tx_hash in depth
            ]
            own_depth = max(parents) + 1 if parents else 0
            if (
                lines > room
                or own_depth > BLOCK_MAX_TX_CHAINING_DEPTH
                or not _accepted(check_transaction_local, tx)
                or not _accepted(check_transaction, state, ctx, tx)
            ):
                left.append(tx)
                continue
            apply_transaction(state, ctx, tx, accounts)
            chosen.append(tx)
            depth[tx.hash] = own_depth
            room -= lines
        if len(left) == len(remaining):
            break
        remaining = left
    return chosen


def _accepted(check: Callable[..., object], *args: object) -> bool:
    """Whether `check(*args)` passes (raises no `RuleViolation`)."""
    try:
        check(*args)
    except RuleViolation:
        return False
    return True


def required_difficulty(view: StateView, block: Block) -> int:
    """The difficulty `block`'s hash must meet: its issuer's personalised one (0 zeros for block 0)."""
    chain = view.chain()
    if block.number == 0 or chain is None:
        return block.pow_min
    return compute_personal_difficulty(view, chain.parameters, block.issuer, block.number, block.pow_min)


def prove(
    block: Block,
    difficulty: int,
    *,
    start: int = 0,
    step: int = 1,
    should_stop: Callable[[], bool] | None = None,
    check_every: int = 4096,
) -> int | None:
    """Search nonces start, start + step, … for one whose block hash meets `difficulty`.

    Returns the nonce, or None when `should_stop()` says so (it is asked every `check_every`
    tries). Several processes share the search by taking different `start`s with the same `step`.
    """
    return prove_inner_hash(
        block.inner_hash, difficulty, start=start, step=step, should_stop=should_stop, check_every=check_every
    )


def prove_inner_hash(
    inner_hash: bytes,
    difficulty: int,
    *,
    start: int = 0,
    step: int = 1,
    should_stop: Callable[[], bool] | None = None,
    check_every: int = 4096,
) -> int | None:
    """`prove` from the block's inner hash alone: what a worker process needs (no unsigned block
    has to cross the process boundary)."""
    prefix = hashlib.sha256(inner_hash)
    nonce = start
    while True:
        for _ in range(check_every):
            attempt = prefix.copy()
            attempt.update(nonce.to_bytes(8, "big"))
            if is_hash_valid(attempt.digest(), difficulty):  # type: ignore[arg-type]
                return nonce
            nonce += step
        if should_stop is not None and should_stop():
            return None
