"""Founding a currency: its parameters, the founders' signed files, and block 0's description.

A currency is founded by people who each keep their own key. Each founder signs, offline, an
identity and an IN membership against `GENESIS_REF` (an *identity file*), then certifies the other
founders from their identity files (a *certification file*). One founder gathers every file and
assembles block 0. This module is the pure part of that ceremony, shared by the wallet (which
writes the files) and the node (which reads them): parameter presets and overrides, the file
format, and the assembly into a checked `GenesisDescription`.

Founding files are text, so that founders can read them, mail them and compare them by eye:

    June founding identity - one founder of a new currency
    Currency: tiers-lieux
    Uid: alice
    Public key: <base58>:<checksum>
    Identity hash: <64 hexadecimal characters>

    -----BEGIN JUNE FOUNDING IDENTITY-----
    <Base64 of the canonical CBOR array [identity, membership], lines of 64 characters>
    -----END JUNE FOUNDING IDENTITY-----

A certification file is the same with `Certifies: <key>:<checksum> (<uid>)` lines (one per
certified founder) instead of `Uid` and `Identity hash`, and a CBOR array of certifications
between `-----BEGIN JUNE FOUNDING CERTIFICATIONS-----` and its END marker. Only the documents
between the markers are signed; the header lines are for people, and reading a file checks that
they agree with the documents, so an edited header is refused as well as an edited document.
"""

import base64
import binascii
import difflib
import re
import textwrap
import tomllib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from typing import Any

from protocol.crypto import PublicKey, hash_hex
from protocol.documents import GENESIS_REF, Certification, Identity, Membership, MembershipType
from protocol.documents.identity import UID_PATTERN
from protocol.encoding import decode, encode
from protocol.errors import ProtocolError
from protocol.fields import CURRENCY_PATTERN
from protocol.genesis import GenesisDescription
from protocol.keys import Keypair, pubkey_display
from protocol.params import G1, CurrencyParameters, dev_parameters

#: A founding file has a few kilobytes per founder; a larger one is not read whole.
MAX_FOUNDING_FILE = 4_000_000
#: Largest parameter a currency accepts, as `CurrencyParameters.from_item` decodes it from block 0.
_MAX_PARAMETER = 2**40


class FoundingError(ProtocolError):
    """A founding step that cannot go on; the message names the file, founder or field at fault."""


# --- names ------------------------------------------------------------------------------------


def check_currency_name(name: str) -> str:
    """`name` if it is a valid currency name (the rule every document's currency field follows)."""
    if CURRENCY_PATTERN.fullmatch(name) is None:
        raise FoundingError(f"currency name {name[:60]!r}: use 2 to 50 letters, digits, '-', '_' or spaces")
    return name


def check_uid(uid: str) -> str:
    """`uid` if it is a valid pseudonym: `Identity.create` signs any text, decoding would refuse it."""
    if UID_PATTERN.fullmatch(uid) is None:
        raise FoundingError(f"uid {uid[:60]!r}: use 2 to 100 letters, digits, '-' or '_'")
    return uid


# --- parameters -------------------------------------------------------------------------------


def _g1_from(genesis_time: int) -> CurrencyParameters:
    return G1


#: The parameter sets a currency can start from, by name. Each takes the genesis time, though only
#: `dev` uses it: `parameters_for` sets the first UD and reevaluation times of every preset.
PRESETS: Mapping[str, Callable[[int], CurrencyParameters]] = {"g1": _g1_from, "dev": dev_parameters}
DEFAULT_PRESET = "g1"
_FIELDS = {field.name: field for field in fields(CurrencyParameters)}
#: Set from the genesis time unless a parameters file gives them.
_TIMES = ("ud_time0", "ud_reeval_time0")


