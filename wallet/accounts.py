"""Naming accounts: what a person typed, to a key (`protocol.names`, the rule the node applies
too), and a key back to words (its uid beside a shortened key, or the whole key on request)."""

from dataclasses import dataclass, field

from protocol.crypto import PublicKey
from protocol.keys import checksum, parse_pubkey, pubkey_display, pubkey_to_base58
from protocol.names import UID_MARK, Named, resolve_name
from wallet.client import NodeClient, Refused

#: Characters of a key shown before the ellipsis when keys are shortened.
SHORT_KEY = 8


def resolve(client: NodeClient, text: str) -> Named:
    """The account `text` names (a uid, `@uid`, a key or `KEY:CHK`), the uid looked up on the node."""

    def key_of_uid(uid: str) -> PublicKey | None:
        try:
            identity = client.get(f"/identities/{UID_MARK}{uid}")
        except Refused as refused:
            if refused.status == 404:
                return None
            raise
        return parse_pubkey(str(identity["pubkey"]))

    return resolve_name(text, key_of_uid)


def short_key(key: PublicKey) -> str:
    """`HgTTJLAQ…:CFr`: enough to recognise a key, with the checksum that guards it."""
    return f"{pubkey_to_base58(key)[:SHORT_KEY]}…:{checksum(key)}"


@dataclass
class Labels:
    """Writes keys for people: `alice (HgTTJLAQ…:CFr)`, the whole key with `--full-pubkey`; the
    uids come from the node's answers (`names`) or are looked up once per command."""

    client: NodeClient | None
    full: bool = False
    uids: dict[PublicKey, str | None] = field(default_factory=dict)

    def learn(self, names: dict[str, str]) -> None:
        """Record the `{"KEY:CHK": uid}` map a node's answer carries."""
        for text, uid in names.items():
            self.uids[parse_pubkey(text)] = uid

    def uid(self, key: PublicKey) -> str | None:
        if key not in self.uids and self.client is not None:
            try:
                found = self.client.get(f"/identities/{pubkey_display(key)}")
                self.uids[key] = str(found["uid"]) if found.get("pubkey") == pubkey_display(key) else None
            except Refused:
                self.uids[key] = None
        return self.uids.get(key)

    def key(self, key: PublicKey) -> str:
        return pubkey_display(key) if self.full else short_key(key)

    def __call__(self, key: PublicKey) -> str:
        uid = self.uid(key)
        return self.key(key) if uid is None else f"{uid} ({self.key(key)})"
