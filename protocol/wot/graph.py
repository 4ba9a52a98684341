"""`WebOfTrust`: the live links and the member set, kept in step with a state by its deltas.

Rebuilding the distance rule's graph from every certification costs 0.1–0.5 s on a Ğ1-sized web
of trust; a block changes a handful of links. So each state keeps one graph, moved by the same
deltas as its tables (`apply`, `revert`), and a block with joiners or renewals only pays for one
search per candidate (rules.md §5.3).

Nodes are integer indexes, never reused: a key keeps its index when its links go, so a revert
finds it again. Each node holds the sets of its certifiers and of the keys it certified; the
sentries for one dSen are cached as a set and corrected on each change of their endpoints.

One thread moves a graph (the node's writer) while others may read it (the API, the forger): a
version, odd while a delta is being followed, lets a reader see that the graph moved under its
search and start again (a seqlock: the writer never waits). The sentry cache is stamped with the
version it was computed at, so a reader's late store of it cannot hide a change.

The search is a breadth-first search backwards along received links, level by level over Python
sets (the work stays in C). A level is expanded top-down (the certifiers of the frontier) or, once
the frontier is large, bottom-up (the nodes not yet seen that certified someone seen), whichever
touches fewer entries; the last level only asks which sentries are reached.
"""

from collections.abc import Callable, Collection, Iterable, Sequence
from itertools import compress
from operator import not_
from typing import TYPE_CHECKING, Any, Protocol

from protocol.crypto import Hash, PublicKey
from protocol.wot.distance import DistanceResult

if TYPE_CHECKING:  # annotations only: protocol.state may import this module for its views
    from protocol.state.delta import Delta
    from protocol.state.view import StateView

# Table names of the delta rows the graph follows (protocol.state.tables.CERT and IDENTITY).
_CERT = "cert"
_IDENTITY = "identity"

Link = tuple[PublicKey, PublicKey]