def _snake(name: str) -> str:
    """`sigQty` → `sig_qty`: Ğ1's block 0 names its parameters in camelCase; both spellings are read."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def parameters_for(spec: str | Mapping[str, Any], genesis_time: int) -> CurrencyParameters:
    """The parameters of a currency founded at `genesis_time`.

    `spec` is a preset name (`g1`, `dev`) or a mapping (a parameters file): an optional `preset`
    key naming the base, then any parameters to change, by June's name (`sig_qty`) or Ğ1's
    (`sigQty`). The first UD comes one `dt` after the genesis time and the first reevaluation one
    `dt_reeval` after it, as in `dev_parameters`, unless the mapping sets `ud_time0` or
    `ud_reeval_time0`.
    """
    overrides: dict[str, Any] = {}
    if isinstance(spec, str):
        base = spec
    else:
        base = spec.get("preset", DEFAULT_PRESET)
        if not isinstance(base, str):
            raise FoundingError(f"preset: expected a preset name ({', '.join(PRESETS)}), got {base!r}")
        overrides = {key: value for key, value in spec.items() if key != "preset"}
    if base not in PRESETS:
        raise FoundingError(f"unknown parameters preset {base!r}: choose {' or '.join(PRESETS)}")
    values = {_field_name(key): value for key, value in overrides.items()}
    if len(values) != len(overrides):
        raise FoundingError("a parameter is given twice (once in each spelling)")
    checked: dict[str, Any] = {name: _check_value(name, value) for name, value in values.items()}
    parameters = replace(PRESETS[base](genesis_time), **checked)
    if "ud_time0" not in checked:
        parameters = replace(parameters, ud_time0=genesis_time + parameters.dt)
    if "ud_reeval_time0" not in checked:
        parameters = replace(
            parameters, ud_reeval_time0=max(parameters.ud_time0, genesis_time + parameters.dt_reeval)
        )
    try:
        parameters.check()
    except ProtocolError as exc:
        raise FoundingError(str(exc).removeprefix("parameters.")) from exc
    if parameters.ud_time0 <= genesis_time:
        raise FoundingError(f"ud_time0: {parameters.ud_time0} is not after the genesis time {genesis_time}")
    return parameters


def read_parameters_toml(text: str) -> dict[str, Any]:
    """The mapping a parameters file holds (TOML: `preset = "g1"` and `name = value` lines)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FoundingError(f"not a TOML parameters file: {exc}") from exc


def _field_name(key: str) -> str:
    name = key if key in _FIELDS else _snake(key)
    if name not in _FIELDS:
        close = difflib.get_close_matches(name, [*_FIELDS, "preset"], n=1)
        hint = f" (did you mean {close[0]}?)" if close else f" (known: preset, {', '.join(_FIELDS)})"
        raise FoundingError(f"unknown parameter {key!r}{hint}")
    return name


def _check_value(name: str, value: Any) -> int | float:
    """`value` if it fits the field `name`, as block 0's decoding will read it."""
    if _FIELDS[name].type in (float, "float"):
        if type(value) not in (int, float) or not 0.0 < value <= 1.0:
            raise FoundingError(f"{name}: expected a number in (0, 1], got {value!r}")
        return float(value)
    if type(value) is not int or not 0 <= value <= _MAX_PARAMETER:
        raise FoundingError(f"{name}: expected a whole number from 0 to {_MAX_PARAMETER}, got {value!r}")
    return value


# --- founders' files --------------------------------------------------------------------------


class FileKind(StrEnum):
    """What a founding file holds, as its markers say."""

    IDENTITY = "IDENTITY"
    CERTIFICATIONS = "CERTIFICATIONS"


_TITLES = {
    FileKind.IDENTITY: "June founding identity - one founder of a new currency",
    FileKind.CERTIFICATIONS: "June founding certifications - one founder vouches for others",
}
_MARKER = re.compile(r"-----(BEGIN|END) JUNE FOUNDING (IDENTITY|CERTIFICATIONS)-----")


def _begin(kind: FileKind) -> str:
    return f"-----BEGIN JUNE FOUNDING {kind}-----"


def _end(kind: FileKind) -> str:
    return f"-----END JUNE FOUNDING {kind}-----"


