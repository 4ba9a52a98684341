"""A Ğ1-shaped chain for the scale benchmark: the real Ğ1 web of trust, grown at Ğ1's pace.

Time is shrunk, not activity: one Ğ1 day is `DAY_BLOCKS` blocks of `GEN_TIME` seconds, and every
duration of the Ğ1 parameters keeps its length in days (`g1_scaled_parameters`). So memberships
are renewed about every 330 days, certifications about every 690, members join at the rate that
brings the web of trust to its size over the run (Ğ1 averaged ~3.4 a day from 2017 to 2023), and
a day carries `payments` transactions between members. Each day's first block is its UD block and
carries nothing else; the memberships (renewals, joins) of a day share one block, as the distance
rule is evaluated once per block that holds any.

The members are the real Ğ1's (September 2023 snapshot), in an order in which each one can join
with sigQty certifications from earlier members; a run with fewer members takes a prefix of that
order. A member's first certifications are written with its join, its others over the next days.

The last `TAIL_DAYS` days are the measurement tail: UD block, empty block, a block of renewals and
joiners (renewals topped up to Ğ1's daily rate on a chain younger than a year), a payment from
the founder that never spent (one UD per day of the chain) and one from the newest member that
holds a UD (one, if it joined the day before; `tags["poor_uds"]` says). `G1Chain.tags` names
those blocks, and what was still waiting at the end (newcomers, certifications).
"""

import gzip
import heapq
import json
import random
import time
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from _chain import CURRENCY, FORGERS, START, BenchChain
from _common import shared_dir

