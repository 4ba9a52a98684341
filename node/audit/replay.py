"""Replaying a chain from genesis on a fresh in-memory state, and what the replay found.

Each block goes through the very functions a node validates with (`protocol.rules`), with the
signature checks left to `signatures.SignatureChecker`, which runs ahead of the replay in worker
processes. For every block the order of `validate_block` is kept: the local rules, then the
signatures, then the global rules, then the state digest the block commits to; so the first
violation reported is the one any node would report.

`keep_going` lists every violation instead of stopping at the first. A block whose only faults
are bad signatures or a wrong state digest still has a well-defined effect, so its delta (as the
rules compute it) is applied and the replay goes on. Any other violation leaves the state after
the block undefined: from there on, only the checks that need no state continue (every signature
and the local rules of every block), and the report says from which height the rules stopped.
"""

import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from node.audit.signatures import (
    CERTIFICATION_SIGNATURE,
    IDENTITY_SIGNATURE,
    MEMBERSHIP_SIGNATURE,
    REVOCATION_SIGNATURE,
    TRANSACTION_SIGNATURE,
    BlockSignatures,
    SignatureChecker,
    SignatureFailure,
)
from node.audit.source import AuditSourceError, BlockSource, NodeClaims
from node.gcpolicy import ReplayGc
from protocol.crypto import Hash, hash_hex
from protocol.documents import Block
from protocol.errors import DecodeError, RuleViolation
from protocol.keys import pubkey_display
from protocol.rules.block import compute_block_delta
from protocol.rules.header import describe_digest_mismatch
from protocol.rules.local import check_block_local
from protocol.rules.production import FrameCache
from protocol.state import MemoryState
from protocol.state.delta import Delta
from protocol.state.tables import ACCOUNT, RIGHTS

#: Code of a block whose bytes do not decode (strict canonical CBOR of the block schema).
BLOCK_ENCODING = "BLOCK_ENCODING"
#: Code of a block on which the rules themselves failed (a bug, or a block crafted to find one).
RULES_FAILED = "AUDIT_RULES_FAILED"
#: Codes of a data directory whose own account disagrees with its blocks.
NODE_GENESIS = "NODE_GENESIS"
NODE_HEAD = "NODE_HEAD"

#: A batch for the signature workers: consecutive blocks up to this many bytes (or blocks).
BATCH_BYTES = 64 * 1024
BATCH_BLOCKS = 512

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class Violation:
    """A broken rule: the height of the block in the chain, the rule's stable code, and why."""

    height: int
    code: str
    reason: str


@dataclass(frozen=True)
class Dividend:
    """A Universal Dividend created by block `height`: `amount`·10^`unit_base` cents per member."""

    height: int
    median_time: int
    amount: int
    unit_base: int
    members: int
    mass: int


@dataclass(frozen=True)
class MembersPoint:
    """The members count after block `height`, recorded whenever it changes."""

    height: int
    median_time: int
    members: int


@dataclass
class Totals:
    """Counts over the blocks replayed."""

    identities: int = 0
    returning: int = 0
    renewals: int = 0
    leavers: int = 0
    revocations: int = 0
    exclusions: int = 0
    certifications: int = 0
    transactions: int = 0
    inputs: int = 0
    outputs: int = 0


@dataclass
class AuditReport:
    """Everything the auditor found; `report.py` renders it."""

    source: str
    keep_going: bool
    workers: int
    total: int = 0
    blocks_read: int = 0
    signatures: int = 0
    #: Blocks whose state transition was replayed (all of them unless the rules had to stop).
    replayed: int = 0
    currency: str | None = None
    genesis: Hash | None = None
    head_height: int | None = None
    head_hash: Hash | None = None
    head_median_time: int | None = None
    state_digest: Hash | None = None
    members: int = 0
    members_peak: int = 0
    monetary_mass: int = 0
    circulating: int | None = None
    dividend: int | None = None
    unit_base: int = 0
    dividends: list[Dividend] = field(default_factory=list)
    members_history: list[MembersPoint] = field(default_factory=list)
    totals: Totals = field(default_factory=Totals)
    violations: list[Violation] = field(default_factory=list)
    #: Keep-going only: the height from which the state was unknown and only stateless checks ran.
    rules_stopped_at: int | None = None
    source_error: str | None = None
    claims: NodeClaims | None = None
    elapsed: float = 0.0

    @property
    def valid(self) -> bool:
        """True when every block was read and nothing was found wrong."""
        return not self.violations and self.source_error is None and self.blocks_read > 0

    @property
    def verdict(self) -> str:
        if self.violations:
            return "invalid"
        if self.source_error is not None or self.blocks_read == 0:
            return "incomplete"
        return "valid"