@dataclass(frozen=True, slots=True)
class FounderIdentity:
    """One founder's identity and IN membership, both at `GENESIS_REF`."""

    identity: Identity
    membership: Membership

    @property
    def currency(self) -> str:
        return self.identity.currency

    @property
    def uid(self) -> str:
        return self.identity.uid

    @property
    def key(self) -> PublicKey:
        return self.identity.issuer

    @classmethod
    def create(cls, keypair: Keypair, currency: str, uid: str) -> "FounderIdentity":
        """Sign `keypair`'s founding identity and membership under `uid` in `currency`."""
        check_currency_name(currency)
        check_uid(uid)
        return cls(
            Identity.create(keypair, currency, uid, GENESIS_REF),
            Membership.create(keypair, currency, MembershipType.IN, uid, GENESIS_REF),
        )

    def check(self) -> None:
        """Refuse documents that do not make a founder: bad signatures, mismatched key or uid."""
        identity, membership = self.identity, self.membership
        if not identity.is_signature_valid():
            raise FoundingError(f"identity of {identity.uid}: signature does not verify (altered?)")
        if not membership.is_signature_valid():
            raise FoundingError(f"membership of {identity.uid}: signature does not verify (altered?)")
        if identity.block != GENESIS_REF or membership.block != GENESIS_REF:
            raise FoundingError(f"identity of {identity.uid}: not made for a genesis (wrong reference block)")
        if (
            membership.issuer != identity.issuer
            or membership.uid != identity.uid
            or membership.type is not MembershipType.IN
            or membership.currency != identity.currency
        ):
            raise FoundingError(f"identity of {identity.uid}: its membership is not an IN for the same key")

    def text(self) -> str:
        """The identity file."""
        return _file_text(
            FileKind.IDENTITY,
            [
                ("Currency", self.currency),
                ("Uid", self.uid),
                ("Public key", pubkey_display(self.key)),
                ("Identity hash", hash_hex(self.identity.hash)),
            ],
            [self.identity.to_item(), self.membership.to_item()],
        )


@dataclass(frozen=True, slots=True)
class FounderCertifications:
    """The certifications one founder gives other founders, all at `GENESIS_REF`."""

    issuer: PublicKey
    currency: str
    certifications: tuple[Certification, ...]

    @classmethod
    def create(cls, keypair: Keypair, founders: Sequence[FounderIdentity]) -> "FounderCertifications":
        """Certify each of `founders` with `keypair`: one currency, nobody twice, not oneself."""
        if not founders:
            raise FoundingError("no identity to certify")
        currencies = sorted({f.currency for f in founders})
        if len(currencies) > 1:
            raise FoundingError(f"these identities are of several currencies: {', '.join(currencies)}")
        seen_keys: dict[PublicKey, str] = {}
        seen_uids: dict[str, PublicKey] = {}
        for founder in founders:
            founder.check()
            if founder.key == keypair.public_key:
                raise FoundingError(f"{founder.uid} is your own identity: nobody certifies themselves")
            if founder.key in seen_keys:
                raise FoundingError(f"{founder.uid}: the same key is given twice")
            if seen_uids.get(founder.uid, founder.key) != founder.key:
                raise FoundingError(f"two identities claim the uid {founder.uid} with different keys")
            seen_keys[founder.key] = founder.uid
            seen_uids[founder.uid] = founder.key
        currency = currencies[0]
        return cls(
            keypair.public_key,
            currency,
            tuple(
                Certification.create(keypair, currency, f.key, f.identity.hash, GENESIS_REF) for f in founders
            ),
        )

    def check(self) -> None:
        """Refuse a set that is not one founder's: mixed issuers or currencies, bad signatures."""
        if not self.certifications:
            raise FoundingError("a certification file certifies nobody")
        who = pubkey_display(self.issuer)
        receivers = Counter(c.receiver for c in self.certifications)
        for cert in self.certifications:
            if cert.issuer != self.issuer or cert.currency != self.currency:
                raise FoundingError(
                    f"certifications of {who}: they are not all by one founder in one currency"
                )
            if not cert.is_signature_valid():
                raise FoundingError(
                    f"certification by {who} of {pubkey_display(cert.receiver)}: signature does not verify "
                    "(altered?)"
                )
            if cert.block != GENESIS_REF:
                raise FoundingError(
                    f"certifications of {who}: not made for a genesis (wrong reference block)"
                )
            if cert.receiver == cert.issuer:
                raise FoundingError(f"certifications of {who}: nobody certifies themselves")
            if receivers[cert.receiver] > 1:
                raise FoundingError(f"{who} certifies {pubkey_display(cert.receiver)} twice")

    def text(self, uids: Mapping[PublicKey, str]) -> str:
        """The certification file; `uids` names the certified founders for people reading it."""
        return _file_text(
            FileKind.CERTIFICATIONS,
            [("Currency", self.currency), ("Public key", pubkey_display(self.issuer))]
            + [
                ("Certifies", f"{pubkey_display(c.receiver)} ({uids.get(c.receiver, '?')})")
                for c in self.certifications
            ],
            [c.to_item() for c in self.certifications],
        )


