"""The distance rule (rules.md §5.3): enough sentries must reach a candidate within stepMax steps."""

import math
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

Node = TypeVar("Node", bound=Hashable)


def sentry_threshold(members_count: int, step_max: int) -> int:
    """dSen = ceil(N ** (1/stepMax)) in IEEE double, as Duniter computes it."""
    root: float = members_count ** (1 / step_max)
    return math.ceil(root)


@dataclass(frozen=True, slots=True)
class DistanceResult:
    sentries: int
    reached_sentries: int
    outdistanced: bool


class DistanceEvaluator(Generic[Node]):
    """The web of trust prepared once, to evaluate many candidates."""

    def __init__(
        self,
        links: Iterable[tuple[Node, Node]],
        *,
        d_sen: int,
        step_max: int,
        members: set[Node] | None = None,
    ) -> None:
        self.step_max = step_max
        certifiers: dict[Node, set[Node]] = {}
        issued: dict[Node, int] = {}
        for issuer, receiver in set(links):
            if issuer == receiver:
                continue
            certifiers.setdefault(receiver, set()).add(issuer)
            issued[issuer] = issued.get(issuer, 0) + 1
        self.certifiers = certifiers
        self.sentries = {
            node
            for node, count in issued.items()
            if count >= d_sen
            and len(certifiers.get(node, ())) >= d_sen
            and (members is None or node in members)
        }

    def evaluate(self, candidate: Node, *, x_percent: float) -> DistanceResult:
        reached: set[Node] = set()
        frontier = {candidate}
        for _ in range(self.step_max):
            following: set[Node] = set()
            for node in frontier:
                following.update(self.certifiers.get(node, ()))
            following -= reached
            reached |= following
            frontier = following
        sentries = len(self.sentries) - (1 if candidate in self.sentries else 0)
        count = len((reached & self.sentries) - {candidate})
        return DistanceResult(sentries, count, count < x_percent * sentries)


def evaluate_distance(
    links: Iterable[tuple[Node, Node]],
    candidate: Node,
    *,
    d_sen: int,
    step_max: int,
    x_percent: float,
    members: set[Node] | None = None,
) -> DistanceResult:
    return DistanceEvaluator(links, d_sen=d_sen, step_max=step_max, members=members).evaluate(
        candidate, x_percent=x_percent
    )