class WebOfTrust:
    """Live links and the member set, kept in step with a state by its deltas."""

    __slots__ = ("_cache", "_certified", "_certifiers", "_index", "_keys", "_member", "_version", "digest")

    def __init__(self, digest: Hash) -> None:
        self.digest: Hash = digest
        self._index: dict[PublicKey, int] = {}
        self._keys: list[PublicKey] = []
        self._certifiers: list[set[int]] = []  # node → the nodes that certified it
        self._certified: list[set[int]] = []  # node → the nodes it certified
        self._member = bytearray()
        self._version = 0  # odd while a delta is being followed
        self._cache: tuple[int, int, set[int]] | None = None  # dSen, version, the sentries

    # Building and moving ---------------------------------------------------------------------------

    @classmethod
    def build(cls, view: "StateView") -> "WebOfTrust":
        """The graph of `view`: its live certifications and its members."""
        graph = cls(view.state_digest())
        for issuer, receiver in view.all_certifications():
            graph._link(issuer, receiver)
        member = graph._member
        for key in view.members():
            member[graph._node(key)] = 1
        return graph

    def copy(self) -> "WebOfTrust":
        """An independent graph equal to this one (a state that moves apart from its base's)."""
        other = WebOfTrust(self.digest)
        other._index = dict(self._index)
        other._keys = list(self._keys)
        other._certifiers = [set(nodes) for nodes in self._certifiers]
        other._certified = [set(nodes) for nodes in self._certified]
        other._member = bytearray(self._member)
        return other

    def apply(self, delta: "Delta") -> None:
        """Follow the state from `delta.previous_digest` to `delta.digest`."""
        if delta.previous_digest != self.digest:
            raise ValueError(f"delta of block {delta.number} was computed on another state")
        self._move((table, key, after) for (table, key), (_before, after) in delta.changes.items())
        self.digest = delta.digest

    def revert(self, delta: "Delta") -> None:
        """Follow the state back from `delta.digest` to `delta.previous_digest`."""
        if delta.digest != self.digest:
            raise ValueError(f"delta of block {delta.number} is not the graph's last")
        self._move((table, key, before) for (table, key), (before, _after) in delta.changes.items())
        self.digest = delta.previous_digest

    def _move(self, rows: Iterable[tuple[str, Any, Any]]) -> None:
        """Follow `rows` under an odd version; a sentry cache valid before stays valid after."""
        cache = self._cache
        if cache is not None and cache[1] != self._version:
            cache = None
        self._version += 1
        try:
            self._change(rows, cache)
        finally:
            self._version += 1
        if cache is not None:
            self._cache = (cache[0], self._version, cache[2])

    def _change(self, rows: Iterable[tuple[str, Any, Any]], cache: tuple[int, int, set[int]] | None) -> None:
        """Set each row to its new value: a cert row present or absent, an identity's member flag."""
        for table, key, value in rows:
            if table == _CERT:
                issuer, receiver = key
                ends = self._unlink(issuer, receiver) if value is None else self._link(issuer, receiver)
                if cache is not None:
                    for end in ends:
                        self._refresh(end, cache)
            elif table == _IDENTITY:
                flag = value is not None and bool(value.member)
                index = self._index.get(key)
                if index is None:
                    if not flag:
                        continue
                    index = self._node(key)
                self._member[index] = flag
                if cache is not None:
                    self._refresh(index, cache)

    def _node(self, key: PublicKey) -> int:
        index = self._index.get(key)
        if index is None:
            index = self._index[key] = len(self._keys)
            self._keys.append(key)
            self._certifiers.append(set())
            self._certified.append(set())
            self._member.append(0)
        return index

    def _link(self, issuer: PublicKey, receiver: PublicKey) -> tuple[int, ...]:
        """Add a link; its ends (none for a self-link, which is no path)."""
        if issuer == receiver:
            return ()
        source, target = self._node(issuer), self._node(receiver)
        self._certified[source].add(target)
        self._certifiers[target].add(source)
        return source, target

    def _unlink(self, issuer: PublicKey, receiver: PublicKey) -> tuple[int, ...]:
        source, target = self._index.get(issuer), self._index.get(receiver)
        if source is None or target is None or source == target:
            return ()
        self._certified[source].discard(target)
        self._certifiers[target].discard(source)
        return source, target

    def _refresh(self, index: int, cache: tuple[int, int, set[int]]) -> None:
        """Keep the cached sentry set right for a node whose links or member flag changed."""
        d_sen, _version, sentries = cache
        if _is_sentry(self._member[index], self._certified[index], self._certifiers[index], d_sen):
            sentries.add(index)
        else:
            sentries.discard(index)

    def _sentries_for(self, d_sen: int) -> set[int]:
        """The sentries for `d_sen`: cached, recomputed over every node only when dSen changes."""
        version, cache = self._version, self._cache
        if cache is not None and cache[0] == d_sen and cache[1] == version:
            return cache[2]
        member, certified, certifiers = self._member, self._certified, self._certifiers
        sentries = {
            i for i in range(len(self._keys)) if _is_sentry(member[i], certified[i], certifiers[i], d_sen)
        }
        if version % 2 == 0 and self._version == version:  # else the graph moved meanwhile
            self._cache = (d_sen, version, sentries)
        return sentries

    # Reading ---------------------------------------------------------------------------------------

    def links(self) -> set[Link]:
        """Every live link (issuer, receiver), self-links left out."""
        keys = self._keys
        return {(keys[s], keys[t]) for s, targets in enumerate(self._certified) for t in targets}

    def members(self) -> set[PublicKey]:
        """Every member."""
        return {key for key, flag in zip(self._keys, self._member, strict=True) if flag}

    def prepare(self, extra_links: Iterable[Link], *, d_sen: int, step_max: int) -> "DistanceCheck":
        """The graph with a block's links added, ready to evaluate each of its candidates."""
        return DistanceCheck(self, extra_links, d_sen=d_sen, step_max=step_max)

    def evaluate(
        self,
        candidate: PublicKey,
        *,
        extra_links: Sequence[Link],
        d_sen: int,
        step_max: int,
        x_percent: float,
    ) -> DistanceResult:
        """The distance verdict for `candidate`, with `extra_links` (a block's certifications) added."""
        check = self.prepare(extra_links, d_sen=d_sen, step_max=step_max)
        return check.evaluate(candidate, x_percent=x_percent)


def _is_sentry(member: int, certified: set[int], certifiers: set[int], d_sen: int) -> bool:
    """A member that issued and received dSen links (and, when dSen ≤ 0, is on some link)."""
    issued, received = len(certified), len(certifiers)
    return bool(member) and issued >= d_sen and received >= d_sen and issued + received > 0


