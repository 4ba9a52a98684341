"""Every LevelDB key the node writes, built in one place (see docs/storage.md).

Numbers are 8-byte big-endian, so that keys sort by number and prefix scans walk them in order.
"""

import hashlib
from typing import Any

from protocol.documents.transaction import DividendSource, TransactionSource
from protocol.state.delta import (
    TABLE_BLOCK,
    TABLE_CERT,
    TABLE_CHAIN,
    TABLE_IDENTITY,
    TABLE_MEMBERSHIP,
    TABLE_SOURCE,
    TABLE_UID,
)

FORMAT_VERSION = 1

META_FORMAT = b"m:format"
META_CURRENCY = b"m:currency"
META_GENESIS = b"m:genesis"
HEAD = b"h"
BLOCK = b"B"  # + number → the block's canonical bytes
BLOCK_HASH = b"N"  # + number → the block's hash
NUMBER_OF = b"H"  # + hash → number
UNDO = b"U"  # + number → the block's delta (undo record), kept over the fork window
DIGEST = b"D"  # + number → state digest after the block
FORK = b"F"  # + hash → a fork candidate block's bytes
INVALID = b"I"  # + hash → why the block was refused
INVALID_ORDER = b"J"  # + sequence number → hash of an invalid block (the oldest are forgotten first)
TABLE_PREFIX = {
    TABLE_CHAIN: b"tc",
    TABLE_BLOCK: b"tb",
    TABLE_IDENTITY: b"ti",
    TABLE_UID: b"tu",
    TABLE_MEMBERSHIP: b"tm",
    TABLE_CERT: b"tr",
    TABLE_SOURCE: b"ts",
}
MEMBERS = b"xM"  # + key
KICKED = b"xK"  # + key
CERTS_BY_RECEIVER = b"xR"  # + receiver + issuer
CERT_EXPIRY = b"xC"  # + expires_on + issuer + receiver
MEMBERSHIP_EXPIRY = b"xE"  # + expires_on + key
MEMBERSHIP_REVOCATION = b"xV"  # + revokes_on + key
ACCOUNT = b"xA"  # + SHA-256(conditions) + source key
#: + SHA-256(conditions) + number → cents the account lost to the 1-unit rule (BR_G106) in that
#: block: the blocks do not record it, so the history could not show it otherwise.
DESTROYED = b"xX"


def number_key(number: int) -> bytes:
    return number.to_bytes(8, "big")


def table_key(table: str, key: Any) -> bytes:
    """The LevelDB key of a primary record."""
    return TABLE_PREFIX[table] + record_key_bytes(table, key)


def record_key_bytes(table: str, key: Any) -> bytes:
    if table == TABLE_CHAIN:
        return b""
    if table == TABLE_BLOCK:
        return number_key(key)
    if table == TABLE_UID:
        return str(key).encode("utf-8")
    if table == TABLE_CERT:
        return bytes(key[0]) + bytes(key[1])
    if table == TABLE_SOURCE:
        return source_key(key)
    return bytes(key)


def source_key(source: DividendSource | TransactionSource) -> bytes:
    if isinstance(source, DividendSource):
        return b"\x00" + source.member + number_key(source.block_number)
    return b"\x01" + source.tx_hash + source.index.to_bytes(4, "big")


def parse_source_key(raw: bytes) -> DividendSource | TransactionSource:
    from protocol.crypto import Hash, PublicKey

    if raw[0] == 0:
        return DividendSource(PublicKey(raw[1:33]), int.from_bytes(raw[33:41], "big"))
    return TransactionSource(Hash(raw[1:33]), int.from_bytes(raw[33:37], "big"))


def account_prefix(conditions: str) -> bytes:
    return ACCOUNT + hashlib.sha256(conditions.encode("utf-8")).digest()


def destroyed_key(conditions: str, number: int) -> bytes:
    return destroyed_prefix(conditions) + number_key(number)


def destroyed_prefix(conditions: str) -> bytes:
    return DESTROYED + hashlib.sha256(conditions.encode("utf-8")).digest()


def index_keys(table: str, key: Any, record: Any) -> list[bytes]:
    """The secondary index entries a primary record implies (all with empty values)."""
    if record is None:
        return []
    if table == TABLE_IDENTITY:
        keys = []
        if record.member:
            keys.append(MEMBERS + key)
        if record.kick:
            keys.append(KICKED + key)
        return keys
    if table == TABLE_CERT:
        issuer, receiver = key
        return [
            CERTS_BY_RECEIVER + receiver + issuer,
            CERT_EXPIRY + number_key(record.expires_on) + issuer + receiver,
        ]
    if table == TABLE_MEMBERSHIP:
        keys = [MEMBERSHIP_REVOCATION + number_key(record.revokes_on) + key]
        if not record.expired:
            keys.append(MEMBERSHIP_EXPIRY + number_key(record.expires_on) + key)
        return keys
    if table == TABLE_SOURCE:
        return [account_prefix(record.conditions) + source_key(key)]
    return []
