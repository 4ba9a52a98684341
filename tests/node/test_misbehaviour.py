"""The misbehaviour policy and the performance record, on a fake clock."""

from node.p2p.misbehaviour import (
    BAN_SCORE,
    BAN_SECONDS,
    FORGIVE_PER_SECOND,
    MAX_TRACKED,
    Misbehaviour,
    Offence,
)
from node.p2p.performance import MAX_REST, Performance


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_every_offence_has_a_weight_and_proofs_ban_within_four() -> None:
    for offence in Offence:
        assert 0 < offence.weight <= BAN_SCORE and offence.words
        proof = offence not in (Offence.SILENCE, Offence.FLOOD)
        assert not proof or offence.weight * 4 >= BAN_SCORE, offence
    assert Offence.FOREIGN.weight == BAN_SCORE


def test_a_score_reaching_the_threshold_bans_once_for_a_day() -> None:
    clock = FakeClock()
    policy = Misbehaviour(clock)
    assert not policy.report("p", Offence.MALFORMED, "one")
    assert not policy.report("p", Offence.MALFORMED, "two")
    assert policy.report("p", Offence.MALFORMED, "three")  # 120 ≥ 100
    assert policy.is_banned("p") and "three" in (policy.ban_reason("p") or "")
    assert not policy.report("p", Offence.MALFORMED, "again")  # already banned: no second ban
    clock.now += BAN_SECONDS + 1
    assert not policy.is_banned("p") and policy.score("p") == 0


def test_scores_are_forgiven_over_time() -> None:
    clock = FakeClock()
    policy = Misbehaviour(clock)
    policy.report("p", Offence.BAD_SIGNATURE)
    clock.now += 3600
    assert abs(policy.score("p") - (50 - 3600 * FORGIVE_PER_SECOND)) < 1e-6
    clock.now += 10 * 3600
    assert policy.score("p") == 0
    assert not policy.report("p", Offence.BAD_SIGNATURE)  # the old offence no longer counts


def test_rare_silences_of_an_honest_peer_never_ban_it() -> None:
    clock = FakeClock()
    policy = Misbehaviour(clock)
    for _ in range(24 * 7):  # one silence an hour for a week
        assert not policy.report("p", Offence.SILENCE)
        clock.now += 3600


def test_operator_bans_and_pardons() -> None:
    policy = Misbehaviour(FakeClock())
    policy.ban("p", "a partition")
    assert policy.banned() == {"p": "a partition"}
    policy.pardon("p")
    assert not policy.is_banned("p") and policy.banned() == {}


def test_the_table_is_bounded_and_keeps_the_banned() -> None:
    policy = Misbehaviour(FakeClock())
    policy.report("villain", Offence.FOREIGN)
    for index in range(MAX_TRACKED + 50):
        policy.report(f"p{index}", Offence.SILENCE)
    assert len(policy._records) <= MAX_TRACKED + 1
    assert policy.is_banned("villain")


def test_a_silent_peer_rests_longer_each_time_and_an_answer_wakes_it() -> None:
    clock = FakeClock()
    record = Performance(clock)
    record.failed("p")
    assert record.is_resting("p")
    clock.now += 2.1
    assert not record.is_resting("p")
    for _ in range(20):
        record.failed("p")
    clock.now += MAX_REST - 1
    assert record.is_resting("p")
    record.answered("p", 0.01)
    assert not record.is_resting("p")


def test_the_quickest_awake_peers_come_first() -> None:
    clock = FakeClock()
    record = Performance(clock)
    record.answered("slow", 0.5)
    record.answered("fast", 0.01)
    record.failed("silent")
    assert record.fastest_first(["unknown", "slow", "silent", "fast"]) == ["fast", "slow", "unknown"]
