"""Times read as people read them: local time, and how far from the chain's present."""

import time
from collections.abc import Iterator

import pytest

from wallet.render import duration, humanize, moment

NOW = 1_800_000_000


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_moments_count_from_the_chain_s_present() -> None:
    assert moment(NOW + 3 * 86400 + 7200, NOW) == "in 3 days, 2027-01-18 10:00"
    assert moment(NOW - 5 * 3600, NOW) == "5 hours ago, 2027-01-15 03:00"
    assert moment(NOW + 30, NOW) == "now, 2027-01-15 08:00"
    assert moment(NOW, None) == "2027-01-15 08:00" and moment(None, NOW) == "—"
    assert [duration(s) for s in (60, 61 * 60, 86400, 2 * 86400)] == ["1 minute", "1 hour", "1 day", "2 days"]


def test_a_node_s_unix_times_become_dates() -> None:
    refusal = f"BR_G108: next membership allowed at median time {NOW + 86400}"
    assert humanize(refusal, NOW) == "BR_G108: next membership allowed in 1 day, 2027-01-16 08:00"
    assert humanize(refusal, None) == "BR_G108: next membership allowed at 2027-01-16 08:00"
    assert humanize("block 1800000000 is fine", NOW) == "block 1800000000 is fine"
