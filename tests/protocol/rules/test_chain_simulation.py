"""A chain simulator: long random valid histories, with the state's invariants checked at every block.

Members join, certify, renew, leave, pay each other and get revoked while the clock jumps ahead;
candidate documents are filtered by the pending-document rules, so every block is valid.
"""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.conditions import sig_condition
from protocol.documents import MembershipType
from protocol.errors import RuleViolation
from protocol.rules.pending import check_pending
from protocol.state import Delta
from tests.protocol.chain_builder import NAMES, Chain, chain_parameters

DAY = 86400


class Simulation:
    def __init__(self, seed: int, *, calm: bool = False) -> None:
        """`calm`: members only pay, certify and renew (a long-lived currency, for long chains)."""
        self.random = random.Random(seed)
        self.calm = calm
        self.chain = Chain(founders=5, params=chain_parameters(sig_validity=40 * DAY, ms_validity=25 * DAY))
        self.created = sum(self.dividends_created(d) for d in self.chain.deltas)

    def dividends_created(self, delta: Delta) -> int:
        """A UD record the block wrote, times the members after the block: each holds one."""
        total = 0
        for (table, _key), (before, after) in delta.changes.items():
            if table == "dividend" and before is None and after is not None:
                total += after.value * len(set(self.chain.state.members()))
        return total

    def members(self) -> list[str]:
        keys = set(self.chain.state.members())
        return [n for n in NAMES if n in self.chain.identities and self.chain.key(n) in keys]

    def valid(self, document: object, **kwargs: object) -> bool:
        try:
            check_pending(self.chain.state, document, **kwargs)  # type: ignore[arg-type]
        except RuleViolation:
            return False
        return True

    def step(self) -> None:
        chain, rnd = self.chain, self.random
        content: dict[str, list[object]] = {}
        members = self.members()
        action = (
            "maintain"
            if rnd.random() < 0.4
            else rnd.choice(
                ["pay"] * 4 + ["certify"] * 3 + ["renew"] * 3 + ["join"] * 2 + ["leave", "revoke", "idle"]
            )
        )
        if self.calm and action in ("join", "leave", "revoke"):
            action = "pay"
        if action == "maintain":
            content = self.maintenance()
        elif action == "pay" and members:
            payer, payee = rnd.choice(members), rnd.choice(members)
            balance = chain.balance(payer)
            if balance > 0 and payer != payee:
                tx = chain.pay(payer, {payee: rnd.randint(1, balance)})
                if self.valid(tx):
                    content["transactions"] = [tx]
        elif action == "certify" and len(members) >= 2:
            issuer, receiver = rnd.sample(members, 2)
            cert = chain.cert(issuer, receiver)
            if self.valid(cert):
                content["certifications"] = [cert]
        elif action == "renew" and members:
            name = rnd.choice(members)
            membership = chain.membership(name)
            if self.valid(membership):
                content["actives"] = [membership]
        elif action == "leave" and len(members) > 4:
            membership = chain.membership(rnd.choice(members), MembershipType.OUT)
            if self.valid(membership):
                content["leavers"] = [membership]
        elif action == "revoke" and len(members) > 4:
            name = rnd.choice(members)
            if chain.key(name) not in set(chain.state.members_to_kick()):
                content["revocations"] = [chain.revocation(name)]
        elif action == "join":
            newcomers = [n for n in NAMES if n not in chain.identities]
            if newcomers and len(members) >= 3:
                name = newcomers[0]
                identity = chain.identity(name)
                certs = [chain.cert(c, name) for c in rnd.sample(members, 3)]
                if all(self.valid(c, identity=identity) for c in certs):
                    content = {
                        "identities": [identity],
                        "joiners": [chain.membership(name)],
                        "certifications": certs,
                    }
                else:
                    del chain.identities[name]
        head = chain.state.head()
        assert head is not None
        jumps = (
            [chain.params.avg_gen_time, 600, 3600]
            if self.calm
            else [chain.params.avg_gen_time, 3600, DAY // 2, DAY, 3 * DAY]
        )
        jump = rnd.choice(jumps)
        leaving = {d.issuer for d in content.get("revocations", []) + content.get("leavers", [])}  # type: ignore[attr-defined]
        kicked = set(chain.state.members_to_kick()) | leaving
        issuers = [n for n in self.members() if chain.key(n) not in kicked]
        if not issuers:
            raise WebOfTrustDied
        issuer = issuers[0]
        try:
            delta = chain.write(issuer=issuer, time=head.median_time + jump, **content)
        except RuleViolation:
            # A combination the pending checks cannot see (e.g. the distance rule); write an empty block.
            for identity in content.get("identities", []):
                del chain.identities[identity.uid]  # type: ignore[attr-defined]
            delta = chain.write(issuer=issuer, time=head.median_time + jump)
        self.created += self.dividends_created(delta)
        self.check_invariants(delta)

    def maintenance(self) -> dict[str, list[object]]:
        """Renew the membership or the certification that expires first, as careful members do."""
        chain = self.chain
        members = self.members()
        by_expiry = sorted(members, key=lambda n: chain.state.membership(chain.key(n)).expires_on)  # type: ignore[union-attr]
        for name in by_expiry[:2]:
            membership = chain.membership(name)
            if self.valid(membership):
                return {"actives": [membership]}
        links = sorted(
            (record.expires_on, issuer, receiver)
            for issuer in members
            for receiver in members
            if (record := chain.state.certification(chain.key(issuer), chain.key(receiver))) is not None
        )
        for _expires, issuer, receiver in links[:5]:
            cert = chain.cert(issuer, receiver)
            if self.valid(cert):
                return {"certifications": [cert]}
        return {}

    def check_invariants(self, delta: Delta) -> None:
        state = self.chain.state
        head = state.head()
        assert head is not None
        # The monetary mass is the sum of every UD created.
        assert head.mass == self.created
        # Every account's running balance is the sum of the sources it can spend, each of which
        # exists; and unspent money never exceeds the mass.
        accounts = set(state.snapshot()["account"]) | {
            sig_condition(key) for key in state.snapshot()["identity"]
        }
        unspent = 0
        for conditions in accounts:
            records = [state.source(source) for source in state.sources_of(conditions)]
            assert all(record is not None and record.conditions == conditions for record in records)
            assert state.balance(conditions) == sum(record.value for record in records if record)
            unspent += state.balance(conditions)
        assert unspent <= head.mass
        # The members count is the web of trust's.
        assert head.members_count == len(set(state.members()))
        # Reverting then re-applying the block gives back the exact state and digest.
        after = state.snapshot(), state.state_digest()
        block = self.chain.blocks[-1]
        state.revert(delta)
        state.apply(delta, block.hash)
        assert (state.snapshot(), state.state_digest()) == after


class WebOfTrustDied(Exception):
    """No member is left to write a block: the history ends there."""


def simulate(seed: int, blocks: int) -> list[bytes]:
    simulation = Simulation(seed)
    try:
        for _ in range(blocks):
            simulation.step()
    except WebOfTrustDied:
        pass
    return [block.state_digest for block in simulation.chain.blocks]


@given(seed=st.integers(min_value=0, max_value=2**32))
@settings(max_examples=10, deadline=None)
def test_random_histories_keep_the_invariants(seed: int) -> None:
    simulate(seed, 250)


def test_same_history_same_digests() -> None:
    assert simulate(7, 60) == simulate(7, 60)
    assert simulate(7, 60) != simulate(8, 60)


def test_revert_to_genesis_restores_the_empty_chain() -> None:
    simulation = Simulation(3)
    genesis_state = simulation.chain.state.snapshot()
    for _ in range(40):
        simulation.step()
    while len(simulation.chain.blocks) > 1:
        simulation.chain.revert()
    assert simulation.chain.state.snapshot() == genesis_state
