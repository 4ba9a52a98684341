"""Genesis description: the dev genesis is valid, survives encoding, and broken ones are refused."""

from dataclasses import replace

import pytest

from protocol.documents import GENESIS_REF, BlockRef, Certification, Identity, Membership, MembershipType
from protocol.genesis import DEV_CURRENCY, GenesisDescription, GenesisError, dev_genesis, dev_keypair
from protocol.keys import Keypair

TIME = 1_700_000_000


@pytest.fixture(scope="module")
def genesis() -> GenesisDescription:
    return dev_genesis(time=TIME, members=4)


def test_dev_genesis_is_valid_and_round_trips(genesis: GenesisDescription) -> None:
    genesis.check()
    assert GenesisDescription.from_bytes(genesis.to_bytes()) == genesis
    assert [i.uid for i in genesis.identities] == ["alice", "bob", "carol", "dave"]
    assert len(genesis.certifications) == 4 * 3
    assert genesis.parameters.ud_time0 == TIME + genesis.parameters.dt


def test_dev_keys_are_the_scrypt_credentials_name_name(genesis: GenesisDescription) -> None:
    assert genesis.identities[0].issuer == Keypair.from_scrypt("alice", "alice").public_key


def test_dev_genesis_is_deterministic(genesis: GenesisDescription) -> None:
    assert dev_genesis(time=TIME, members=4).hash == genesis.hash
    assert dev_genesis(time=TIME + 1, members=4).hash != genesis.hash


def test_too_few_founders_for_sig_qty() -> None:
    with pytest.raises(ValueError, match="sig_qty"):
        dev_genesis(time=TIME, members=3)


def test_under_certified_founder_is_refused(genesis: GenesisDescription) -> None:
    dave = genesis.identities[3].issuer
    fewer = tuple(
        c for c in genesis.certifications if c.receiver != dave or c.issuer == genesis.identities[0].issuer
    )
    with pytest.raises(GenesisError, match="dave receives 1 certifications, sig_qty is 3"):
        replace(genesis, certifications=fewer).check()


def test_bad_signature_is_refused(genesis: GenesisDescription) -> None:
    forged = replace(genesis.identities[1], uid="mallory")
    with pytest.raises(GenesisError, match="signature does not verify"):
        replace(genesis, identities=(genesis.identities[0], forged, *genesis.identities[2:])).check()


def test_certification_must_name_the_receivers_identity(genesis: GenesisDescription) -> None:
    alice, bob = dev_keypair("alice"), genesis.identities[1]
    wrong = Certification.create(alice, DEV_CURRENCY, bob.issuer, genesis.identities[2].hash, GENESIS_REF)
    certs = tuple(
        c for c in genesis.certifications if (c.issuer, c.receiver) != (alice.public_key, bob.issuer)
    )
    with pytest.raises(GenesisError, match="must name the receiver's identity"):
        replace(genesis, certifications=(*certs, wrong)).check()


def test_identity_must_reference_the_genesis_marker(genesis: GenesisDescription) -> None:
    alice = dev_keypair("alice")
    late = Identity.create(alice, DEV_CURRENCY, "alice", BlockRef(1, bytes(32)))  # type: ignore[arg-type]
    with pytest.raises(GenesisError, match="genesis marker"):
        replace(genesis, identities=(late, *genesis.identities[1:])).check()


def test_each_founder_needs_one_in_membership(genesis: GenesisDescription) -> None:
    with pytest.raises(GenesisError, match="exactly one membership"):
        replace(genesis, memberships=genesis.memberships[1:]).check()
    out = Membership.create(dev_keypair("alice"), DEV_CURRENCY, MembershipType.OUT, "alice", GENESIS_REF)
    with pytest.raises(GenesisError, match="must be IN"):
        replace(genesis, memberships=(out, *genesis.memberships[1:])).check()
