"""The one misbehaviour policy (Bitcoin Core's `Misbehaving`, in spirit).

Every place that catches a peer doing something wrong reports *what happened* as an `Offence`; this
module alone decides what it costs. Each offence has a stated weight; a peer's score is the sum of
its weights, forgiven slowly over time (an honest peer with a flaky link is never banned by the sum
of rare timeouts); at `BAN_SCORE` the peer is banned for `BAN_SECONDS` and the reason is logged once.
What a ban *does* (disconnect, blacklist, forget the address) belongs to the network, which reads
`is_banned` and is told of each new ban.

The weights, in words: bytes we cannot decode, an oversized frame or message, a forged signature,
a block that breaks a rule, a junk fork candidate and a head that turns out to be a lie are proofs
of misbehaviour (one to three of them ban); silence and flooding may be a slow or busy honest peer
(twenty floods, or fifty silences, in a short time ban); a peer of another currency is banned at once.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

log = logging.getLogger("june.p2p")

#: A peer whose score reaches this is banned.
BAN_SCORE = 100
#: How long a ban lasts (Bitcoin Core's default, 24 h).
BAN_SECONDS = 24 * 3600.0
#: Score points forgiven per second of good behaviour (10 points an hour).
FORGIVE_PER_SECOND = 10 / 3600
#: Peers whose score is remembered; beyond it the lowest scores are forgotten first.
MAX_TRACKED = 10_000


class Offence(Enum):
    """What a peer did, with the score it costs (the second field says it in words for the log)."""

    MALFORMED = (40, "sent bytes that do not decode")
    OVERSIZED = (40, "sent an oversized frame or message")
    BAD_SIGNATURE = (50, "sent a document or block with a forged signature")
    INVALID_BLOCK = (34, "sent a block that breaks a rule")
    JUNK_CANDIDATE = (25, "sent a fork block that could never become the chain")
    LYING_HEAD = (50, "announced a head it could not serve")
    BAD_ANSWER = (40, "answered something other than what was asked")
    SILENCE = (2, "did not answer in time")
    FLOOD = (5, "sent more than its share")
    FOREIGN = (BAN_SCORE, "runs another currency")

    @property
    def weight(self) -> int:
        return self.value[0]

    @property
    def words(self) -> str:
        return self.value[1]


@dataclass
class _Record:
    score: float = 0.0
    updated: float = 0.0
    banned_until: float = 0.0
    reason: str = ""


class Misbehaviour:
    """Scores and bans of peers (keyed by the text of their peer id)."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._records: dict[str, _Record] = {}

    def report(self, peer: object, offence: Offence, detail: str = "") -> bool:
        """Count `offence` against `peer`; True if this report bans it (False if it already was)."""
        key, now = str(peer), self._now()
        record = self._records.get(key)
        if record is None:
            record = self._records[key] = _Record(updated=now)
            self._bound()
        if record.banned_until > now:
            return False
        record.score = max(0.0, record.score - (now - record.updated) * FORGIVE_PER_SECOND)
        record.score += offence.weight
        record.updated = now
        what = f"{offence.words}: {detail}" if detail else offence.words
        if record.score < BAN_SCORE:
            level = logging.INFO if offence.weight < 20 else logging.WARNING
            log.log(level, "peer %s %s (score %d of %d)", key, what, int(record.score), BAN_SCORE)
            return False
        record.banned_until = now + BAN_SECONDS
        record.reason = what
        record.score = 0.0
        log.warning("peer %s banned for %.0f h: %s", key, BAN_SECONDS / 3600, what)
        return True

    def ban(self, peer: object, reason: str) -> None:
        """Ban `peer` now, whatever its score (an operator's decision)."""
        record = self._records.setdefault(str(peer), _Record(updated=self._now()))
        record.banned_until, record.reason = self._now() + BAN_SECONDS, reason
        log.warning("peer %s banned: %s", peer, reason)

    def pardon(self, peer: object) -> None:
        """Lift `peer`'s ban and forget its score."""
        self._records.pop(str(peer), None)

    def is_banned(self, peer: object) -> bool:
        record = self._records.get(str(peer))
        return record is not None and record.banned_until > self._now()

    def score(self, peer: object) -> float:
        """The peer's current score (forgiveness applied), 0 for an unknown peer."""
        record = self._records.get(str(peer))
        if record is None:
            return 0.0
        return max(0.0, record.score - (self._now() - record.updated) * FORGIVE_PER_SECOND)

    def ban_reason(self, peer: object) -> str | None:
        """Why `peer` is banned, or None if it is not."""
        record = self._records.get(str(peer))
        return record.reason if record is not None and record.banned_until > self._now() else None

    def banned(self) -> dict[str, str]:
        """Every banned peer and why."""
        return {key: reason for key, (reason, _left) in self.bans().items()}

    def bans(self) -> dict[str, tuple[str, float]]:
        """Every banned peer: why, and how many seconds the ban has left (for operators' views)."""
        now = self._now()
        return {
            key: (r.reason, r.banned_until - now) for key, r in self._records.items() if r.banned_until > now
        }

    def _bound(self) -> None:
        if len(self._records) <= MAX_TRACKED:
            return
        now = self._now()
        forgettable = [k for k, r in self._records.items() if r.banned_until <= now]
        forgettable.sort(key=lambda k: self._records[k].score)
        for key in forgettable[: len(self._records) - MAX_TRACKED]:
            del self._records[key]
