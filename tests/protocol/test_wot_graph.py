"""`WebOfTrust` follows a state's deltas and answers the distance rule exactly as a rebuild does."""

import math
import sys
import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.crypto import ZERO_HASH, Hash, PublicKey
from protocol.state.delta import Delta
from protocol.state.memory import MemoryState
from protocol.state.records import CertRecord, IdentityRecord
from protocol.wot import DistanceEvaluator
from protocol.wot import graph as graph_module
from protocol.wot.graph import WebOfTrust

KEYS = [PublicKey(bytes([i]) * 32) for i in range(9)]
STRANGER = PublicKey(bytes([99]) * 32)  # on no link, in no delta: only in a block's extra links


def identity(index: int, member: bool) -> IdentityRecord:
    return IdentityRecord(f"u{index}", Hash(bytes([index]) * 32), 0, member, True, False, None)


def cert_record(number: int) -> CertRecord:
    return CertRecord(number, number + 100, number + 5, number + 50)


def rebuilt(state: MemoryState, extra: list[tuple[PublicKey, PublicKey]], d_sen: int, step_max: int) -> Any:
    """Today's evaluator: every live certification and the block's, rebuilt from scratch."""
    links = [*state.all_certifications(), *extra]
    return DistanceEvaluator(links, d_sen=d_sen, step_max=step_max, members=set(state.members()))


def next_delta(data: st.DataObject, state: MemoryState, number: int) -> Delta:
    """A few random cert and identity rows on top of `state` (self-links included)."""
    changes: dict[tuple[str, Any], tuple[Any, Any]] = {}
    for _ in range(data.draw(st.integers(0, 7), label="rows")):
        if data.draw(st.integers(0, 3), label="table") > 0:
            pair = (data.draw(st.sampled_from(KEYS)), data.draw(st.sampled_from(KEYS)))
            if ("cert", pair) in changes:
                continue
            before = state.certification(*pair)
            changes["cert", pair] = (before, None if before is not None else cert_record(number))
        else:
            index = data.draw(st.integers(0, len(KEYS) - 1))
            before = state.identity(KEYS[index])
            changes["identity", KEYS[index]] = (before, identity(index, data.draw(st.booleans())))
    return Delta.build(number, changes, state.state_digest())


def check_against_rebuild(data: st.DataObject, state: MemoryState, graph: WebOfTrust) -> None:
    assert graph.digest == state.state_digest()
    assert graph.links() == {(a, b) for a, b in state.all_certifications() if a != b}
    assert graph.members() == set(state.members())
    extra = data.draw(
        st.lists(
            st.tuples(st.sampled_from([*KEYS, STRANGER]), st.sampled_from([*KEYS, STRANGER])), max_size=6
        ),
        label="extra links",
    )
    d_sen = data.draw(st.integers(0, 3), label="d_sen")
    step_max = data.draw(st.integers(1, 4), label="step_max")
    x_percent = data.draw(st.sampled_from([0.5, 0.8, 1.0]), label="x_percent")
    expected = rebuilt(state, extra, d_sen, step_max)
    check = graph.prepare(extra, d_sen=d_sen, step_max=step_max)
    for candidate in [*KEYS, STRANGER]:
        want = expected.evaluate(candidate, x_percent=x_percent)
        assert check.evaluate(candidate, x_percent=x_percent) == want, candidate
        # The rules' verdict-only search: the same verdict, R exact when outdistanced, a lower
        # bound that still passes otherwise.
        quick = check.evaluate(candidate, x_percent=x_percent, verdict_only=True)
        assert (quick.sentries, quick.outdistanced) == (want.sentries, want.outdistanced), candidate
        if want.outdistanced:
            assert quick == want, candidate
        else:
            assert quick.reached_sentries <= want.reached_sentries, candidate
    candidate = data.draw(st.sampled_from([*KEYS, STRANGER]), label="candidate")
    got = graph.evaluate(candidate, extra_links=extra, d_sen=d_sen, step_max=step_max, x_percent=x_percent)
    assert got == expected.evaluate(candidate, x_percent=x_percent)


@pytest.mark.parametrize("directions", ["chosen", "drawn"])
@given(data=st.data())
@settings(max_examples=80, deadline=None)
def test_follows_deltas_and_agrees_with_a_rebuild(directions: str, data: st.DataObject) -> None:
    """Each level of the search goes top-down or bottom-up by a cost model; "drawn" makes every
    choice at random instead (-1: bottom-up, inf: top-down), so that every path is taken."""
    with pytest.MonkeyPatch.context() as patch:
        if directions == "drawn":
            patch.setattr(
                graph_module, "_bottom_up_cost", lambda *_: data.draw(st.sampled_from([-1.0, math.inf]))
            )
        follow_random_moves(data)