class DistanceCheck:
    """A `WebOfTrust` seen with one block's extra links, for one dSen and stepMax.

    The graph is not copied: only the adjacency sets of the extra links' endpoints are, in
    shallow copies of the node lists, so preparing costs a few tens of microseconds. It shares the
    graph's other sets: when the graph has moved since (a writer thread), it prepares again, so
    each verdict is that of the graph as it stands.
    """

    __slots__ = (
        "_added",
        "_certified",
        "_certifiers",
        "_d_sen",
        "_everyone",
        "_extra",
        "_graph",
        "_index",
        "_sentries",
        "_version",
        "step_max",
    )

    def __init__(self, graph: WebOfTrust, extra_links: Iterable[Link], *, d_sen: int, step_max: int) -> None:
        self.step_max = step_max
        self._graph = graph
        self._extra = list(extra_links)
        self._d_sen = d_sen
        self._prepare()

    def _prepare(self) -> None:
        graph, d_sen = self._graph, self._d_sen
        self._version = graph._version
        index = graph._index
        certifiers, certified = graph._certifiers, graph._certified
        sentries = graph._sentries_for(d_sen)
        added: dict[PublicKey, int] = {}
        pairs: set[tuple[int, int]] = set()
        for issuer, receiver in self._extra:
            if issuer == receiver:
                continue
            ends = []
            for key in (issuer, receiver):
                node = index.get(key)
                if node is None:  # a newcomer: a temporary node, never a member
                    node = added.setdefault(key, len(certifiers) + len(added))
                ends.append(node)
            source, target = ends
            if source >= len(certified) or target not in certified[source]:
                pairs.add((source, target))
        if pairs:
            certifiers = list(certifiers)
            certified = list(certified)
            for _ in added:
                certifiers.append(set())
                certified.append(set())
            touched: set[int] = set()
            for source, target in pairs:
                if source not in touched:
                    touched.add(source)
                    certifiers[source] = set(certifiers[source])
                    certified[source] = set(certified[source])
                if target not in touched:
                    touched.add(target)
                    certifiers[target] = set(certifiers[target])
                    certified[target] = set(certified[target])
                certified[source].add(target)
                certifiers[target].add(source)
            sentries = set(sentries)
            member = graph._member
            for node in touched:
                flag = member[node] if node < len(member) else 0
                if _is_sentry(flag, certified[node], certifiers[node], d_sen):
                    sentries.add(node)
                else:
                    sentries.discard(node)
        self._index = index
        self._added = added
        self._certifiers = certifiers
        self._certified = certified
        self._sentries = sentries
        self._everyone: frozenset[int] | None = None

    def _all_nodes(self) -> frozenset[int]:
        """Every node, made once per check on the first bottom-up level (the unseen = all − seen)."""
        if self._everyone is None:
            self._everyone = frozenset(range(len(self._certifiers)))
        return self._everyone

    @property
    def sentries(self) -> int:
        """S before excluding a candidate."""
        while True:
            self._follow()
            count = len(self._sentries)
            if self._graph._version == self._version:
                return count

    def _follow(self) -> None:
        """Prepare again until the graph stands still at a version (even: no delta half followed)."""
        while self._version != self._graph._version or self._version % 2:
            self._prepare()

    def evaluate(
        self, candidate: PublicKey, *, x_percent: float, verdict_only: bool = False
    ) -> DistanceResult:
        """The verdict R < xpercent · S for one candidate (a key on no link is reached by none).

        `verdict_only`: the search stops at the first level where R ≥ xpercent · S holds, so a
        passing candidate's R is only a lower bound (enough for the rule: most pass a level before
        stepMax); an outdistanced candidate's R is exact, as the search then runs to the end.
        """
        while True:
            self._follow()
            try:
                result = self._evaluate(candidate, x_percent, verdict_only)
            except RuntimeError:  # a set changed size under the search: the graph moved
                continue
            if self._graph._version == self._version:
                return result

    def _evaluate(self, candidate: PublicKey, x_percent: float, verdict_only: bool) -> DistanceResult:
        sentries = self._sentries
        start = self._index.get(candidate)
        if start is None:
            start = self._added.get(candidate)
        if start is None or not (self._certifiers[start] or self._certified[start]):
            total = len(sentries)
            return DistanceResult(total, 0, x_percent * total > 0)  # R = 0 < xpercent · S
        own = 1 if start in sentries else 0
        total = len(sentries) - own

        def passes(count: int) -> bool:
            """Whether `count` sentries reached (the candidate's own included) pass the rule."""
            return not count - own < x_percent * total

        reached = reached_sentries(
            self._certifiers,
            self._certified,
            sentries,
            start,
            self.step_max,
            self._all_nodes,
            enough=passes if verdict_only else None,
        )
        reached -= own
        return DistanceResult(total, reached, reached < x_percent * total)


