"""How the wallet says what became of a document: the words for each state, and prefixes of hashes."""

import httpx
import pytest

from wallet.client import API_HEADER, API_VERSION, NodeClient
from wallet.commands.documents import _full_hash, describe_answer, describe_status
from wallet.errors import InputError
from wallet.render import date

HASH = "ab" * 32


def test_each_state_in_words() -> None:
    assert describe_status({"state": "written", "block": 42}) == "written in block #42"
    assert describe_status({"state": "dropped", "reason": "the source is spent"}) == (
        "dropped: the source is spent"
    )
    status = {"state": "waiting", "reason": "BR_G67: one per sigPeriod", "until": 1800000000}
    waiting = describe_status(status)
    assert waiting.startswith("waiting: BR_G67") and "2027-01-15" in waiting
    assert describe_status({"state": "pending"}).startswith("pending")
    assert describe_status({"state": "unknown"}).startswith("unknown")
    assert describe_answer({"result": "accepted"}) == "accepted"
    assert "valid from" in describe_answer({"result": "waiting", "reason": "locked", "until": 1800000000})


def test_a_prefix_names_one_pending_document() -> None:
    pending = [{"hash": HASH}, {"hash": "cd" * 32}]
    client = NodeClient(
        ["http://n"],
        transport=httpx.MockTransport(
            lambda _r: httpx.Response(200, json=pending, headers={API_HEADER: API_VERSION})
        ),
    )
    assert _full_hash(client, "abab") == HASH
    assert _full_hash(client, HASH.upper()) == HASH
    with pytest.raises(InputError, match="starts no pending"):
        _full_hash(client, "ef")


def test_times_read_as_moments_from_the_chain_s_present() -> None:
    now = 1800000000
    waiting = {
        "state": "waiting",
        "reason": f"BR_G67: the period ends at median time {now + 3600}",
        "until": now + 7200,
    }
    said = describe_status(waiting, now)
    assert "the period ends in 1 hour" in said and "valid from in 2 hours" in said and "UTC" not in said
    assert "in 1 day" in describe_status({"state": "pending", "expires": now + 86400}, now)
    dropped = describe_status({"state": "dropped", "reason": f"void since median time {now - 60}"}, now)
    assert dropped.startswith("dropped: void since 1 minute ago")
    answer = {"result": "waiting", "reason": "locked", "until": now + 300}
    assert describe_answer(answer, now) == f"waiting: locked (valid from in 5 minutes, {date(now + 300)})"
