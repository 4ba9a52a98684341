"""Sample signed documents of every kind, and Hypothesis strategies that build random valid ones."""

from typing import Any

from hypothesis import strategies as st

from protocol.conditions import sig_condition
from protocol.crypto import Hash, PublicKey, sha256
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
    TransactionSource,
    XhxProof,
)
from protocol.keys import Keypair
from protocol.params import dev_parameters
from tests.conftest import KEYS

CURRENCY = "june-test"
REF = BlockRef(12, sha256(b"block 12"))


def sample_documents() -> dict[str, Any]:
    """One signed document of each kind, all by the fixed test keys."""
    alice, bob, carol = KEYS[:3]
    identity = Identity.create(bob, CURRENCY, "bob", REF)
    transaction = Transaction(
        currency=CURRENCY,
        block=REF,
        locktime=0,
        issuers=(alice.public_key, carol.public_key),
        inputs=(
            Input(1000, 0, DividendSource(alice.public_key, 7)),
            Input(250, 0, TransactionSource(sha256(b"tx"), 1)),
        ),
        unlocks=((SigProof(0),), (SigProof(1), XhxProof("secret"))),
        outputs=(
            Output(1200, 0, sig_condition(bob.public_key)),
            Output(50, 0, f"{sig_condition(alice.public_key)} || CSV(3600)"),
        ),
        comment="rent for the fablab",
    ).signed_by(alice, carol)
    return {
        "identity": identity,
        "certification": Certification.create(alice, CURRENCY, bob.public_key, identity.hash, REF),
        "membership": Membership.create(bob, CURRENCY, MembershipType.IN, "bob", REF),
        "revocation": Revocation.create(bob, CURRENCY, identity.hash),
        "transaction": transaction,
    }


def sample_block(documents: dict[str, Any] | None = None, *, number: int = 13) -> Block:
    docs = documents or sample_documents()
    alice = KEYS[0]
    return Block(
        currency=CURRENCY,
        number=number,
        pow_min=3,
        time=1_700_000_100,
        median_time=1_700_000_050,
        members_count=8,
        unit_base=0,
        issuers_count=2,
        issuers_frame=11,
        issuers_frame_var=-3,
        dividend=1000,
        issuer=alice.public_key,
        previous_hash=REF.hash,
        previous_issuer=KEYS[1].public_key,
        parameters=None,
        state_digest=sha256(b"state"),
        identities=(docs["identity"],),
        joiners=(docs["membership"],),
        certifications=(docs["certification"],),
        revocations=(docs["revocation"],),
        excluded=(KEYS[5].public_key,),
        transactions=(docs["transaction"],),
    ).signed(alice, nonce=123456)


def genesis_block() -> Block:
    alice = KEYS[0]
    identity = Identity.create(alice, CURRENCY, "alice", GENESIS_REF)
    return Block(
        currency=CURRENCY,
        number=0,
        pow_min=0,
        time=1_700_000_000,
        median_time=1_700_000_000,
        members_count=1,
        unit_base=0,
        issuers_count=0,
        issuers_frame=1,
        issuers_frame_var=0,
        dividend=None,
        issuer=alice.public_key,
        previous_hash=None,
        previous_issuer=None,
        parameters=dev_parameters(1_700_000_000),
        state_digest=sha256(b"genesis state"),
        identities=(identity,),
        joiners=(Membership.create(alice, CURRENCY, MembershipType.IN, "alice", GENESIS_REF),),
    ).signed(alice, nonce=0)


# Hypothesis strategies -------------------------------------------------------------------------

keypairs = st.sampled_from(KEYS)
public_keys = keypairs.map(lambda k: k.public_key)
hashes = st.binary(min_size=32, max_size=32).map(Hash)
amounts = st.integers(min_value=1, max_value=2**63 - 1)
bases = st.integers(min_value=0, max_value=99)
refs = st.builds(BlockRef, st.integers(min_value=0, max_value=2**63 - 1), hashes)
uids = st.from_regex(r"[A-Za-z0-9_\-]{2,100}", fullmatch=True)
sources = st.builds(DividendSource, public_keys, st.integers(0, 2**40)) | st.builds(
    TransactionSource, hashes, st.integers(0, 99)
)
inputs = st.builds(Input, amounts, bases, sources)
proofs = st.builds(SigProof, st.integers(0, 5)) | st.builds(
    XhxProof, st.from_regex(r"[a-z0-9]{1,20}", fullmatch=True)
)
conditions = public_keys.map(sig_condition) | st.tuples(public_keys, st.integers(0, 10**9)).map(
    lambda p: f"({sig_condition(p[0])} && CSV({p[1]})) || CLTV({p[1]})"
)
outputs = st.builds(Output, amounts, bases, conditions)
comments = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=60)


@st.composite
def transactions(draw: st.DrawFn) -> Transaction:
    signers: list[Keypair] = draw(st.lists(keypairs, min_size=1, max_size=3, unique_by=lambda k: k.seed))
    tx_inputs = draw(st.lists(inputs, min_size=1, max_size=5))
    unsigned = Transaction(
        currency=CURRENCY,
        block=draw(refs),
        locktime=draw(st.integers(0, 2**40)),
        issuers=tuple(k.public_key for k in signers),
        inputs=tuple(tx_inputs),
        unlocks=tuple(draw(st.lists(proofs, min_size=1, max_size=2).map(tuple)) for _ in tx_inputs),
        outputs=tuple(draw(st.lists(outputs, min_size=1, max_size=4))),
        comment=draw(comments),
    )
    return unsigned.signed_by(*signers)


def issuer_of(key: PublicKey) -> Keypair:
    return next(k for k in KEYS if k.public_key == key)
