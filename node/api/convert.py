"""JSON forms of keys, amounts, blocks and sources; parsing of path parameters."""

from collections.abc import Callable
from typing import Any

from node.api.context import ApiContext
from node.api.errors import ApiError
from protocol.conditions import ConditionError, Sig, parse_condition
from protocol.crypto import PublicKey, hash_hex
from protocol.documents import Block, DividendSource, Identity, Transaction
from protocol.errors import InvalidKey
from protocol.keys import parse_pubkey, pubkey_display
from protocol.names import AmbiguousName, Named, UnknownName, resolve_name
from protocol.state.records import SourceId


def key_text(key: bytes) -> str:
    return pubkey_display(key)


def sig_key(condition: str) -> PublicKey | None:
    """The key of a plain `SIG(key)` condition (money only that key can spend), else None."""
    try:
        parsed = parse_condition(condition)
    except ConditionError:
        return None
    return parsed.key if isinstance(parsed, Sig) and str(parsed) == condition else None


def counterpart_text(condition: str) -> str:
    """An output's owner as a person reads it: `base58:CHK` for a plain `SIG(key)`, else the condition."""
    key = sig_key(condition)
    return condition if key is None else key_text(key)


def parse_key(text: str) -> PublicKey:
    """A public key given as `base58` or `base58:CHK` (a wrong checksum is refused)."""
    try:
        return parse_pubkey(text)
    except InvalidKey as exc:
        raise ApiError(400, f"not a public key: {exc}") from exc


def uid_lookup(api: ApiContext) -> Callable[[str], PublicKey | None]:
    """How the API looks a uid up: a written identity, else one pending in the pool."""

    def key_of_uid(uid: str) -> PublicKey | None:
        key = api.store.key_of_uid(uid)
        if key is not None:
            return key
        pending = (d for d in api.mempool.documents() if isinstance(d, Identity) and d.uid == uid)
        return next((d.issuer for d in pending), None)

    return key_of_uid


def key_of(api: ApiContext, who: str) -> Named:
    """The account a path segment names, as the user typed it: a uid or a public key, by the one
    rule the wallet uses too (`protocol.names`): `@uid` is a uid, `KEY:CHK` a key, and text that is
    the uid of one account and the key of another is refused (409) rather than guessed, since
    paying the wrong one loses the money. A malformed `KEY:CHK` is a 400, an unknown name a 404."""
    try:
        return resolve_name(who, uid_lookup(api))
    except AmbiguousName as exc:
        raise ApiError(409, str(exc)) from exc
    except InvalidKey as exc:
        raise ApiError(400, f"not a public key: {exc}") from exc
    except UnknownName as exc:
        raise ApiError(404, f"{exc}, written or pending") from exc


def source_json(source: SourceId, amount: int, base: int, conditions: str) -> dict[str, Any]:
    value = amount * 10**base
    common = {"amount": amount, "base": base, "cents": value, "conditions": conditions}
    if isinstance(source, DividendSource):
        return {"type": "D", "member": key_text(source.member), "block": source.block_number, **common}
    return {"type": "T", "tx": hash_hex(source.tx_hash), "index": source.index, **common}


def block_json(block: Block) -> dict[str, Any]:
    return {
        "number": block.number,
        "hash": hash_hex(block.hash),
        "previous_hash": None if block.previous_hash is None else hash_hex(block.previous_hash),
        "issuer": key_text(block.issuer),
        "time": block.time,
        "median_time": block.median_time,
        "pow_min": block.pow_min,
        "members_count": block.members_count,
        "dividend": block.dividend,
        "unit_base": block.unit_base,
        "issuers_count": block.issuers_count,
        "state_digest": hash_hex(block.state_digest),
        "identities": [i.uid for i in block.identities],
        "joiners": [key_text(m.issuer) for m in block.joiners],
        "actives": [key_text(m.issuer) for m in block.actives],
        "leavers": [key_text(m.issuer) for m in block.leavers],
        "revoked": [key_text(r.issuer) for r in block.revocations],
        "excluded": [key_text(k) for k in block.excluded],
        "certifications": [
            {"issuer": key_text(c.issuer), "receiver": key_text(c.receiver)} for c in block.certifications
        ],
        "transactions": [transaction_json(tx) for tx in block.transactions],
    }


def transaction_json(tx: Transaction) -> dict[str, Any]:
    return {
        "hash": hash_hex(tx.hash),
        "issuers": [key_text(k) for k in tx.issuers],
        "inputs": len(tx.inputs),
        "outputs": [
            {"amount": o.amount, "base": o.base, "cents": o.amount * 10**o.base, "conditions": o.condition}
            for o in tx.outputs
        ],
        "comment": tx.comment,
    }
