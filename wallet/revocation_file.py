"""The revocation file: a signed revocation kept offline for the day a key is lost or stolen.

It is text, so that it can be printed, read and checked by eye. PEM-like:

    June revocation document: publishing it revokes the identity below for ever.
    Currency: g1
    Uid: alice
    Public key: <base58>:<checksum>
    Identity hash: <64 hexadecimal characters>
    Warning: anyone who has this file can revoke this identity. Keep it offline and private.
    Warning: publish it only if the key is lost or stolen: june wot revocation publish FILE

    -----BEGIN JUNE REVOCATION-----
    <Base64 of the signed document's canonical CBOR bytes, lines of 64 characters>
    -----END JUNE REVOCATION-----

Only the block between the markers counts: the signed document (currency, key, identity hash,
signature). `Name: value` lines above it are for people; `verify` checks that they agree with the
document. The file is created with mode 0600, never over an existing one, and synced to disk
before June says it is written. Files made before this format (the bare CBOR bytes) are still read.
"""

import base64
import binascii
import textwrap

from protocol.crypto import hash_hex
from protocol.documents import Revocation
from protocol.errors import ProtocolError
from protocol.keys import pubkey_display
from wallet.errors import InputError

BEGIN = "-----BEGIN JUNE REVOCATION-----"
END = "-----END JUNE REVOCATION-----"
#: A revocation file has under a kilobyte; a larger one is not read whole.
MAX_REVOCATION_FILE = 64 * 1024
TITLE = "June revocation document: publishing it revokes the identity below for ever."
WARNINGS = (
    "anyone who has this file can revoke this identity. Keep it offline and private.",
    "publish it only if the key is lost or stolen: june wot revocation publish FILE",
)


def revocation_text(document: Revocation, uid: str) -> str:
    """The revocation file's text (format in the module docstring)."""
    body = base64.b64encode(document.to_bytes()).decode("ascii")
    lines = [
        TITLE,
        f"Currency: {document.currency}",
        f"Uid: {uid}",
        f"Public key: {pubkey_display(document.issuer)}",
        f"Identity hash: {hash_hex(document.identity)}",
        *(f"Warning: {warning}" for warning in WARNINGS),
        "",
        BEGIN,
        *textwrap.wrap(body, 64),
        END,
    ]
    return "\n".join(lines) + "\n"


def read_revocation(data: bytes, source: str) -> tuple[Revocation, dict[str, str]]:
    """A revocation file's document and its header lines (`name` in lower case → value); the old
    binary form (bare CBOR) has no header. Raise `InputError` for anything else."""
    headers: dict[str, str] = {}
    if BEGIN.encode() in data:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{source} is not a June revocation file: {exc}") from exc
        before, _, rest = text.partition(BEGIN)
        inside, found_end, _after = rest.partition(END)
        if not found_end:
            raise InputError(f"{source} is cut short: no {END} line")
        for line in before.splitlines():
            name, colon, value = line.partition(":")
            if colon and name.strip() and name.strip().lower() != "warning":
                headers[name.strip().lower()] = value.strip()
        try:
            raw = base64.b64decode("".join(inside.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InputError(f"{source}: the block between the markers is not Base64: {exc}") from exc
    else:
        raw = data
    try:
        return Revocation.from_bytes(raw), headers
    except ProtocolError as exc:
        raise InputError(f"{source} holds no revocation document: {exc}") from exc
