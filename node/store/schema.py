"""Every LevelDB key the node writes, built in one place (see docs/storage.md).

Numbers are 8-byte big-endian, so that keys sort by number and prefix scans walk them in order.
"""

import hashlib
from typing import Any

from protocol.documents.transaction import TransactionSource
from protocol.state.tables import CERT, IDENTITY, MEMBERSHIP, SOURCE, TABLES, number_bytes

#: 2: UDs as one record per block and rights per member, running account totals (docs/state.md).
FORMAT_VERSION = 2

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
MEMBERS = b"xM"  # + key
KICKED = b"xK"  # + key
CERTS_BY_RECEIVER = b"xR"  # + receiver + issuer
CERT_EXPIRY = b"xC"  # + expires_on + issuer + receiver
MEMBERSHIP_EXPIRY = b"xE"  # + expires_on + key
MEMBERSHIP_REVOCATION = b"xV"  # + revokes_on + key
ACCOUNT = b"xA"  # + SHA-256(conditions) + transaction source key
#: + SHA-256(conditions) + number → cents the account lost to the 1-unit rule (BR_G106) in that
#: block: the blocks do not record it, so the history could not show it otherwise.
DESTROYED = b"xX"


number_key = number_bytes  # the state's tables order numbers the same way


def table_key(table: str, key: Any) -> bytes:
    """The LevelDB key of a primary record."""
    declared = TABLES[table]
    return declared.tag + declared.key_bytes(key)


def source_key(source: TransactionSource) -> bytes:
    return SOURCE.key_bytes(source)


def parse_source_key(raw: bytes) -> TransactionSource:
    return SOURCE.key_from_bytes(raw)


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
    if table == IDENTITY.name:
        keys = []
        if record.member:
            keys.append(MEMBERS + key)
        if record.kick:
            keys.append(KICKED + key)
        return keys
    if table == CERT.name:
        issuer, receiver = key
        return [
            CERTS_BY_RECEIVER + receiver + issuer,
            CERT_EXPIRY + number_key(record.expires_on) + issuer + receiver,
        ]
    if table == MEMBERSHIP.name:
        keys = [MEMBERSHIP_REVOCATION + number_key(record.revokes_on) + key]
        if not record.expired:
            keys.append(MEMBERSHIP_EXPIRY + number_key(record.expires_on) + key)
        return keys
    if table == SOURCE.name:
        return [account_prefix(record.conditions) + source_key(key)]
    return []
