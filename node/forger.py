"""Forging: a member's node writes the next block from its mempool when its turn comes.

When: never before `avgGenTime` after the head's time on the node's clock (the clock of a devnet can
jump), never before the head's median time, and never dated ahead of the clock. Who first: members
take turns by a ranking every node computes alike from the head's hash, each waiting `rank ×
turn_spacing` seconds of real time before searching. This is courtesy, not consensus (any member's
valid block is valid): it keeps members from forging the same height at the same instant, which
would leave equal branches that only the 3-block fork rule can settle. The nonce is searched in
worker processes and abandoned as soon as the head changes.

Should two members still forge the same height, the network splits into equal branches that the
fork rule (3 blocks ahead) cannot settle while both grow at the same pace. So a forger whose head
ties with a valid rival branch of lower head hash (or is beaten by one) yields: it does not forge
for up to 3·avgGenTime after the rival's time, which lets the rival grow until every node switches
to it. The yield is bounded so that a rival nobody extends cannot stall the chain.

Whether the key is a member is decided here, in one place (`standing`), and said to the operator at
start and again whenever it changes (joined, excluded, left, revoked): "forging as <uid> (<key>)" at
INFO, "not forging: <key> is not a member" at WARNING so that it shows without -v.
"""

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import trio

from node.chain import ChainBusy, ChainManager
from node.clock import Clock
from node.mempool import Mempool
from node.prover import ProofSearch
from node.store import LevelStore
from protocol.crypto import PublicKey
from protocol.documents import Block
from protocol.forge import ForgeError, build_block, prove, required_difficulty
from protocol.keys import Keypair, pubkey_display

log = logging.getLogger("june.forger")

TICK = 0.2
QUICK_TRIES = 5000
DEFAULT_TURN_SPACING = 1.0


def turn_rank(previous_hash: bytes, me: PublicKey, members: list[PublicKey]) -> int:
    """My place in the order members take to forge on top of `previous_hash` (0 = first)."""
    mine = hashlib.sha256(previous_hash + me).digest()
    return sum(1 for key in members if key != me and hashlib.sha256(previous_hash + key).digest() < mine)


@dataclass
class Forger:
    keypair: Keypair
    store: LevelStore
    chain: ChainManager
    mempool: Mempool
    clock: Clock
    #: Hands a forged block to the node (its block intake, then gossip).
    deliver: Callable[[Block], Awaitable[object]]
    cpu_share: float = 0.5
    turn_spacing: float = DEFAULT_TURN_SPACING
    _woken: trio.Event = field(default_factory=trio.Event, init=False)
    #: Told when a forging attempt starts and when a block was forged (the node's metrics).
    on_attempt: list[Callable[[], None]] = field(default_factory=list, init=False)
    on_forged: list[Callable[[], None]] = field(default_factory=list, init=False)
    _said: str | None = field(default=None, init=False)

    def head_changed(self) -> None:
        """The head moved: look again now rather than at the next tick."""
        self.report_standing()
        self._woken.set()

    def standing(self) -> tuple[bool, str]:
        """(whether this key may forge on the head, the sentence saying so). A member forges; an
        identity that left, was excluded or revoked, or a key with no identity, does not."""
        me = self.keypair.public_key
        key = pubkey_display(me)
        identity = self.store.identity(me)
        if identity is not None and identity.member:
            return True, f"forging as {identity.uid} ({key})"
        if identity is None:
            return False, f"not forging: {key} is not a member"
        if identity.revoked_on is not None:
            why = "revoked"
        elif (membership := self.store.membership(me)) is not None and membership.leaving:
            why = "left"
        elif identity.was_member:
            why = "excluded or expired"
        else:
            why = "not joined yet"
        return False, f"not forging: {key} is not a member ({identity.uid}: {why})"

    def report_standing(self) -> None:
        """Say whether this node forges, at start and whenever that changes (not at every block)."""
        member, sentence = self.standing()
        if sentence != self._said:
            self._said = sentence
            log.log(logging.INFO if member else logging.WARNING, "%s", sentence)

    async def run(self) -> None:
        self.report_standing()
        waiting: tuple[bytes, float] | None = None  # (head hash, when our turn comes, monotonic)
        while True:
            with trio.move_on_after(TICK):
                await self._woken.wait()
            self._woken = trio.Event()
            due = self._due()
            if due is None:
                waiting = None
                continue
            head_hash, limit = due
            if waiting is None or waiting[0] != head_hash:  # ranked once per head, not per tick
                rank = turn_rank(head_hash, self.keypair.public_key, list(self.store.members()))
                waiting = (head_hash, trio.current_time() + min(rank * self.turn_spacing, limit))
            if trio.current_time() < waiting[1]:
                continue
            await self._forge(head_hash)

    def _due(self) -> tuple[bytes, float] | None:
        """(head hash, longest turn wait) when this node may forge on the head now, else None."""
        head, params = self.store.head(), self.chain.params
        if head is None or params is None or not self.standing()[0]:
            return None
        now = self.clock.now()
        if now < head.time + params.avg_gen_time or now < head.median_time:
            return None
        try:
            rival = self.chain.rival_head()
        except ChainBusy:  # a block is being applied: the head is about to move, ask again then
            return None
        if rival is not None and now < rival.time + 3 * params.avg_gen_time:
            return None  # the rival branch is preferred: let it grow
        head_hash = self.store.block_hash(head.number)
        assert head_hash is not None
        return head_hash, float(params.avg_gen_time)

    async def _forge(self, head_hash: bytes) -> None:
        for attempt in self.on_attempt:
            attempt()
        try:
            block = build_block(
                self.store, self.mempool.documents(), self.keypair.public_key, self.clock.now()
            )
        except ForgeError as exc:
            log.info("cannot forge: %s", exc)
            return
        nonce = await self._search(block, required_difficulty(self.store, block), head_hash)
        if nonce is None:
            return  # another head arrived first
        for forged in self.on_forged:
            forged()
        await self.deliver(block.signed(self.keypair, nonce))

    async def _search(self, block: Block, difficulty: int, head_hash: bytes) -> int | None:
        # A low difficulty (a devnet, a small currency) is met in a few milliseconds here, sooner
        # than a worker process starts; the workers take over when it is not.
        nonce = prove(block, difficulty, should_stop=lambda: True, check_every=QUICK_TRIES)
        if nonce is not None:
            return nonce
        search = ProofSearch(block, difficulty, cpu_share=self.cpu_share)
        try:
            while True:
                nonce = await trio.to_thread.run_sync(search.result, TICK)
                if nonce is not None:
                    return nonce
                pointer = self.store.head_pointer()
                if pointer is None or pointer[1] != head_hash:
                    return None
        finally:
            with trio.CancelScope(shield=True):  # even when the node stops: no orphan worker
                await trio.to_thread.run_sync(search.cancel)
