"""The fork candidates a chain manager keeps, indexed in memory (by hash, parent, number and
sending peer), and what the index records of each: enough to check a child's production fields
and its issuer's membership along the branch without reading the blocks back from disk."""

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TypeVar

from protocol.documents import Block
from protocol.rules.header import production_fields
from protocol.state.records import BlockSummary

K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the index keeps of a fork candidate (its block stays on disk)."""

    hash: bytes
    number: int
    parent: bytes
    median_time: int
    summary: BlockSummary  # production fields (the money fields are its parent's: unused)
    joins: frozenset[bytes]  # keys this block makes (or keeps) members: joiners and actives
    leaves: frozenset[bytes]  # keys this block excludes
    source: str | None  # the peer that sent it; None: this node, an import, or loaded from disk

    @classmethod
    def of(cls, block: Block, summary: BlockSummary, source: str | None) -> "Candidate":
        assert block.previous_hash is not None
        return cls(
            hash=bytes(block.hash),
            number=block.number,
            parent=bytes(block.previous_hash),
            median_time=block.median_time,
            summary=summary,
            joins=frozenset(bytes(m.issuer) for m in (*block.joiners, *block.actives)),
            leaves=frozenset(bytes(key) for key in block.excluded),
            source=source,
        )


@dataclass
class CandidateIndex:
    """The fork candidates in memory: by hash, by parent hash, by number, counted per peer."""

    by_hash: dict[bytes, Candidate] = field(default_factory=dict)
    children: dict[bytes, set[bytes]] = field(default_factory=dict)
    by_number: dict[int, set[bytes]] = field(default_factory=dict)
    per_source: Counter[str] = field(default_factory=Counter)

    def __len__(self) -> int:
        return len(self.by_hash)

    def __contains__(self, block_hash: bytes) -> bool:
        return bytes(block_hash) in self.by_hash

    def add(self, candidate: Candidate) -> None:
        self.by_hash[candidate.hash] = candidate
        self.children.setdefault(candidate.parent, set()).add(candidate.hash)
        self.by_number.setdefault(candidate.number, set()).add(candidate.hash)
        if candidate.source is not None:
            self.per_source[candidate.source] += 1

    def remove(self, block_hash: bytes) -> Candidate | None:
        """Forget one candidate (its children, if any, stay: they now hang from its hash)."""
        candidate = self.by_hash.pop(bytes(block_hash), None)
        if candidate is None:
            return None
        _discard(self.children, candidate.parent, candidate.hash)
        _discard(self.by_number, candidate.number, candidate.hash)
        if candidate.source is not None:
            self.per_source[candidate.source] -= 1
            if self.per_source[candidate.source] <= 0:
                del self.per_source[candidate.source]
        return candidate

    def subtree(self, block_hash: bytes) -> list[bytes]:
        """The candidate and all its candidate descendants, parents before children."""
        found, queue = [], [bytes(block_hash)]
        while queue:
            current = queue.pop()
            if current in self.by_hash:
                found.append(current)
            queue.extend(self.children.get(current, ()))
        return found

    def lineage(self, parent_hash: bytes) -> list[Candidate]:
        """The candidates from `parent_hash` down to the root of its branch, newest first."""
        found = []
        current = self.by_hash.get(bytes(parent_hash))
        while current is not None:
            found.append(current)
            current = self.by_hash.get(current.parent)
        return found

    def lowest_leaf(self, keep: bytes) -> Candidate | None:
        """The candidate without children of the lowest number, `keep` excepted."""
        for number in sorted(self.by_number):
            for block_hash in sorted(self.by_number[number]):
                if block_hash != keep and not self.children.get(block_hash):
                    return self.by_hash[block_hash]
        return None


def _discard(index: dict[K, set[bytes]], key: K, value: bytes) -> None:
    members = index.get(key)
    if members is not None:
        members.discard(value)
        if not members:
            del index[key]


def membership_along(issuer: bytes, ancestors: list[Candidate]) -> bool | None:
    """Whether the candidates (newest first) leave `issuer` a member; None if none of them changes
    it. Only joiners (and actives) and exclusions change the member flag (rules.md §3)."""
    key = bytes(issuer)
    for candidate in ancestors:
        if key in candidate.leaves:
            return False
        if key in candidate.joins:
            return True
    return None


def summary_of(block: Block, diff_number: int, parent: BlockSummary) -> BlockSummary:
    """The production fields of a candidate, read by the rules for its children's difficulty,
    median time, issuers frame, powMin and size; the money fields are its parent's (never read)."""
    return replace(parent, **production_fields(block, block.members_count, diff_number))