FoundingFile = FounderIdentity | FounderCertifications


def _file_text(kind: FileKind, headers: Iterable[tuple[str, str]], items: list[Any]) -> str:
    body = base64.b64encode(encode(items)).decode("ascii")
    lines = [_TITLES[kind], *(f"{name}: {value}" for name, value in headers), ""]
    lines += [_begin(kind), *textwrap.wrap(body, 64), _end(kind)]
    return "\n".join(lines) + "\n"


def read_founding_file(text: str) -> FoundingFile:
    """Decode and check a founding file: its documents, their signatures, and its header lines."""
    if len(text) > MAX_FOUNDING_FILE:
        raise FoundingError(f"not a founding file: larger than {MAX_FOUNDING_FILE} characters")
    lines = text.splitlines()
    markers = [(i, m) for i, line in enumerate(lines) if (m := _MARKER.fullmatch(line.strip()))]
    if len(markers) != 2 or markers[0][1][1] != "BEGIN" or markers[1][1][1] != "END":
        raise FoundingError("not a founding file: expected one BEGIN and one END JUNE FOUNDING marker")
    (start, begin), (stop, end) = markers
    if begin[2] != end[2]:
        raise FoundingError("not a founding file: its BEGIN and END markers differ")
    kind = FileKind(begin[2])
    try:
        raw = base64.b64decode("".join("".join(lines[start + 1 : stop]).split()), validate=True)
        items = decode(raw, max_size=MAX_FOUNDING_FILE)
    except (binascii.Error, ValueError, ProtocolError) as exc:
        raise FoundingError(f"damaged founding file: {exc}") from exc
    if not isinstance(items, list) or not items:
        raise FoundingError("damaged founding file: expected a list of documents")
    headers = _headers(lines[:start])
    try:
        if kind is FileKind.IDENTITY:
            return _read_identity(items, headers)
        return _read_certifications(items, headers)
    except FoundingError:
        raise
    except ProtocolError as exc:
        raise FoundingError(f"damaged founding file: {exc}") from exc


def _headers(lines: Sequence[str]) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = defaultdict(list)
    for line in lines:
        name, sep, value = line.partition(": ")
        if sep:
            headers[name.strip()].append(value.strip())
    return headers


def _agree(headers: Mapping[str, list[str]], name: str, expected: list[str]) -> None:
    """Refuse a file whose header line `name` does not say what its signed documents say."""
    found = headers.get(name, [])
    if sorted(found) != sorted(expected):
        shown = ", ".join(found) or "nothing"
        raise FoundingError(
            f"the file's {name!r} line says {shown}, its signed documents say {', '.join(expected)} "
            "(the file was altered)"
        )


def _read_identity(items: list[Any], headers: Mapping[str, list[str]]) -> FounderIdentity:
    if len(items) != 2:
        raise FoundingError("damaged founding file: an identity file holds an identity and a membership")
    identity = Identity.from_item(items[0])
    founder = FounderIdentity(identity, Membership.from_item(items[1], currency=identity.currency))
    founder.check()
    _agree(headers, "Currency", [founder.currency])
    _agree(headers, "Uid", [founder.uid])
    _agree(headers, "Public key", [pubkey_display(founder.key)])
    _agree(headers, "Identity hash", [hash_hex(identity.hash)])
    return founder


def _read_certifications(items: list[Any], headers: Mapping[str, list[str]]) -> FounderCertifications:
    certifications = tuple(Certification.from_item(item) for item in items)
    first = certifications[0]
    founder = FounderCertifications(first.issuer, first.currency, certifications)
    founder.check()
    _agree(headers, "Currency", [founder.currency])
    _agree(headers, "Public key", [pubkey_display(founder.issuer)])
    certified = [line.partition(" ")[0] for line in headers.get("Certifies", [])]
    _agree({"Certifies": certified}, "Certifies", [pubkey_display(c.receiver) for c in certifications])
    return founder


