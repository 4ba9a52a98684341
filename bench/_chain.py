"""A funded dev chain for the benchmarks: N members in a ring of certifications, each with a UD."""

from collections.abc import Sequence

from protocol.conditions import sig_condition
from protocol.crypto import sha256
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
    SigProof,
    Transaction,
)
from protocol.forge import build_block, build_genesis, prove, required_difficulty
from protocol.genesis import GenesisDescription
from protocol.keys import Keypair
from protocol.params import CurrencyParameters, dev_parameters
from protocol.rules.block import validate_block
from protocol.state import MemoryState

CURRENCY = "june-bench"
FORGERS = 20
START = 1_700_000_000


class BenchChain:
    def __init__(
        self,
        members: int,
        params: CurrencyParameters | None = None,
        certifiers: int = 3,
        start: int = START,
        links: Sequence[tuple[int, int]] | None = None,
    ) -> None:
        """Found a currency of `members` founders, each certified by the next `certifiers` ones (or
        along `links`, (certifier, certified) founder numbers: a real web of trust's core), its
        genesis dated `start` (a past date near the real clock lets a `juned run` forge on it)."""
        self.start = start
        self.params = params or dev_parameters(start)
        self.keys = [Keypair(sha256(f"bench member {i}".encode())) for i in range(members)]
        identities = [
            Identity.create(k, CURRENCY, f"member{i}", GENESIS_REF) for i, k in enumerate(self.keys)
        ]
        description = GenesisDescription(
            currency=CURRENCY,
            parameters=self.params,
            time=start,
            identities=tuple(identities),
            memberships=tuple(
                Membership.create(k, CURRENCY, MembershipType.IN, f"member{i}", GENESIS_REF)
                for i, k in enumerate(self.keys)
            ),
            certifications=tuple(
                Certification.create(
                    self.keys[a], CURRENCY, identities[b].issuer, identities[b].hash, GENESIS_REF
                )
                for a, b in (
                    links
                    if links is not None
                    else [((i + j) % members, i) for i in range(members) for j in range(1, certifiers + 1)]
                )
            ),
        )
        self.state = MemoryState()
        self.blocks: list[Block] = []
        self.turn = 0
        self.apply(self.sign(build_genesis(description, self.keys[0].public_key), 0))

    def sign(self, block: Block, issuer: int) -> Block:
        nonce = prove(block, required_difficulty(self.state, block))
        assert nonce is not None
        return block.signed(self.keys[issuer], nonce)

    def apply(self, block: Block) -> None:
        delta = validate_block(self.state, block)
        self.state.apply(delta, block.hash)
        self.blocks.append(block)

    def forge(self, pending: list[object], time: int) -> Block:
        """Build, prove and sign the next block (20 issuers take turns, as on a real network where a
        few dozen members forge), without applying it."""
        self.turn = (self.turn + 1) % min(FORGERS, len(self.keys))
        block = build_block(self.state, pending, self.keys[self.turn].public_key, time)  # type: ignore[arg-type]
        return self.sign(block, self.turn)

    def grow_to(self, members: int, per_block: int = 150) -> None:
        """Let newcomers join, `per_block` at a time, each certified by one member in turn (the
        bench currency asks one certification), until the web of trust has `members` members."""
        turn = 0
        while (
            head := self.state.head()
        ) is not None and head.median_time <= self.start + self.params.sig_period:
            self.apply(self.forge([], head.time + 10))  # the founders' certification period first
        while len(self.keys) < members:
            head = self.state.head()
            assert head is not None
            current = len(self.keys)
            documents: list[object] = []
            for index in range(current, min(members, current + per_block)):
                key = Keypair(sha256(f"bench member {index}".encode()))
                self.keys.append(key)
                identity = Identity.create(key, CURRENCY, f"member{index}", self.ref())
                certifier = self.keys[turn % current]
                turn += 1
                documents += [
                    identity,
                    Membership.create(key, CURRENCY, MembershipType.IN, f"member{index}", self.ref()),
                    Certification.create(certifier, CURRENCY, key.public_key, identity.hash, self.ref()),
                ]
            block = self.forge(documents, head.time + 10)
            self.apply(block)
            assert len(block.identities) == len(self.keys) - current, "every newcomer must join"

    def advance_to_dividend(self) -> None:
        while not any(b.dividend for b in self.blocks):
            head = self.state.head()
            assert head is not None
            self.apply(self.forge([], head.median_time + 86400))

    def ref(self) -> BlockRef:
        return BlockRef(self.blocks[-1].number, self.blocks[-1].hash)

    def payment(self, payer: int, payee: int) -> Transaction:
        """`payer` sends its first UD to `payee`, keeping half."""
        number = next(b.number for b in self.blocks if b.dividend)
        amount = self.blocks[number].dividend
        assert amount is not None
        key = self.keys[payer].public_key
        tx = Transaction(
            currency=CURRENCY,
            block=self.ref(),
            locktime=0,
            issuers=(key,),
            inputs=(Input(amount, 0, DividendSource(key, number)),),
            unlocks=((SigProof(0),),),
            outputs=(
                Output(amount // 2, 0, sig_condition(self.keys[payee].public_key)),
                Output(amount - amount // 2, 0, sig_condition(key)),
            ),
        )
        return tx.signed_by(self.keys[payer])
