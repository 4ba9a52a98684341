"""The distance rule (rules.md §5.3): enough sentries must reach a candidate within stepMax steps.

A *sentry* is a member that issued and received at least dSen live certifications; a candidate is
*outdistanced* when fewer than xpercent of the sentries (itself excluded) have a path of 1 to
stepMax certifications towards it. Paths may cross non-members.

Two ways to evaluate, both exact:
- one candidate: a breadth-first search backwards along received certifications, over node indexes;
- every node at once: stepMax rounds over all links, each node holding the bitset (a Python int,
  one bit per sentry) of the sentries that reach it, as in `wotb`. A round costs one OR per link.
"""

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

Node = TypeVar("Node", bound=Hashable)


def sentry_threshold(members_count: int, step_max: int) -> int:
    """dSen = ⌈N^(1/stepMax)⌉ as an exact integer root (rules.md §5.3): the least d with d**k ≥ N.

    Float `pow` is one too many at exact powers in CPython (3125 ** 0.2 = 5.000000000000001); Duniter's
    JavaScript and the Ğ1 licence give the exact root (3125 → 5, 7776 → 6).
    """
    if members_count <= 1:
        return max(members_count, 0)
    estimate: float = float(members_count) ** (1 / step_max)
    d = max(1, round(estimate))
    while d**step_max < members_count:
        d += 1
    while d > 1 and (d - 1) ** step_max >= members_count:
        d -= 1
    return d


@dataclass(frozen=True, slots=True)
class DistanceResult:
    """S, R, and the verdict R < xpercent · S."""

    sentries: int
    reached_sentries: int
    outdistanced: bool


class DistanceEvaluator(Generic[Node]):
    """A web of trust prepared once (indexes, sentries) to evaluate many candidates."""

    def __init__(
        self,
        links: Iterable[tuple[Node, Node]],
        *,
        d_sen: int,
        step_max: int,
        members: set[Node] | frozenset[Node] | None = None,
    ) -> None:
        self.step_max = step_max
        self.index: dict[Node, int] = {}
        pairs: set[tuple[int, int]] = set()
        for issuer, receiver in links:
            if issuer != receiver:
                pairs.add((self._node(issuer), self._node(receiver)))
        size = len(self.index)
        self.certifiers: list[list[int]] = [[] for _ in range(size)]
        issued = [0] * size
        for source, target in pairs:
            self.certifiers[target].append(source)
            issued[source] += 1
        nodes = list(self.index)
        is_member = [members is None or node in members for node in nodes]
        self.sentry_bit = [0] * size
        count = 0
        for i in range(size):
            if is_member[i] and issued[i] >= d_sen and len(self.certifiers[i]) >= d_sen:
                self.sentry_bit[i] = 1 << count
                count += 1
        self.sentries = count
        # The sentries among each node's certifiers: the last BFS level becomes one OR per node.
        self.certifying_sentries = [_union(self.sentry_bit, sources) for sources in self.certifiers]
        self._reach: list[int] | None = None

    def _node(self, node: Node) -> int:
        index = self.index.get(node)
        if index is None:
            index = self.index[node] = len(self.index)
        return index

    def evaluate(self, candidate: Node, *, x_percent: float) -> DistanceResult:
        """The verdict for one candidate, by a breadth-first search of at most stepMax levels."""
        start = self.index.get(candidate)
        if start is None:
            return self._result(0, 0, x_percent)
        if self._reach is not None:
            return self._result(self._reach[start], self.sentry_bit[start], x_percent)
        seen = bytearray(len(self.certifiers))
        seen[start] = 1
        frontier = [start]
        reached = 0
        certifiers, sentry_bit = self.certifiers, self.sentry_bit
        for _ in range(self.step_max - 1):
            following = []
            for node in frontier:
                for issuer in certifiers[node]:
                    if not seen[issuer]:
                        seen[issuer] = 1
                        reached |= sentry_bit[issuer]
                        following.append(issuer)
            frontier = following
        certifying_sentries = self.certifying_sentries
        for node in frontier:  # the last step: the sentries certifying the farthest nodes
            reached |= certifying_sentries[node]
        return self._result(reached, self.sentry_bit[start], x_percent)

    def evaluate_all(self, candidates: Iterable[Node], *, x_percent: float) -> dict[Node, DistanceResult]:
        """The verdicts for many candidates, from one pass of stepMax rounds over every link."""
        reach = self._reach_table()
        results = {}
        for candidate in candidates:
            start = self.index.get(candidate)
            if start is None:
                results[candidate] = self._result(0, 0, x_percent)
            else:
                results[candidate] = self._result(reach[start], self.sentry_bit[start], x_percent)
        return results

    def _reach_table(self) -> list[int]:
        """For every node, the bitset of sentries with a path of 1..stepMax links towards it."""
        if self._reach is None:
            sentry_bit, certifiers = self.sentry_bit, self.certifiers
            within = sentry_bit  # sentries reaching each node within 0 steps: itself
            reach = [0] * len(certifiers)
            for _ in range(self.step_max):
                reach = [_union(within, sources) for sources in certifiers]
                within = [bit | r for bit, r in zip(sentry_bit, reach, strict=True)]
            self._reach = reach
        return self._reach

    def _result(self, reached: int, own_bit: int, x_percent: float) -> DistanceResult:
        sentries = self.sentries - (1 if own_bit else 0)
        count = (reached & ~own_bit).bit_count()
        return DistanceResult(sentries, count, count < x_percent * sentries)


def _union(bitsets: list[int], indexes: list[int]) -> int:
    result = 0
    for index in indexes:
        result |= bitsets[index]
    return result


def evaluate_distance(
    links: Iterable[tuple[Node, Node]],
    candidate: Node,
    *,
    d_sen: int,
    step_max: int,
    x_percent: float,
    members: set[Node] | frozenset[Node] | None = None,
) -> DistanceResult:
    """The distance verdict for one candidate (`members` None: every node is a member)."""
    evaluator = DistanceEvaluator(links, d_sen=d_sen, step_max=step_max, members=members)
    return evaluator.evaluate(candidate, x_percent=x_percent)