# --- assembly ---------------------------------------------------------------------------------


def assemble_genesis(
    currency: str, parameters: CurrencyParameters, time: int, files: Iterable[FoundingFile]
) -> GenesisDescription:
    """Block 0's description from every founder's files, in any order, or the first problem found.

    Each founder must bring an identity file and a certification file, and receive `sig_qty`
    certifications. Documents are sorted (founders by uid, certifications by issuer then
    receiver), so the same files give the same description whatever order they come in.
    """
    check_currency_name(currency)
    identities: list[FounderIdentity] = []
    given: list[FounderCertifications] = []
    for file in files:
        file.check()
        if isinstance(file, FounderIdentity):
            identities.append(file)
        else:
            given.append(file)
    if not identities:
        raise FoundingError("no identity file: a currency needs founders")
    by_key: dict[PublicKey, FounderIdentity] = {}
    by_uid: dict[str, FounderIdentity] = {}
    for founder in identities:
        if founder.currency != currency:
            raise FoundingError(
                f"the identity file of {founder.uid} is for currency {founder.currency!r}, not {currency!r}"
            )
        if founder.key in by_key:
            raise FoundingError(f"two identity files for the key of {founder.uid}")
        if founder.uid in by_uid:
            raise FoundingError(f"two founders use the uid {founder.uid}: a uid names one founder")
        by_key[founder.key] = by_uid[founder.uid] = founder

    def name(key: PublicKey) -> str:
        return by_key[key].uid if key in by_key else pubkey_display(key)

    needed = parameters.sig_qty
    if len(identities) - 1 < needed:
        raise FoundingError(
            f"{len(identities)} founders cannot give each other the {needed} certifications each one "
            f"needs (sig_qty): at least {needed + 1} founders"
        )
    certifications: dict[tuple[PublicKey, PublicKey], Certification] = {}
    for file in given:
        if file.currency != currency:
            raise FoundingError(
                f"the certification file of {name(file.issuer)} is for currency {file.currency!r}, "
                f"not {currency!r}"
            )
        if file.issuer not in by_key:
            raise FoundingError(
                f"certifications signed by {name(file.issuer)}, who has no identity file here"
            )
        for cert in file.certifications:
            issuer, receiver = name(cert.issuer), name(cert.receiver)
            if cert.receiver not in by_key:
                raise FoundingError(f"{issuer} certifies {receiver}, who has no identity file here")
            if cert.identity != by_key[cert.receiver].identity.hash:
                raise FoundingError(
                    f"{issuer}'s certification of {receiver} names another identity of {receiver} "
                    f"(made from an older identity file?): {issuer} must certify again"
                )
            if (cert.issuer, cert.receiver) in certifications:
                raise FoundingError(f"{issuer} certifies {receiver} twice (two certification files?)")
            certifications[cert.issuer, cert.receiver] = cert
    issuers = {file.issuer for file in given}
    for founder in sorted(identities, key=lambda f: f.uid):
        if founder.key not in issuers:
            raise FoundingError(
                f"{founder.uid} has an identity file but no certification file "
                f"({len(identities)} founders, {len(issuers)} certification files)"
            )
    received = Counter(receiver for _, receiver in certifications)
    short = [f for f in sorted(identities, key=lambda f: f.uid) if received[f.key] < needed]
    if short:
        first = short[0]
        more = f" (and {len(short) - 1} more founders)" if len(short) > 1 else ""
        raise FoundingError(
            f"{first.uid} is certified by {received[first.key]} of the {len(identities) - 1} other "
            f"founders, the parameters need {needed} (sig_qty){more}"
        )
    ordered = sorted(identities, key=lambda f: f.uid)
    description = GenesisDescription(
        currency=currency,
        parameters=parameters,
        time=time,
        identities=tuple(f.identity for f in ordered),
        memberships=tuple(f.membership for f in ordered),
        certifications=tuple(
            cert
            for _, cert in sorted(
                certifications.items(), key=lambda item: (name(item[0][0]), name(item[0][1]))
            )
        ),
    )
    description.check()
    return description