from protocol.conditions import sig_condition
from protocol.crypto import Hash, sha256
from protocol.documents import (
    Block,
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
from protocol.keys import Keypair
from protocol.params import G1, CurrencyParameters

GEN_TIME = 10  # seconds between blocks
DAY_BLOCKS = 5  # blocks per Ğ1 day: the UD block, an empty one, the memberships' one, two payments'
DAY = GEN_TIME * DAY_BLOCKS
TAIL_DAYS = 3
FOUNDERS = 320  # the densest core, peeled, founded in block 0 (under the 1 MB cap)
MS_RENEW = 330  # days between a member's renewals (msValidity is 365)
CERT_RENEW = 690  # days between a certification's renewals (sigValidity is 730)
URGENT_DAYS = 60  # a renewal due within that many days goes before newcomers' reserved certifiers
PENDING_DAYS = 30  # a pending document not written in that many days is given up (and counted)
RICH = 0  # the founder that never spends: it holds every UD of the chain


def scaled(seconds: int) -> int:
    """A Ğ1 duration, in days, mapped to the same number of bench days."""
    return max(1, round(seconds * DAY / 86400))


def g1_scaled_parameters(start: int) -> CurrencyParameters:
    """Ğ1's parameters with one day mapped to `DAY` seconds (sigQty 5, sigStock 100, stepMax 5,
    xPercent 0.8, c 4.88 % kept); `medianTimeBlocks` is 5 (Ğ1's 24 would lag half a day here)."""
    return replace(
        G1,
        dt=DAY,
        sig_period=scaled(G1.sig_period),
        sig_window=scaled(G1.sig_window),
        sig_validity=scaled(G1.sig_validity),
        idty_window=scaled(G1.idty_window),
        ms_window=scaled(G1.ms_window),
        ms_validity=scaled(G1.ms_validity),
        median_time_blocks=5,
        avg_gen_time=GEN_TIME,
        dt_diff_eval=10,
        ud_time0=start + DAY,
        ud_reeval_time0=start + DAY + scaled(G1.ud_reeval_time0 - G1.ud_time0),
        dt_reeval=scaled(G1.dt_reeval),
        ms_period=scaled(G1.ms_period),
        sig_replay=scaled(G1.sig_replay),
        tx_window=scaled(G1.tx_window),
        max_acceleration=DAY,
    )


@dataclass
class WebOfTrust:
    """Members numbered in a joinable order (founders first) and their certification links."""

    links: list[tuple[int, int]]  # (certifier, certified), both member numbers
    founders: int
    synthetic: int  # links added for members the real ones could not bring in

    @property
    def size(self) -> int:
        return 1 + max(max(a, b) for a, b in self.links)


def real_wot(members: int, sig_qty: int = 5, sig_stock: int = 100) -> WebOfTrust:
    """The first `members` members of the real Ğ1 web of trust in a joinable order.

    Kept: certifications between members, at most sigStock − 1 per issuer (a renewal needs a free
    slot). Founders: the `FOUNDERS` members of highest degree, peeled until each has sigQty
    certifications among them. Then, repeatedly, the non-member with most certifications from
    members joins; if it has fewer than sigQty (in Ğ1 some came from members gone since, or
    from one another), random members certify it too, so that every Ğ1 member has a place."""
    data = json.loads(gzip.decompress((shared_dir() / "data" / "g1-wot-2023-09.json.gz").read_bytes()))
    member_set = set(data["members"])
    issued: dict[int, list[int]] = defaultdict(list)
    for a, b in data["certifications"]:
        if a in member_set and b in member_set and a != b and len(issued[a]) < sig_stock - 1:
            issued[a].append(b)
    received: dict[int, set[int]] = defaultdict(set)
    for a, targets in issued.items():
        for b in targets:
            received[b].add(a)
    degree = {m: len(issued[m]) + len(received[m]) for m in member_set}
    core = set(sorted(member_set, key=lambda m: (-degree[m], m))[: min(FOUNDERS, members // 3)])
    while weak := {m for m in core if len(received[m] & core) < sig_qty}:
        core -= weak
    order = sorted(core)
    joined = set(core)
    counts = {m: len(received[m] & joined) for m in member_set - joined}
    rng = random.Random(5)
    synthetic = 0
    while len(order) < members and counts:
        best = max(counts, key=lambda m: (counts[m], -m))
        for _ in range(sig_qty - counts.pop(best)):
            certifier = rng.choice(order)
            while best in issued[certifier] or len(issued[certifier]) >= sig_stock - 1:
                certifier = rng.choice(order)
            issued[certifier].append(best)
            received[best].add(certifier)
            synthetic += 1
        order.append(best)
        joined.add(best)
        for b in issued[best]:
            if b in counts:
                counts[b] += 1
    number = {m: i for i, m in enumerate(order)}
    links = [(number[a], number[b]) for a in order for b in issued[a] if b in number]
    return WebOfTrust(links, len(core), synthetic)


@dataclass
class G1Chain:
    """The generated blocks, what each tail block is for, and how long the generation took."""

    blocks: list[Block]
    tags: dict[str, list[int]] = field(default_factory=dict)
    members: int = 0
    links: int = 0
    wot_links: int = 0  # in the web of trust the chain grows towards
    synthetic_links: int = 0
    dividends: int = 0
    transactions: int = 0
    renewals: int = 0
    given_up: int = 0
    seconds: float = 0.0


class Generator:
    """Day by day: the events due are signed and offered to the forger.

    The forger writes one certification per issuer per block and each issuer once per sigPeriod;
    it does not share certifiers out between newcomers, so the generator does: a newcomer is
    offered with sigQty certifiers free to certify, and other certifications wait in a queue per
    issuer until the issuer is free again (as in Ğ1's own pools)."""

    def __init__(self, members: int, days: int, payments: int, log: bool = True) -> None:
        self.wot = real_wot(members)
        self.days, self.payments, self.log = days, payments, log
        self.params = g1_scaled_parameters(START)
        self.sig_period_days = -(-self.params.sig_period // DAY) + 1  # whole days, with a margin
        self.received: dict[int, list[int]] = defaultdict(list)
        self.issued: dict[int, list[int]] = defaultdict(list)
        for a, b in self.wot.links:
            self.received[b].append(a)
            self.issued[a].append(b)
        founders = self.wot.founders
        self.chain = BenchChain(
            founders,
            params=self.params,
            links=[(a, b) for a, b in self.wot.links if a < founders and b < founders],
        )
        self.keys = self.chain.keys
        self.number = {k.public_key: i for i, k in enumerate(self.keys)}
        self.joined: dict[int, int] = dict.fromkeys(range(founders), 0)  # member → day of its join
        self.first_ud: dict[int, int] = {}  # member → index in `uds` of its first UD
        self.last_cert: dict[int, int] = dict.fromkeys(range(founders), 0)  # issuer → day
        self.events: dict[int, list[tuple[str, int, int]]] = defaultdict(list)  # day → (kind, a, b)
        self.renewals: dict[bytes, tuple[int, Membership]] = {}  # hash → (day offered, membership)
        self.cert_queue: dict[int, deque[int]] = defaultdict(deque)  # issuer → receivers
        self.free: list[tuple[int, int]] = []  # (day, issuer): when a queued issuer may certify
        self.queued: set[int] = set()
        self.join_queue: list[int] = []
        self.last_ms: dict[int, int] = dict.fromkeys(range(founders), 0)  # member → day
        self.uds: list[int] = []  # UD block numbers
        self.spent: dict[int, int] = {}  # member → UDs it spent (oldest first)
        self.result = G1Chain(
            self.chain.blocks, wot_links=len(self.wot.links), synthetic_links=self.wot.synthetic
        )
        self.rng = random.Random(17)
        self.day = 0
        for m in range(founders):
            self.schedule_member(m, 0)
        for a, b in self.wot.links:  # block 0's certifications, renewed spread over their validity (an
            if (
                a < founders and b < founders
            ):  # issuer renews one per sigPeriod: all at once, most would lapse)
                self.events[62 + (a * 7919 + b * 104729) % (CERT_RENEW - 62)].append(("cert", a, b))
        # the joins are spread evenly over the days before the tail, those of the tail kept apart
        joiners = list(range(founders, self.wot.size))
        self.tail_joiners = joiners[-2 * TAIL_DAYS :]
        spread = joiners[: -2 * TAIL_DAYS]
        span = max(1, days - TAIL_DAYS - 1)
        for i, m in enumerate(spread):
            self.events[1 + i * span // max(1, len(spread))].append(("join", m, 0))

    def jitter(self, period: int, a: int, b: int = 0) -> int:
        return period + (a * 7919 + b * 104729) % 30

    def schedule_member(self, m: int, day: int) -> None:
        self.events[day + self.jitter(MS_RENEW, m)].append(("renew", m, 0))

    def is_free(self, a: int) -> bool:
        return self.last_cert.get(a, -(10**9)) + self.sig_period_days <= self.day

    def queue_cert(self, a: int, b: int) -> None:
        self.cert_queue[a].append(b)
        if a not in self.queued:
            self.queued.add(a)
            heapq.heappush(self.free, (max(self.day, self.last_cert.get(a, 0) + self.sig_period_days), a))

    def take_events(self, day: int, tail: bool) -> None:
        for kind, a, b in self.events.pop(day, []):
            if kind == "renew" and a in self.joined:
                self.schedule_member(a, day)
                self.result.renewals += 1
                ms = Membership.create(
                    self.keys[a], CURRENCY, MembershipType.IN, f"member{a}", self.chain.ref()
                )
                self.renewals[ms.hash] = (day, ms)
            elif kind == "cert" and not tail:
                self.queue_cert(a, b)
            elif kind == "join":
                self.join_queue.append(a)

    def certifications(self, used: set[int], reserved: set[int] | None = None) -> list[Certification]:
        """One queued certification for each free issuer not in `used`: the renewal of its live
        certification that expires first, else its oldest new one. An issuer in `reserved` only
        renews a certification about to expire (a late renewal loses the link, and members with it)."""
        certs: list[Certification] = []
        later: list[tuple[int, int]] = []
        head = self.chain.state.head()
        assert head is not None
        while self.free and self.free[0][0] <= self.day:
            _, a = heapq.heappop(self.free)
            if a in used or not self.is_free(a) or a not in self.joined:
                later.append((self.day + 1, a))
                continue
            queue = self.cert_queue[a]
            index, expires = 0, None
            for i, b in enumerate(queue):
                record = self.chain.state.certification(self.keys[a].public_key, self.keys[b].public_key)
                if record is not None and (expires is None or record.expires_on < expires):
                    index, expires = i, record.expires_on
            urgent = expires is not None and expires - head.median_time < URGENT_DAYS * DAY
            if reserved is not None and a in reserved and not urgent:
                later.append((self.day + 1, a))
                continue
            b = queue[index]
            del queue[index]
            if b in self.joined:
                identity = self.identity_hash(b)
                key = self.keys[b].public_key
                certs.append(Certification.create(self.keys[a], CURRENCY, key, identity, self.chain.ref()))
                used.add(a)
            if queue:
                later.append((self.day + self.sig_period_days, a))
            else:
                self.queued.discard(a)
        for item in later:
            heapq.heappush(self.free, item)
        return certs

    def reserved(self) -> set[int]:
        """The certifiers the waiting newcomers need: other certifications leave them free (else a
        newcomer whose few certifiers are each busy in turn would wait for ever)."""
        waiting = list(self.join_queue)
        if self.day >= self.days - TAIL_DAYS - 2 * self.sig_period_days:
            waiting = waiting + self.tail_joiners  # the tail's newcomers find their certifiers free
        return {a for m in waiting for a in self.received[m] if a in self.joined}

    def identity_hash(self, m: int) -> Hash:
        record = self.chain.state.identity(self.keys[m].public_key)
        assert record is not None
        return record.hash

    def joins(self, used: set[int]) -> list[object]:
        """Identity, membership and sigQty certifications of each queued newcomer whose
        certifiers are free (the others wait)."""
        documents: list[object] = []
        for m in self.join_queue:
            while len(self.keys) <= m:
                self.keys.append(Keypair(sha256(f"bench member {len(self.keys)}".encode())))
                self.number[self.keys[-1].public_key] = len(self.keys) - 1
            certifiers = [
                a for a in self.received[m] if a in self.joined and a not in used and self.is_free(a)
            ]
            if len(certifiers) < self.params.sig_qty:
                continue
            key, ref = self.keys[m], self.chain.ref()
            identity = Identity.create(key, CURRENCY, f"member{m}", ref)
            chosen = self.rng.sample(certifiers, min(len(certifiers), self.params.sig_qty + 2))
            used.update(chosen)
            documents += [
                identity,
                Membership.create(key, CURRENCY, MembershipType.IN, f"member{m}", ref),
                *(
                    Certification.create(self.keys[a], CURRENCY, key.public_key, identity.hash, ref)
                    for a in chosen
                ),
            ]
        return documents

    def payment(self, payer: int, payee: int, amount: int | None = None) -> Transaction | None:
        """`payer` spends its oldest unspent UD: part to `payee`, the change back to itself."""
        index = self.first_ud.get(payer, 0) + self.spent.get(payer, 0)
        if index >= len(self.uds):
            return None
        self.spent[payer] = self.spent.get(payer, 0) + 1
        number = self.uds[index]
        block = self.chain.blocks[number]
        assert block.dividend is not None
        ud, base = block.dividend, block.unit_base
        key = self.keys[payer]
        give = min(ud, amount or ud // 2)
        outputs = [Output(give, base, sig_condition(self.keys[payee].public_key))]
        if give < ud:
            outputs.append(Output(ud - give, base, sig_condition(key.public_key)))
        return Transaction(
            currency=CURRENCY,
            block=self.chain.ref(),
            locktime=0,
            issuers=(key.public_key,),
            inputs=(Input(ud, base, DividendSource(key.public_key, number)),),
            unlocks=((SigProof(0),),),
            outputs=tuple(outputs),
        ).signed_by(key)

    def step(self, pending: Sequence[object], tag: str | None = None) -> Block:
        """Forge, apply and record one block from `pending`; requeue what was left out."""
        head = self.chain.state.head()
        assert head is not None
        for _ in range(FORGERS):  # BenchChain's forgers take turns: skip any excluded since
            forger = self.keys[(self.chain.turn + 1) % FORGERS].public_key
            record = self.chain.state.identity(forger)
            if record is not None and record.member:
                break
            self.chain.turn += 1
        block = self.chain.forge(list(pending), head.time + GEN_TIME)
        self.chain.apply(block)
        if block.dividend is not None:
            self.uds.append(block.number)
        for identity in block.identities:
            m = self.number[identity.issuer]
            self.join_queue.remove(m)
            self.joined[m] = self.day
            self.first_ud[m] = len(self.uds)
            self.schedule_member(m, self.day)
            written = {c.issuer for c in block.certifications if c.receiver == identity.issuer}
            for b in self.issued[m]:  # its certifications to members, and theirs to it, come later
                if b in self.joined:
                    self.events[self.day + 1 + (m + b) % 10].append(("cert", m, b))
            for a in self.received[m]:
                if a in self.joined and self.keys[a].public_key not in written:
                    self.events[self.day + 1 + (m + a) % 10].append(("cert", a, m))
        written_pairs = set()
        for cert in block.certifications:  # renewed before they expire
            a, b = self.number[cert.issuer], self.number[cert.receiver]
            written_pairs.add((a, b))
            self.last_cert[a] = self.day
            self.events[self.day + self.jitter(CERT_RENEW, a, b)].append(("cert", a, b))
        for document in pending:
            if isinstance(document, Certification) and document.receiver not in {
                i.issuer for i in block.identities
            }:
                pair = (self.number[document.issuer], self.number[document.receiver])
                if pair not in written_pairs and self.number[document.receiver] in self.joined:
                    self.queue_cert(*pair)  # left out: offered again later
        for key in block.excluded:  # a membership given up: its holder leaves for good
            self.joined.pop(self.number[key], None)
        for ms in [*block.actives, *block.joiners]:
            self.renewals.pop(ms.hash, None)
            self.last_ms[self.number[ms.issuer]] = self.day
        if tag is not None:
            self.result.tags.setdefault(tag, []).append(block.number)
        return block

    def memberships(self) -> list[object]:
        """The day's memberships block: newcomers first, renewals, certifications of the others."""
        used: set[int] = set()
        for hash_, (offered, _) in list(self.renewals.items()):
            if offered < self.day - PENDING_DAYS:
                del self.renewals[hash_]
                self.result.given_up += 1
        return [*self.joins(used), *(ms for _, ms in self.renewals.values()), *self.certifications(used)]

    def run(self) -> G1Chain:
        start = time.perf_counter()
        while not self.uds:  # the first UD block opens day 1
            self.step([])
        for day in range(1, self.days + 1):
            self.day = day
            tail = day > self.days - TAIL_DAYS
            if day > 1:
                block = self.step([], "ud" if tail else None)
                assert block.dividend is not None, f"block {block.number} should carry day {day}'s UD"
            self.take_events(day, tail)
            if tail:
                self.tail_day(day)
                continue
            payers = [m for m in self.joined if m != RICH]
            txs = [
                tx
                for _ in range(self.payments)
                if (tx := self.payment(self.rng.choice(payers), self.rng.choice(payers))) is not None
            ]
            self.step([*self.certifications(set(), self.reserved()), *txs[: len(txs) // 2]])
            self.step(self.memberships())
            self.step([*self.certifications(set(), self.reserved()), *txs[len(txs) // 2 :]])
            self.step(self.certifications(set(), self.reserved()))
            self.result.transactions += len(txs)
            if self.log and day % 100 == 0:
                print(
                    f"   … day {day:,}: block {len(self.chain.blocks):,}, {len(self.joined):,} members, "
                    f"{time.perf_counter() - start:.0f} s",
                    flush=True,
                )
        state = self.chain.state
        self.result.members = len(list(state.members()))
        self.result.links = len(list(state.all_certifications()))
        self.result.dividends = len(self.uds)
        self.result.seconds = time.perf_counter() - start
        self.result.tags["queued_certifications"] = [sum(len(q) for q in self.cert_queue.values())]
        self.result.tags["waiting_joiners"] = [len(self.join_queue)]
        return self.result

    def tail_day(self, day: int) -> None:
        """Empty block, memberships (renewals and two joiners), payment from the rich founder,
        payment from the newest member (one UD if it joined yesterday)."""
        self.step([], "empty")
        self.join_queue += self.tail_joiners[:2]
        self.tail_joiners = self.tail_joiners[2:]
        # renewals at Ğ1's rate (one member in MS_RENEW a day) even on a chain younger than that
        due = -(-len(self.joined) // MS_RENEW) - len(self.renewals)
        eligible = [m for m, last in self.last_ms.items() if last + 2 * self.params.ms_period // DAY < day]
        for m in sorted(eligible, key=lambda m: self.last_ms[m])[: max(0, due)]:
            ms = Membership.create(self.keys[m], CURRENCY, MembershipType.IN, f"member{m}", self.chain.ref())
            self.renewals[ms.hash] = (day, ms)
            self.result.renewals += 1
        block = self.step(self.memberships(), "wot")
        # the bench reports how many it holds (none would make its renewals figure meaningless)
        self.result.tags.setdefault("wot_memberships", []).append(len(block.joiners) + len(block.actives))
        rich = self.payment(RICH, 1, 100)
        assert rich is not None
        block = self.step([rich], "pay_rich")
        assert block.transactions, "the rich founder's payment is written"
        poor_payer = max(
            (
                m
                for m in self.joined
                if m not in self.spent and m >= self.wot.founders and self.first_ud[m] < len(self.uds)
            ),
            key=lambda m: self.first_ud.get(m, 0),
        )
        self.result.tags.setdefault("poor_uds", []).append(len(self.uds) - self.first_ud[poor_payer])
        poor = self.payment(poor_payer, 1, 100)
        assert poor is not None
        block = self.step([poor], "pay_poor")
        assert block.transactions, "the newcomer's payment is written"


def generate(members: int, days: int, payments: int, log: bool = True) -> G1Chain:
    return Generator(members, days, payments, log).run()


def save(chain: G1Chain, path: Path, meta_path: Path) -> None:
    from node.chainfile import write_chain

    write_chain(path, (b.to_bytes() for b in chain.blocks))
    meta = {k: v for k, v in chain.__dict__.items() if k != "blocks"}
    meta["blocks"] = len(chain.blocks)
    meta_path.write_text(json.dumps(meta, indent=1))