def audit(
    source: BlockSource,
    *,
    workers: int,
    keep_going: bool = False,
    progress: ProgressCallback | None = None,
) -> AuditReport:
    """Replay `source` from block 0 and report; a source that breaks off ends the report early."""
    started = time.perf_counter()
    report = AuditReport(source=source.label, keep_going=keep_going, workers=workers, claims=source.claims)
    replay = _Replay(report)
    try:
        report.total = source.count()
        if progress is not None:
            progress(0, report.total)
        with SignatureChecker(workers) as checker, ReplayGc() as collector:
            for batch in _checked_batches(source.blocks(), checker, window=max(2, 3 * workers)):
                if not all(replay.block(raw, signatures) for raw, signatures in batch):
                    break
                collector.checkpoint()
                if progress is not None:
                    progress(report.blocks_read, report.total)
    except AuditSourceError as exc:
        report.source_error = str(exc)
    except OSError as exc:
        report.source_error = f"cannot read {source.label}: {exc}"
    except BrokenProcessPool as exc:
        report.source_error = f"a signature worker stopped unexpectedly (out of memory?): {exc}"
    replay.finish()
    report.elapsed = time.perf_counter() - started
    return report


def _checked_batches(
    raws: Iterator[bytes], checker: SignatureChecker, *, window: int
) -> Iterator[list[tuple[bytes, BlockSignatures]]]:
    """Batches of blocks with their signatures checked, in order, keeping `window` batches in the
    workers ahead of the replay. A source that breaks off raises only after the blocks read
    before the break are yielded, so they are all checked."""
    pending: deque[tuple[list[bytes], Future[list[BlockSignatures]]]] = deque()
    broken: AuditSourceError | OSError | None = None
    try:
        while True:
            while broken is None and len(pending) < window:
                batch: list[bytes] = []
                try:
                    _fill(batch, raws)
                except (AuditSourceError, OSError) as exc:
                    broken = exc
                if not batch:
                    break
                pending.append((batch, checker.submit(batch)))
            if not pending:
                break
            batch, future = pending.popleft()
            yield list(zip(batch, future.result(), strict=True))
    finally:
        for _batch, future in pending:
            future.cancel()
    if broken is not None:
        raise broken


def _fill(batch: list[bytes], raws: Iterator[bytes]) -> None:
    """Add blocks to `batch` up to the batch size (fewer at the end of the source)."""
    size = 0
    for raw in raws:
        batch.append(raw)
        size += len(raw)
        if size >= BATCH_BYTES or len(batch) >= BATCH_BLOCKS:
            return


