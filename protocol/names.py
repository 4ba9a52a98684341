"""How a person names an account: a uid or a public key, read by one rule everywhere.

A uid has 2 to 100 characters of `[A-Za-z0-9_-]`, so one of 40 to 44 characters may also be valid
Base58 that decodes to a 32-byte key: the same text can name two different accounts. Paying the
wrong one would lose the money, so the rule never guesses:

- `KEY:CHK` is a public key with its checksum, and only that;
- `@uid` is a uid, and only that;
- other text is looked up both as a uid and as a key: if it names one account, that one; if it
  names two, `AmbiguousName` asks the person to write `KEY:CHK` or `@uid`; if neither, the error
  says why (no such uid, or not a well-formed key).

The wallet (`june send`, `june balance`, …) and the node's API (`/identities/{who}`, `/wot/{who}/…`)
both call `resolve_name`, each with its own way to look a uid up.
"""

from collections.abc import Callable
from dataclasses import dataclass

from protocol.crypto import PublicKey
from protocol.documents.identity import UID_PATTERN
from protocol.errors import InvalidKey, ProtocolError
from protocol.keys import parse_pubkey, pubkey_display

#: Written before a uid to say "this is a uid, not a key".
UID_MARK = "@"


class UnknownName(ProtocolError):
    """No identity has this uid, and the text is not a public key."""


class AmbiguousName(ProtocolError):
    """The text is the uid of one account and the public key of another."""


@dataclass(frozen=True)
class Named:
    """The account a name resolved to, and the uid it was found by (None for a bare key)."""

    key: PublicKey
    uid: str | None


def resolve_name(text: str, key_of_uid: Callable[[str], PublicKey | None]) -> Named:
    """The account `text` names; `key_of_uid` looks a uid up (written or pending, as the caller
    sees fit). Raises `InvalidKey`, `UnknownName` or `AmbiguousName` with the reason."""
    text = text.strip()
    if ":" in text:
        return Named(parse_pubkey(text), None)
    if text.startswith(UID_MARK):
        uid = text[len(UID_MARK) :]
        found = key_of_uid(uid) if UID_PATTERN.fullmatch(uid) else None
        if found is None:
            raise UnknownName(f"no identity has the uid {uid[:100]!r}")
        return Named(found, uid)
    by_uid = key_of_uid(text) if UID_PATTERN.fullmatch(text) else None
    try:
        as_key: PublicKey | None = parse_pubkey(text)
        key_error: InvalidKey | None = None
    except InvalidKey as exc:
        as_key, key_error = None, exc
    if by_uid is not None and as_key is not None and by_uid != as_key:
        raise AmbiguousName(
            f"{text!r} is both the uid of {pubkey_display(by_uid)} and the public key "
            f"{pubkey_display(as_key)}: write the key with its checksum, or @{text} for the uid"
        )
    if by_uid is not None:
        return Named(by_uid, text)
    if as_key is not None:
        return Named(as_key, None)
    if 40 <= len(text) <= 44 and key_error is not None:
        raise UnknownName(f"no identity has the uid {text!r}, and it is not a public key: {key_error}")
    raise UnknownName(f"no identity has the uid {text[:100]!r}")
