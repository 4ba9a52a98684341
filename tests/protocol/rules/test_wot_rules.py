"""Web-of-trust rules, one test per rule code, valid and invalid (rules.md §5, §7.2)."""

from dataclasses import replace

from protocol.crypto import sha256
from protocol.documents import BlockRef, MembershipType
from tests.protocol.chain_builder import Chain, chain_parameters
from tests.protocol.rules.helpers import rejected

DAY = 86400


def join(chain: Chain, name: str, certifiers: tuple[str, ...] = ("alice", "bob", "carol")) -> None:
    """Write `name`'s identity, joiner and certifications, once the certifiers may certify again."""
    chain.advance(chain.params.sig_period + 1)
    identity = chain.identity(name)
    chain.write(
        identities=[identity],
        joiners=[chain.membership(name)],
        certifications=[chain.cert(c, name) for c in certifiers],
    )


def test_genesis_founds_the_currency(chain: Chain) -> None:
    head = chain.state.head()
    assert head is not None and head.members_count == 4
    assert sorted(chain.state.members()) == sorted(chain.key(n) for n in ("alice", "bob", "carol", "dave"))
    assert len(list(chain.state.all_certifications())) == 12


def test_newcomer_joins_with_enough_certifications(chain: Chain) -> None:
    join(chain, "eve")
    identity = chain.state.identity(chain.key("eve"))
    assert identity is not None and identity.member
    assert chain.state.head().members_count == 5  # type: ignore[union-attr]


def test_BR_G63_identity_reference_too_old(chain: Chain) -> None:
    old = chain.ref()
    chain.advance(chain.params.idty_window + 100)
    identity = chain.identity("eve", ref=old)
    rejected(
        chain,
        "BR_G63",
        "old",
        identities=[identity],
        joiners=[chain.membership("eve")],
        certifications=[chain.cert(c, "eve") for c in ("alice", "bob", "carol")],
    )


def test_BR_G63_identity_reference_not_on_chain(chain: Chain) -> None:
    identity = chain.identity("eve", ref=BlockRef(0, sha256(b"elsewhere")))
    rejected(
        chain,
        "BR_G63",
        "not on this chain",
        identities=[identity],
        joiners=[chain.membership("eve")],
        certifications=[chain.cert(c, "eve") for c in ("alice", "bob", "carol")],
    )


def test_BR_G73_uid_unique_forever(chain: Chain) -> None:
    identity = replace(chain.identity("eve"), uid="alice")
    from protocol.documents import Identity

    taken = Identity.create(chain.keys["eve"], identity.currency, "alice", chain.ref())
    chain.identities["eve"] = taken
    membership = chain.membership("eve")
    membership = type(membership).create(
        chain.keys["eve"], membership.currency, MembershipType.IN, "alice", chain.ref()
    )
    rejected(
        chain,
        "BR_G73",
        "alice",
        identities=[taken],
        joiners=[membership],
        certifications=[chain.cert(c, "eve") for c in ("alice", "bob", "carol")],
    )


def test_BR_G74_key_has_one_identity_forever(chain: Chain) -> None:
    from protocol.documents import Identity

    second = Identity.create(chain.keys["alice"], "june-test", "alice2", chain.ref())
    from protocol.documents import Membership

    joiner = Membership.create(chain.keys["alice"], "june-test", MembershipType.IN, "alice2", chain.ref())
    rejected(chain, "BR_G74", identities=[second], joiners=[joiner])


def test_BR_G79_not_enough_certifications(chain: Chain) -> None:
    chain.advance(chain.params.sig_period + 1)
    identity = chain.identity("eve")
    rejected(
        chain,
        "BR_G79",
        "2 certifications, 3 are needed",
        identities=[identity],
        joiners=[chain.membership("eve")],
        certifications=[chain.cert(c, "eve") for c in ("alice", "bob")],
    )


def test_BR_G78_member_cannot_join_again(chain: Chain) -> None:
    rejected(chain, "BR_G78", "already a member", joiners=[chain.membership("bob")])


