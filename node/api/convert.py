"""JSON forms of keys, amounts, blocks and sources; parsing of path parameters."""

from typing import Any

from node.api.errors import ApiError
from node.store import LevelStore
from protocol.crypto import PublicKey, hash_hex
from protocol.documents import Block, DividendSource, Transaction
from protocol.errors import InvalidKey
from protocol.keys import parse_pubkey, pubkey_display
from protocol.state.records import SourceId


def key_text(key: bytes) -> str:
    return pubkey_display(key)


def parse_key(text: str) -> PublicKey:
    """A public key given as `base58` or `base58:CHK` (a wrong checksum is refused)."""
    try:
        return parse_pubkey(text)
    except InvalidKey as exc:
        raise ApiError(400, f"not a public key: {exc}") from exc


def key_of(store: LevelStore, who: str) -> PublicKey | None:
    """The key named by a path segment that is a uid or a public key, as the user typed it.

    Text with `:` is a key with its checksum, so it must parse (400 otherwise). Other text is
    looked up as a uid first, since a uid may also be 40 to 44 Base58 characters, then parsed as
    a key. None when it is neither: the caller answers 404, since an unknown uid is not a
    malformed request.
    """
    if ":" in who:
        return parse_key(who)
    key = store.key_of_uid(who)
    if key is not None:
        return key
    try:
        return parse_pubkey(who)
    except InvalidKey:
        return None


def cents_text(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


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