class _Replay:
    """The replay's state and the report it fills, one block at a time."""

    def __init__(self, report: AuditReport) -> None:
        self.report = report
        self.state = MemoryState()
        self.frames = FrameCache()  # the issuers frame, carried from block to block
        self.sound = True
        self.last: Block | None = None

    def block(self, raw: bytes, signatures: BlockSignatures) -> bool:
        """Check the next block; False when the audit stops here."""
        report = self.report
        height = report.blocks_read
        report.blocks_read += 1
        report.signatures += signatures.checked
        try:
            block = Block.from_bytes(raw)
        except DecodeError as exc:
            return self._lose_state(height, BLOCK_ENCODING, f"the bytes are not a valid block: {exc}")
        if signatures.block_hash != block.hash:  # never seen: a decoder that normalises a field
            reason = "its fields do not re-encode to its bytes, so its signatures cannot be checked"
            return self._lose_state(height, BLOCK_ENCODING, reason)
        failures = [self._describe(block, failure) for failure in signatures.failures]
        if not self.sound:
            self._local_rules(height, block)
            report.violations.extend(Violation(height, code, reason) for code, reason in failures)
            return True
        if failures:
            # The protocol checks the other local rules before signatures: keep its order.
            if not self._local_rules(height, block):
                return self._lose_state(height)
            kept = failures if report.keep_going else failures[:1]
            report.violations.extend(Violation(height, code, reason) for code, reason in kept)
            if not report.keep_going:
                return False
        try:
            delta = compute_block_delta(
                self.state, block, signatures=False, proof_of_work=True, frames=self.frames
            )
        except RuleViolation as violation:
            return self._lose_state(height, violation.code, violation.reason)
        except (ValueError, LookupError, ArithmeticError, TypeError) as exc:
            return self._lose_state(height, RULES_FAILED, f"the rules could not evaluate this block: {exc!r}")
        if block.state_digest != delta.digest:
            reason = describe_digest_mismatch(block.state_digest, delta.digest)
            report.violations.append(Violation(height, "BR_STATE_DIGEST", reason))
            if not report.keep_going:
                return False
        self._apply(block, delta)
        return True

    def _local_rules(self, height: int, block: Block) -> bool:
        try:
            check_block_local(block, signatures=False)
        except RuleViolation as violation:
            self.report.violations.append(Violation(height, violation.code, violation.reason))
            return False
        return True

    def _lose_state(self, height: int, code: str | None = None, reason: str = "") -> bool:
        """Record a violation after which the state is unknown; go on only with stateless checks."""
        if code is not None:
            self.report.violations.append(Violation(height, code, reason))
        if self.sound:
            self.sound = False
            self.report.rules_stopped_at = height
        return self.report.keep_going

    def _apply(self, block: Block, delta: Delta) -> None:
        self.state.apply(delta, block.hash)
        self.last = block
        report, totals = self.report, self.report.totals
        report.replayed += 1
        head = self.state.head()
        assert head is not None  # a block was just applied
        if head.members_count != report.members or not report.members_history:
            report.members_history.append(MembersPoint(block.number, head.median_time, head.members_count))
        report.members = head.members_count
        report.members_peak = max(report.members_peak, head.members_count)
        if head.dividend_created and block.dividend is not None:
            amount, base = block.dividend, block.unit_base
            report.dividends.append(
                Dividend(block.number, head.median_time, amount, base, head.members_count, head.mass)
            )
        totals.identities += len(block.identities)
        totals.returning += len(block.joiners) - len(block.identities)
        totals.renewals += len(block.actives)
        totals.leavers += len(block.leavers)
        totals.revocations += len(block.revocations)
        totals.exclusions += len(block.excluded)
        totals.certifications += len(block.certifications)
        totals.transactions += len(block.transactions)
        for tx in block.transactions:
            totals.inputs += len(tx.inputs)
            totals.outputs += len(tx.outputs)

    def _describe(self, block: Block, failure: SignatureFailure) -> tuple[str, str]:
        """The code and reason `check_block_signatures` gives for this failure."""
        position = failure.position
        if failure.code == IDENTITY_SIGNATURE:
            return failure.code, f"identity {block.identities[position].uid!r}: bad signature"
        if failure.code == MEMBERSHIP_SIGNATURE:
            membership = (*block.joiners, *block.actives, *block.leavers)[position]
            return failure.code, f"membership of {membership.uid!r}: bad signature"
        if failure.code == REVOCATION_SIGNATURE:
            issuer = block.revocations[position].issuer
            return failure.code, f"revocation of {pubkey_display(issuer)}: bad signature"
        if failure.code == CERTIFICATION_SIGNATURE:
            cert = block.certifications[position]
            pair = f"{pubkey_display(cert.issuer)} → {pubkey_display(cert.receiver)}"
            return failure.code, f"certification {pair}: bad signature"
        if failure.code == TRANSACTION_SIGNATURE:
            return failure.code, f"transaction {position}: a signature does not verify"
        return failure.code, "the block's signature does not verify"

    def finish(self) -> None:
        """Fill in the head's figures, and compare a data directory's account with the replay."""
        report, block = self.report, self.last
        if block is None:
            return
        head = self.state.head()
        chain = self.state.chain()
        assert head is not None and chain is not None
        report.currency = chain.currency
        report.genesis = self.state.block_hash(0)
        report.head_height = block.number
        report.head_hash = block.hash
        report.head_median_time = head.median_time
        report.state_digest = self.state.state_digest()
        report.monetary_mass = head.mass
        report.dividend = head.dividend
        report.unit_base = head.unit_base
        outputs = sum(account.cents for account in self.state.records(ACCOUNT).values())
        held = sum(self.state.dividends_held(key) for key in self.state.records(RIGHTS))
        report.circulating = outputs + held
        complete = self.sound and report.source_error is None and report.blocks_read == report.total
        if report.claims is not None and complete:
            self._compare_claims(report.claims)

    def _compare_claims(self, claims: NodeClaims) -> None:
        report = self.report
        assert report.genesis is not None and report.head_height is not None
        if claims.genesis != report.genesis or claims.currency != report.currency:
            report.violations.append(
                Violation(
                    0,
                    NODE_GENESIS,
                    f"the node's configuration names currency {claims.currency!r} with block 0 "
                    f"{hash_hex(claims.genesis)[:16]}…; its chain is {report.currency!r}, block 0 "
                    f"{hash_hex(report.genesis)[:16]}…",
                )
            )
        if (claims.head_hash, claims.head_digest) != (report.head_hash, report.state_digest):
            report.violations.append(
                Violation(
                    report.head_height,
                    NODE_HEAD,
                    "the node's head pointer (hash and state digest) does not match the replayed head",
                )
            )