def test_BR_G81_active_must_be_member(chain: Chain) -> None:
    chain.identity("eve")
    rejected(chain, "BR_G63", actives=[chain.membership("eve")])
    join(chain, "eve")
    chain.advance(chain.params.ms_period + 10)
    chain.write(actives=[chain.membership("eve")])  # a member renews


def test_BR_G80_leaver_must_be_member(chain: Chain) -> None:
    join(chain, "eve")
    chain.advance(chain.params.ms_period + 10)
    chain.write(leavers=[chain.membership("eve", MembershipType.OUT)])
    record = chain.state.membership(chain.key("eve"))
    assert record is not None and record.leaving


def test_BR_G108_one_membership_per_period(chain: Chain) -> None:
    join(chain, "eve")
    rejected(chain, "BR_G108", "next membership", actives=[chain.membership("eve")])


def test_BR_G75_reference_must_move_forward(chain: Chain) -> None:
    join(chain, "eve")
    old = chain.state.membership(chain.key("eve")).ref_number  # type: ignore[union-attr]
    chain.advance(chain.params.ms_period + 10)
    stale = chain.membership("eve", ref=BlockRef(old, chain.blocks[old].hash))
    rejected(chain, "BR_G75", "not after", actives=[stale])


def test_BR_G64_membership_reference_window(chain: Chain) -> None:
    join(chain, "eve")
    old = chain.ref()
    chain.advance(chain.params.ms_window + 100)
    rejected(chain, "BR_G64", actives=[chain.membership("eve", ref=old)])


def test_BR_G68_issuer_must_be_member(chain: Chain) -> None:
    chain.identity("eve")
    chain.identity("frank")
    join(chain, "eve")
    rejected(chain, "BR_G68", "not a member", certifications=[chain.cert("frank", "eve")])


def test_BR_G69_receiver_member_or_newcomer(chain: Chain) -> None:
    chain.advance(chain.params.sig_period + 1)
    chain.identity("eve")
    rejected(chain, "BR_G69", certifications=[chain.cert("alice", "eve")])


def test_BR_G72_certification_names_the_receivers_identity(chain: Chain) -> None:
    cert = chain.cert("alice", "bob")
    from protocol.documents import Certification

    wrong = Certification.create(chain.keys["alice"], "june-test", cert.receiver, sha256(b"x"), cert.block)
    chain.advance(chain.params.sig_period + 10)
    rejected(chain, "BR_G72", certifications=[wrong])


def test_BR_G67_certification_period(chain: Chain) -> None:
    join(chain, "eve", certifiers=("bob", "carol", "dave"))
    rejected(chain, "BR_G67", "certify again", certifications=[chain.cert("bob", "alice")])
    chain.write(certifications=[chain.cert("alice", "eve")])  # alice's last certification is older


def test_BR_G71_replay_only_after_sig_replay(chain: Chain) -> None:
    chain.advance(chain.params.sig_period + 10)
    rejected(chain, "BR_G71", "renewable", certifications=[chain.cert("alice", "bob")])
    chain.advance(chain.params.sig_replay + 10)
    before = chain.state.certification(chain.key("alice"), chain.key("bob"))
    chain.write(certifications=[chain.cert("alice", "bob")])
    after = chain.state.certification(chain.key("alice"), chain.key("bob"))
    assert before is not None and after is not None and after.expires_on > before.expires_on


def test_BR_G66_certification_stock(chain: Chain) -> None:
    small = Chain(founders=4, params=replace(chain.params, sig_stock=3))
    small.advance(small.params.sig_replay + 10)
    rejected(
        small, "BR_G66", "3 live certifications, sigStock is 3", certifications=[small.cert("alice", "bob")]
    )


def test_BR_G70_no_certification_to_a_leaver(chain: Chain) -> None:
    join(chain, "eve", certifiers=("bob", "carol", "dave"))
    chain.advance(chain.params.ms_period + 10)
    chain.write(leavers=[chain.membership("eve", MembershipType.OUT)])
    rejected(chain, "BR_G70", "leaving", certifications=[chain.cert("alice", "eve")])


