"""A small chain-building DSL for rule tests: found a currency, then write blocks that are valid
by construction (header fields, money and state digest computed by the rules themselves), or
deliberately broken ones.
"""

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from protocol.conditions import sig_condition
from protocol.crypto import ZERO_HASH, PublicKey
from protocol.documents import (
    GENESIS_REF,
    Block,
    BlockRef,
    Certification,
    DividendSource,
    Identity,
    Input,
    Membership,
    MembershipType,
    Output,
    Revocation,
    SigProof,
    Transaction,
)
from protocol.documents.transaction import Source
from protocol.errors import RuleViolation
from protocol.forge import prove, required_difficulty
from protocol.keys import Keypair
from protocol.params import CurrencyParameters, dev_parameters
from protocol.rules.block import compute_block_delta, validate_block
from protocol.rules.context import RuleContext
from protocol.rules.header import compute_members_count, compute_money
from protocol.rules.production import HeaderFields, compute_header
from protocol.state import Delta, MemoryState

CURRENCY = "june-test"
START = 1_700_000_000
NAMES = (
    "alice",
    "bob",
    "carol",
    "dave",
    "eve",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "oscar",
)


def chain_parameters(**changes: Any) -> CurrencyParameters:
    """The dev profile with a 1-day UD, 10-day reevaluation and 3 certifications to join."""
    return replace(dev_parameters(START), **changes)


