"""Genesis description: the currency's founding members, their certifications and its parameters.

Everything block 0 writes besides its header: each founder's identity and IN membership and the
certifications between founders, all signed by their issuers against `GENESIS_REF` (no block exists
yet). Building block 0 from it is the forger's job; this module makes and checks the description.
"""

from collections import Counter
from dataclasses import dataclass
from typing import Any

from protocol.crypto import Hash, sha256
from protocol.documents import GENESIS_REF, Certification, Identity, Membership, MembershipType
from protocol.encoding import decode, encode
from protocol.errors import ProtocolError
from protocol.fields import read_array, read_currency, read_int, read_list
from protocol.keys import Keypair
from protocol.params import CurrencyParameters, dev_parameters

MAX_GENESIS_SIZE = 4_000_000
_MAX_FOUNDERS = 10_000


class GenesisError(ProtocolError):
    """A genesis description that cannot found a currency; the message says which rule it breaks."""


@dataclass(frozen=True, slots=True)
class GenesisDescription:
    currency: str
    parameters: CurrencyParameters
    time: int
    identities: tuple[Identity, ...]
    memberships: tuple[Membership, ...]
    certifications: tuple[Certification, ...]

    def to_item(self) -> list[Any]:
        return [
            self.currency,
            self.parameters.to_item(),
            self.time,
            [d.to_item() for d in self.identities],
            [d.to_item() for d in self.memberships],
            [d.to_item() for d in self.certifications],
        ]

    def to_bytes(self) -> bytes:
        return encode(self.to_item())

    @property
    def hash(self) -> Hash:
        return sha256(self.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> "GenesisDescription":
        currency, parameters, time, identities, memberships, certifications = read_array(
            decode(data, max_size=MAX_GENESIS_SIZE), 6, "genesis"
        )
        cur = read_currency(currency, "genesis.currency")
        return cls(
            currency=cur,
            parameters=CurrencyParameters.from_item(parameters, "genesis.parameters"),
            time=read_int(time, "genesis.time"),
            identities=tuple(
                Identity.from_item(v, currency=cur)
                for v in read_list(identities, "genesis.identities", max_items=_MAX_FOUNDERS)
            ),
            memberships=tuple(
                Membership.from_item(v, currency=cur)
                for v in read_list(memberships, "genesis.memberships", max_items=_MAX_FOUNDERS)
            ),
            certifications=tuple(
                Certification.from_item(v, currency=cur)
                for v in read_list(certifications, "genesis.certifications", max_items=100 * _MAX_FOUNDERS)
            ),
        )

    def check(self) -> None:
        """Raise `GenesisError` unless every document is valid and every founder is certified enough."""
        if not self.identities:
            raise GenesisError("a currency needs at least one founding member")
        identities = {i.issuer: i for i in self.identities}
        if len(identities) != len(self.identities):
            raise GenesisError("two identities share a public key")
        if len({i.uid for i in self.identities}) != len(self.identities):
            raise GenesisError("two identities share a uid")
        for identity in self.identities:
            _check_founding_document(identity, self.currency, f"identity of {identity.uid}")
            if identity.block != GENESIS_REF:
                raise GenesisError(f"identity of {identity.uid} must reference the genesis marker")
        members = {m.issuer: m for m in self.memberships}
        if len(members) != len(self.memberships) or members.keys() != identities.keys():
            raise GenesisError("each founder needs exactly one membership, and only founders have one")
        for key, membership in members.items():
            uid = identities[key].uid
            _check_founding_document(membership, self.currency, f"membership of {uid}")
            if (
                membership.type is not MembershipType.IN
                or membership.uid != uid
                or membership.block != GENESIS_REF
            ):
                raise GenesisError(f"membership of {uid} must be IN, for uid {uid}, at the genesis marker")
        pairs = Counter((c.issuer, c.receiver) for c in self.certifications)
        if pairs and max(pairs.values()) > 1:
            raise GenesisError("a certification is written twice")
        received: Counter[bytes] = Counter()
        for cert in self.certifications:
            issuer, receiver = identities.get(cert.issuer), identities.get(cert.receiver)
            if issuer is None or receiver is None:
                raise GenesisError("certifications in genesis are between founders only")
            what = f"certification {issuer.uid} → {receiver.uid}"
            _check_founding_document(cert, self.currency, what)
            if cert.issuer == cert.receiver:
                raise GenesisError(f"{what}: nobody certifies themselves")
            if cert.identity != receiver.hash or cert.block != GENESIS_REF:
                raise GenesisError(f"{what}: must name the receiver's identity and the genesis marker")
            received[cert.receiver] += 1
        for identity in self.identities:
            if received[identity.issuer] < self.parameters.sig_qty:
                raise GenesisError(
                    f"{identity.uid} receives {received[identity.issuer]} certifications, "
                    f"sig_qty is {self.parameters.sig_qty}"
                )


def _check_founding_document(
    document: Identity | Membership | Certification, currency: str, what: str
) -> None:
    if document.currency != currency:
        raise GenesisError(f"{what}: currency {document.currency!r}, expected {currency!r}")
    if not document.is_signature_valid():
        raise GenesisError(f"{what}: signature does not verify")


DEV_CURRENCY = "june-dev"
DEV_NAMES = ("alice", "bob", "carol", "dave", "eve", "frank", "grace", "heidi", "ivan", "judy")


def dev_keypair(name: str) -> Keypair:
    """The publicly known key of dev member `name`: secret identifier and password are both `name`."""
    return Keypair.from_scrypt(name, name)


def dev_genesis(*, time: int, members: int = 5, currency: str = DEV_CURRENCY) -> GenesisDescription:
    """A dev currency founded by the first `members` of `DEV_NAMES`, every founder certifying every other.

    Its keys are public (see `dev_keypair`): for local networks and tests only.
    """
    if not 1 <= members <= len(DEV_NAMES):
        raise ValueError(f"a dev genesis has 1 to {len(DEV_NAMES)} members, asked {members}")
    parameters = dev_parameters(time)
    if members - 1 < parameters.sig_qty:
        raise ValueError(
            f"{members} founders cannot give each other sig_qty={parameters.sig_qty} certifications"
        )
    keys = {name: dev_keypair(name) for name in DEV_NAMES[:members]}
    identities = {name: Identity.create(k, currency, name, GENESIS_REF) for name, k in keys.items()}
    return GenesisDescription(
        currency=currency,
        parameters=parameters,
        time=time,
        identities=tuple(identities.values()),
        memberships=tuple(
            Membership.create(k, currency, MembershipType.IN, name, GENESIS_REF) for name, k in keys.items()
        ),
        certifications=tuple(
            Certification.create(keys[a], currency, identities[b].issuer, identities[b].hash, GENESIS_REF)
            for a in keys
            for b in keys
            if a != b
        ),
    )