def test_BR_G65_certification_window(chain: Chain) -> None:
    old = chain.ref()
    chain.advance(chain.params.sig_window + 100)
    rejected(chain, "BR_G65", certifications=[chain.cert("alice", "bob", ref=old)])


def advance_until_kicked(chain: Chain, name: str) -> None:
    """Write blocks a day apart until `name` is flagged for exclusion (not excluded yet)."""
    for _ in range(200):
        if chain.key(name) in set(chain.state.members_to_kick()):
            return
        head = chain.state.head()
        assert head is not None
        chain.write(time=head.median_time + DAY)
    raise AssertionError(f"{name} was never flagged for exclusion")


def test_BR_G93_G94_G86_membership_expiry_then_exclusion(chain: Chain) -> None:
    join(chain, "eve")
    chain.advance(chain.params.ms_validity - 10 * DAY)
    chain.write(
        actives=[chain.membership(n) for n in ("alice", "bob", "carol", "dave")]
    )  # eve does not renew
    advance_until_kicked(chain, "eve")
    record = chain.state.membership(chain.key("eve"))
    assert record is not None and record.expired
    kicked = set(chain.state.members_to_kick())
    rejected(chain, "BR_G86", "must be excluded", excluded=[])
    rejected(chain, "BR_G86", "without reason", excluded=sorted(kicked | {chain.key("alice")}))
    chain.write()
    identity = chain.state.identity(chain.key("eve"))
    assert identity is not None and not identity.member and identity.was_member


def test_BR_G85_excluded_must_be_member(chain: Chain) -> None:
    chain.identity("eve")
    rejected(chain, "BR_G85", excluded=[chain.key("eve")])


def test_BR_G92_G95_certification_expiry_kicks(chain: Chain) -> None:
    params = replace(chain.params, sig_validity=20 * DAY, ms_validity=60 * DAY)
    small = Chain(founders=5, params=params)
    small.advance(15 * DAY)
    # alice renews her certifications to bob, carol, dave, eve…; nobody renews those to alice.
    small.advance(6 * DAY)
    assert small.key("alice") in set(small.state.members_to_kick())
    assert not list(small.state.certifiers_of(small.key("alice")))
    small.write()
    identity = small.state.identity(small.key("alice"))
    assert identity is not None and not identity.member


def test_BR_G82_G83_explicit_revocation(chain: Chain) -> None:
    join(chain, "eve")
    chain.write(revocations=[chain.revocation("eve")])
    identity = chain.state.identity(chain.key("eve"))
    assert identity is not None and identity.revoked_on is not None and not identity.member
    rejected(chain, "BR_G83", "already revoked", revocations=[chain.revocation("eve")])


def test_BR_G77_revoked_identity_never_comes_back(chain: Chain) -> None:
    join(chain, "eve")
    chain.write(revocations=[chain.revocation("eve")])
    chain.advance(chain.params.ms_period + 10)
    rejected(
        chain,
        "BR_G77",
        "revoked",
        joiners=[chain.membership("eve")],
        certifications=[chain.cert("alice", "eve")],
    )


def test_BR_G96_implicit_revocation() -> None:
    chain = Chain(founders=4, params=chain_parameters(sig_validity=400 * DAY))
    join(chain, "eve")
    for _ in range(4):
        chain.advance(chain.params.ms_validity // 2)
        chain.write(actives=[chain.membership(n) for n in ("alice", "bob", "carol", "dave")])
    identity = chain.state.identity(chain.key("eve"))
    assert identity is not None and identity.revoked_on is not None
    assert chain.state.membership(chain.key("eve")) is None


def test_returning_member_after_exclusion(chain: Chain) -> None:
    join(chain, "eve")
    chain.advance(chain.params.ms_validity - 10 * DAY)
    chain.write(actives=[chain.membership(n) for n in ("alice", "bob", "carol", "dave")])
    advance_until_kicked(chain, "eve")
    chain.write()  # eve excluded
    assert not chain.state.identity(chain.key("eve")).member  # type: ignore[union-attr]
    chain.write(joiners=[chain.membership("eve")])
    assert chain.state.identity(chain.key("eve")).member  # type: ignore[union-attr]
