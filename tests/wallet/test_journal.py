"""The journal of documents sent: private, bounded, merged with outcomes, and never a crash on a
damaged line."""

import stat
from pathlib import Path

import pytest

from wallet import journal
from wallet.journal import journal_path, remember_outcome, remember_sent, sent_documents


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("JUNE_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def test_where_it_lives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert journal_path() == tmp_path / "state" / "sent.jsonl"
    monkeypatch.delenv("JUNE_STATE_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert journal_path() == tmp_path / "xdg" / "june" / "sent.jsonl"
    monkeypatch.delenv("XDG_STATE_HOME")
    assert journal_path() == Path.home() / ".local" / "state" / "june" / "sent.jsonl"


def test_remembers_what_was_sent_privately_and_merges_outcomes() -> None:
    remember_sent(
        {"result": "accepted", "hash": "aa" * 32, "kind": "certification"}, "certification", "to bob"
    )
    remember_sent(
        {"result": "waiting", "hash": "bb" * 32, "reason": "BR_G67", "until": 5}, "transaction", "pay"
    )
    remember_outcome({"hash": "aa" * 32, "state": "written", "block": 7, "reason": None})
    remember_outcome({"hash": "bb" * 32, "state": "pending"})  # not final: not noted
    assert stat.S_IMODE(journal_path().stat().st_mode) == 0o600
    first, second = sent_documents()
    assert first["label"] == "to bob" and first["state"] == "written" and first["block"] == 7
    assert second["result"] == "waiting" and second["until"] == 5 and "state" not in second
    assert len(journal_path().read_text().splitlines()) == 3


def test_a_damaged_line_is_skipped() -> None:
    remember_sent({"result": "accepted", "hash": "aa" * 32}, "identity", "me")
    with journal_path().open("a") as out:
        out.write('{"half": \n[1, 2]\n{"hash": 3, "time": 1}\n\x00\xff garbage\n')
    remember_sent({"result": "accepted", "hash": "cc" * 32}, "revocation", "bye")
    assert [entry["label"] for entry in sent_documents()] == ["me", "bye"]


def test_bounded_to_the_last_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal, "MAX_ENTRIES", 5)
    for index in range(8):
        remember_sent({"result": "accepted", "hash": f"{index:064x}"}, "transaction", f"#{index}")
    assert [entry["label"] for entry in sent_documents()] == [f"#{i}" for i in range(3, 8)]
    assert stat.S_IMODE(journal_path().stat().st_mode) == 0o600


def test_an_answer_without_hash_is_not_noted() -> None:
    remember_sent({"result": "accepted"}, "identity", "me")
    assert sent_documents() == []
    assert not journal_path().exists()