class Chain:
    """A chain on a `MemoryState`, with named keys `alice`, `bob`, … (seeds derived from the name)."""

    def __init__(self, founders: int = 4, params: CurrencyParameters | None = None) -> None:
        self.params = params or chain_parameters()
        self.keys = {name: Keypair(name.encode().ljust(32, b".")) for name in NAMES}
        self.state = MemoryState()
        self.blocks: list[Block] = []
        self.deltas: list[Delta] = []
        self.identities: dict[str, Identity] = {}
        names = NAMES[:founders]
        for name in names:
            self.identities[name] = Identity.create(self.keys[name], CURRENCY, name, GENESIS_REF)
        genesis = self.block(
            issuer="alice",
            time=START,
            parameters=self.params,
            identities=[self.identities[n] for n in names],
            joiners=[self.membership(n, ref=GENESIS_REF) for n in names],
            certifications=[self.cert(a, b, ref=GENESIS_REF) for a in names for b in names if a != b],
        )
        self.add(genesis)

    # Documents ---------------------------------------------------------------------------------

    def key(self, name: str) -> PublicKey:
        return self.keys[name].public_key

    def ref(self) -> BlockRef:
        head = self.blocks[-1]
        return BlockRef(head.number, head.hash)

    def identity(self, name: str, ref: BlockRef | None = None) -> Identity:
        identity = Identity.create(self.keys[name], CURRENCY, name, ref or self.ref())
        self.identities[name] = identity
        return identity

    def membership(
        self, name: str, type: MembershipType = MembershipType.IN, ref: BlockRef | None = None
    ) -> Membership:
        return Membership.create(self.keys[name], CURRENCY, type, name, ref or self.ref())

    def cert(self, issuer: str, receiver: str, ref: BlockRef | None = None) -> Certification:
        identity = self.identities[receiver]
        return Certification.create(
            self.keys[issuer], CURRENCY, identity.issuer, identity.hash, ref or self.ref()
        )

    def revocation(self, name: str) -> Revocation:
        return Revocation.create(self.keys[name], CURRENCY, self.identities[name].hash)

    def sources(self, name: str) -> list[tuple[Source, int, int]]:
        """`(source, amount, base)` of every unspent source locked by SIG(name)."""
        found = []
        for source_id in sorted(self.state.sources_of(sig_condition(self.key(name))), key=repr):
            record = self.state.source(source_id)
            assert record is not None
            found.append((source_id, record.amount, record.base))
        return found

    def balance(self, name: str) -> int:
        return sum(amount * 10**base for _s, amount, base in self.sources(name))

    def pay(self, sender: str, recipients: dict[str, int], *, comment: str = "") -> Transaction:
        """Spend all of `sender`'s sources: the amounts to `recipients`, the change back."""
        sources = self.sources(sender)
        total = sum(a * 10**b for _s, a, b in sources)
        change = total - sum(recipients.values())
        outputs = [Output(amount, 0, sig_condition(self.key(n))) for n, amount in recipients.items()]
        if change:
            outputs.append(Output(change, 0, sig_condition(self.key(sender))))
        return self.transaction([sender], [Input(a, b, s) for s, a, b in sources], outputs, comment=comment)

    def transaction(
        self, signers: Sequence[str], inputs: Sequence[Input], outputs: Sequence[Output], comment: str = ""
    ) -> Transaction:
        unsigned = Transaction(
            currency=CURRENCY,
            block=self.ref(),
            locktime=0,
            issuers=tuple(self.key(n) for n in signers),
            inputs=tuple(inputs),
            unlocks=tuple((SigProof(0),) for _ in inputs),
            outputs=tuple(outputs),
            comment=comment,
        )
        return unsigned.signed_by(*(self.keys[n] for n in signers))

    # Blocks ------------------------------------------------------------------------------------

    def block(self, *, issuer: str = "alice", time: int | None = None, **content: Any) -> Block:
        """A block on the head with the given documents, header fields, digest and proof filled in.

        `time` defaults to the median time plus avgGenTime, and is capped at the median time plus
        maxAcceleration. `excluded` defaults to the members the rules flag for exclusion. Fields
        given in `content` are kept as given, so a test can write a wrong one on purpose.
        """
        head = self.state.head()
        documents = {k: tuple(v) for k, v in content.items() if isinstance(v, list)}
        overrides = {k: v for k, v in content.items() if not isinstance(v, list)}
        if "excluded" not in documents:
            revoked = {r.issuer for r in documents.get("revocations", ())}
            documents["excluded"] = tuple(sorted(set(self.state.members_to_kick()) | revoked))
        if head is None:
            header = HeaderFields(0, time or START, 0, 1, 0, self.params.dt_diff_eval, 0)
            time = header.median_time
        else:
            header = compute_header(self.state, self.params, head.number + 1)
            limit = header.median_time + self.params.max_acceleration
            time = min(
                limit,
                header.median_time + self.params.avg_gen_time
                if time is None
                else max(time, header.median_time),
            )
        previous = self.blocks[-1] if self.blocks else None
        draft = Block(
            currency=CURRENCY,
            number=header.number,
            pow_min=header.pow_min,
            time=time,
            median_time=header.median_time,
            members_count=0,
            unit_base=0,
            issuers_count=header.issuers_count,
            issuers_frame=header.issuers_frame,
            issuers_frame_var=header.issuers_frame_var,
            dividend=None,
            issuer=self.key(issuer),
            previous_hash=None if previous is None else previous.hash,
            previous_issuer=None if previous is None else previous.issuer,
            parameters=overrides.pop("parameters", None),
            state_digest=ZERO_HASH,
            **documents,
        )
        ctx = RuleContext.for_block(self.state, draft)
        members_count = compute_members_count(self.state, ctx, draft)
        step = compute_money(ctx, members_count)
        draft = replace(
            draft, members_count=members_count, dividend=step.new_dividend, unit_base=step.state.unit_base
        )
        draft = replace(draft, **{k: v for k, v in overrides.items() if k != "state_digest"})
        try:
            digest = compute_block_delta(self.state, draft, signatures=False, proof_of_work=False).digest
        except RuleViolation:
            digest = ZERO_HASH  # an invalid block on purpose: its digest does not matter
        draft = replace(draft, state_digest=overrides.get("state_digest", digest))
        nonce = prove(draft, required_difficulty(self.state, draft))
        assert nonce is not None
        return draft.signed(self.keys[issuer], nonce)

    def add(self, block: Block) -> Delta:
        delta = validate_block(self.state, block)
        self.state.apply(delta, block.hash)
        self.blocks.append(block)
        self.deltas.append(delta)
        return delta

    def write(self, **content: Any) -> Delta:
        """Build and add a block in one step."""
        return self.add(self.block(**content))

    def revert(self) -> None:
        self.state.revert(self.deltas.pop())
        self.blocks.pop()

    def advance(self, seconds: int) -> None:
        """Write empty blocks, as far ahead in time as allowed, until the median time moved `seconds`."""
        head = self.state.head()
        assert head is not None
        target = head.median_time + seconds
        while (current := self.state.head()) is not None and current.median_time < target:
            self.write(time=target)

    def dividend_of(self, name: str, number: int) -> int | None:
        record = self.state.source(DividendSource(self.key(name), number))
        return None if record is None else record.amount