class _Adjacency(Protocol):
    def __getitem__(self, index: int, /) -> set[int]: ...

    def __len__(self) -> int: ...


def reached_sentries(
    certifiers: _Adjacency,
    certified: _Adjacency,
    sentries: set[int],
    start: int,
    step_max: int,
    everyone: Callable[[], frozenset[int]] | None = None,
    *,
    enough: Callable[[int], bool] | None = None,
) -> int:
    """How many sentries have a path of 0 to `step_max` links towards `start` (`start` included).

    With `enough`, the search may stop after any level where `enough(count)` holds and return that
    partial count: the caller only wants to know whether the count reaches its threshold.

    Levels 1..stepMax−1 grow `seen`, each top-down or bottom-up, whichever is estimated to probe
    fewer set entries: the frontier's certifiers, or the unseen nodes, each probing its certified
    set against `seen` until a hit (about |nodes|/|seen| probes). The last level is asked of the
    unseen sentries alone. As in `DistanceEvaluator`, a stepMax below 1 searches one level.
    """
    size = len(certifiers)
    seen = {start}
    frontier: Collection[int] = (start,)
    per_node = 0.0
    unseen: set[int] | None = None  # built on the first bottom-up level
    previous: set[int] | None = None  # `seen` before the last level, when that level merged into it
    for level in range(1, step_max):
        fanout = sum(map(len, map(certifiers.__getitem__, frontier)))
        if not fanout:
            frontier = ()
            break
        if fanout <= _bottom_up_cost(size - len(seen), size, len(seen)):
            if level == step_max - 1 and unseen is None:
                # The last level before the sentries: merged straight into `seen`; its nodes are
                # only needed if the sentries' level goes top-down.
                previous = seen.copy()
                seen.update(*map(certifiers.__getitem__, frontier))
                per_node = fanout / len(frontier)
                break
            following = set().union(*map(certifiers.__getitem__, frontier))
            following -= seen
            if unseen is not None:
                unseen -= following
        else:
            if unseen is None:
                unseen = set(range(size) if everyone is None else everyone())  # a copy: no hashing
                unseen -= seen
            # The unseen nodes that certified someone seen; map and compress keep the loop in C.
            order = list(unseen)
            misses = map(seen.isdisjoint, map(certified.__getitem__, order))
            following = set(compress(order, map(not_, misses)))
            unseen -= following
        seen |= following
        frontier = following
        if enough is not None:
            partial = len(seen & sentries)
            if enough(partial):
                return partial
    count = len(seen & sentries)
    if count == len(sentries) or (enough is not None and enough(count)):
        return count
    bottom_up = _bottom_up_cost(len(sentries) - count, size, len(seen))
    if previous is not None:  # the merged level's fan-out, estimated from the level before
        if (len(seen) - len(previous)) * per_node > bottom_up:
            return count + _sentries_certifying(seen, certified, sentries)
        frontier = seen - previous
    fanout = sum(map(len, map(certifiers.__getitem__, frontier)))
    if not fanout:
        return count
    if fanout <= bottom_up:
        last = set().union(*map(certifiers.__getitem__, frontier))
        last -= seen
        return count + len(last & sentries)
    return count + _sentries_certifying(seen, certified, sentries)


def _sentries_certifying(seen: set[int], certified: _Adjacency, sentries: set[int]) -> int:
    """How many sentries outside `seen` certified someone in it (the last level, bottom-up)."""
    misses = map(seen.isdisjoint, map(certified.__getitem__, sentries - seen))
    return list(misses).count(False)


def _bottom_up_cost(candidates: int, size: int, seen: int) -> float:
    """A bottom-up level's cost in top-down insertions: per candidate node a fixed cost, plus its
    probes of `seen` until a hit (about size/seen, never more than its certified set)."""
    return candidates * (_PROBE_COST + min(_MAX_PROBES, size / seen))


# The cost model (tuned on the Ğ1 and synthetic webs): a node probed bottom-up costs a few
# insertions, and probes at most about its certified set.
_PROBE_COST = 3
_MAX_PROBES = 20