def follow_random_moves(data: st.DataObject) -> None:
    state = MemoryState()
    graph = WebOfTrust.build(state)
    applied: list[Delta] = []
    check_against_rebuild(data, state, graph)
    for _ in range(data.draw(st.integers(1, 10), label="moves")):
        move = data.draw(st.sampled_from(["apply", "apply", "revert", "copy", "rebuild"]), label="move")
        if move == "revert" and applied:
            delta = applied.pop()
            state.revert(delta)
            graph.revert(delta)
        elif move == "copy":
            graph = graph.copy()  # the copy moves on alone
        elif move == "rebuild":  # a graph built mid-chain moves on like one kept from the start
            graph = WebOfTrust.build(state)
        else:
            delta = next_delta(data, state, len(applied))
            state.apply(delta, Hash(bytes(32)))
            graph.apply(delta)
            applied.append(delta)
        check_against_rebuild(data, state, graph)
    while applied:  # back to the empty state, step by step
        delta = applied.pop()
        state.revert(delta)
        graph.revert(delta)
    assert graph.links() == set() and graph.members() == set() and graph.digest == ZERO_HASH


def test_refuses_a_delta_of_another_state() -> None:
    state = MemoryState()
    graph = WebOfTrust.build(state)
    delta = Delta.build(0, {("cert", (KEYS[0], KEYS[1])): (None, cert_record(0))}, state.state_digest())
    other = Delta.build(1, {("cert", (KEYS[1], KEYS[0])): (None, cert_record(1))}, delta.digest)
    with pytest.raises(ValueError):
        graph.apply(other)
    graph.apply(delta)
    with pytest.raises(ValueError):
        graph.revert(other)
    graph.revert(delta)
    assert graph.links() == set()


def test_other_tables_are_ignored() -> None:
    graph = WebOfTrust.build(MemoryState())
    delta = Delta(0, {("membership", KEYS[0]): (None, object())}, ZERO_HASH, Hash(bytes([1]) * 32))
    graph.apply(delta)
    assert graph.digest == delta.digest and graph.links() == set() and graph.members() == set()


def test_the_memory_state_keeps_its_graph() -> None:
    state = MemoryState()
    delta = Delta.build(
        0,
        {
            ("cert", (KEYS[0], KEYS[1])): (None, cert_record(0)),
            ("identity", KEYS[0]): (None, identity(0, True)),
        },
        state.state_digest(),
    )
    state.apply(delta, Hash(bytes(32)))
    graph = state.web_of_trust()
    assert graph.links() == {(KEYS[0], KEYS[1])} and graph.members() == {KEYS[0]}
    assert graph.digest == state.state_digest()
    assert state.web_of_trust() is graph  # kept, not rebuilt


def ring_state(size: int) -> tuple[MemoryState, list[PublicKey]]:
    """Members each certifying the next three: every one a sentry for dSen 3."""
    keys = [PublicKey(bytes([i + 1]) * 32) for i in range(size)]
    changes: dict[tuple[str, Any], tuple[Any, Any]] = {}
    for i, key in enumerate(keys):
        changes["identity", key] = (None, identity(i + 1, True))
        for step in (1, 2, 3):
            changes["cert", (key, keys[(i + step) % size])] = (None, cert_record(0))
    state = MemoryState()
    state.apply(Delta.build(0, changes, state.state_digest()), Hash(bytes(32)))
    return state, keys


def test_a_check_follows_the_graph_when_it_moves() -> None:
    state, keys = ring_state(12)
    graph = WebOfTrust.build(state)
    check = graph.prepare([(keys[5], keys[0])], d_sen=3, step_max=2)
    cut = {("cert", (keys[i], keys[0])): (state.certification(keys[i], keys[0]), None) for i in (9, 10, 11)}
    delta = Delta.build(1, cut, state.state_digest())
    state.apply(delta, Hash(bytes(32)))
    graph.apply(delta)
    expected = rebuilt(state, [(keys[5], keys[0])], 3, 2)
    for key in keys:
        assert check.evaluate(key, x_percent=0.8) == expected.evaluate(key, x_percent=0.8)
    assert check.sentries == expected.sentries


def test_readers_on_another_thread_see_one_state_or_the_other() -> None:
    """A writer thread moves the graph back and forth while this one evaluates: every verdict is
    that of one of the two states, never of a graph half moved."""
    state, keys = ring_state(30)
    graph = WebOfTrust.build(state)
    cut = {("cert", (keys[i], keys[0])): (state.certification(keys[i], keys[0]), None) for i in (27, 28, 29)}
    cut["identity", keys[3]] = (state.identity(keys[3]), identity(4, False))
    delta = Delta.build(1, cut, state.state_digest())
    before = {key: rebuilt(state, [], 3, 3).evaluate(key, x_percent=0.8) for key in keys}
    state.apply(delta, Hash(bytes(32)))
    after = {key: rebuilt(state, [], 3, 3).evaluate(key, x_percent=0.8) for key in keys}
    assert before != after
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            graph.apply(delta)
            graph.revert(delta)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for round_ in range(300):
            key = keys[round_ % len(keys)]
            check = graph.prepare([], d_sen=3, step_max=3)
            assert check.evaluate(key, x_percent=0.8) in (before[key], after[key])
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(interval)
