"""`june pay URI` against a mock node: what is paid, from which amount, to which currency, and what
is refused before anything is signed."""

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from protocol.crypto import hash_hex, sha256
from protocol.documents import Transaction
from protocol.genesis import dev_keypair
from protocol.keys import pubkey_display, pubkey_to_base58
from protocol.payment_uri import PaymentRequest, format_payment_uri
from tests.wallet.test_wot_commands import HEAD, NOW, Node, run

ALICE = dev_keypair("alice")
HACKLAB = dev_keypair("hacklab").public_key
UD = 1000


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUNE_STATE_DIR", str(tmp_path / "state"))


def node(hacklab_uid: str | None = "hacklab") -> Node:
    """A node of currency `dev` where alice holds one UD and the hacklab's key has `hacklab_uid`."""
    money = {"dividend_cents": UD, "unit_base": 0, "median_time": NOW}
    sources = {
        "balance": UD,
        "sources": [
            {"type": "D", "member": pubkey_display(ALICE.public_key), "block": 1, "amount": UD, "base": 0}
        ],
    }
    empty = {"balance": 0, "sources": []}

    def identity(_request: Any) -> dict[str, Any] | None:
        return None if hacklab_uid is None else {"uid": hacklab_uid, "pubkey": pubkey_display(HACKLAB)}

    def accepted(request: Any) -> dict[str, Any]:
        return {"result": "accepted", "hash": hash_hex(sha256(request.content))}

    return Node(
        {
            "/currency": {"money": money},
            f"/sources/{pubkey_to_base58(ALICE.public_key)}": sources,
            f"/sources/{pubkey_to_base58(HACKLAB)}": empty,
            f"/identities/{pubkey_display(HACKLAB)}": identity,
            "/documents": accepted,
        }
    )


def uri(**fields: Any) -> str:
    return format_payment_uri(PaymentRequest(HACKLAB, **fields))


def paid(mock: Node) -> list[tuple[str, int]]:
    """(output condition, amount) of the one transaction sent."""
    assert len(mock.sent) == 1
    tx = Transaction.from_bytes(mock.sent[0])
    return [(str(o.condition), o.amount) for o in tx.outputs]


def test_pays_the_request_with_its_comment_through_send_s_path() -> None:
    mock = node()
    code, out, err = run(
        mock, "pay", uri(amount_cents=250, comment="Don au hacklab", currency="dev"), keypair=ALICE
    )
    assert code == 0, err
    assert f"hacklab ({pubkey_display(HACKLAB)})" in err and "2.50 (0.25 UD)" in err
    assert "Don au hacklab" in err and "dev" in err
    tx = Transaction.from_bytes(mock.sent[0])
    assert tx.comment == "Don au hacklab" and tx.currency == "dev"
    assert (f"SIG({pubkey_to_base58(HACKLAB)})", 250) in paid(mock)
    assert "Sent 2.50 (0.25 UD) to hacklab (" in out


def test_json_answer_is_send_s_with_the_request() -> None:
    mock = node(hacklab_uid=None)
    code, out, err = run(mock, "--json", "pay", uri(amount_ud=Decimal("0.5")), keypair=ALICE)
    assert code == 0, err
    answer = json.loads(out)
    assert {"transactions", "results", "answers", "amount", "destroyed"} <= set(answer)
    assert answer["amount"] == 500 and answer["results"] == ["accepted"]
    request = answer["request"]
    assert request["recipient"] == pubkey_display(HACKLAB) and request["uid"] is None
    assert request["amount"] == 500 and request["amount_ud"] == "0.50" and request["requested_ud"] == "0.5"
    assert request["currency"] == "dev" and request["uri"] == uri(amount_ud=Decimal("0.5"))


def test_an_open_request_needs_an_amount() -> None:
    mock = node()
    code, _out, err = run(mock, "pay", uri(comment="merci"), keypair=ALICE)
    assert code == 2 and "give --amount X or --ud X" in err and mock.sent == []
    code, _out, err = run(mock, "pay", uri(comment="merci"), "--ud", "0.3", keypair=ALICE)
    assert code == 0, err
    assert (f"SIG({pubkey_to_base58(HACKLAB)})", 300) in paid(mock)


def test_a_request_s_amount_cannot_be_changed() -> None:
    mock = node()
    code, _out, err = run(mock, "pay", uri(amount_cents=250), "--amount", "3", keypair=ALICE)
    assert code == 2 and "asks for 2.50, not 3.00" in err and mock.sent == []
    code, _out, err = run(mock, "pay", uri(amount_cents=250), "--amount", "1", "--ud", "1", keypair=ALICE)
    assert code == 2 and "not both" in err and mock.sent == []
    code, _out, err = run(mock, "pay", uri(amount_cents=250), "--amount", "2.5", keypair=ALICE)
    assert code == 0, err
    assert len(mock.sent) == 1


def test_another_currency_is_refused_before_the_secret_is_asked() -> None:
    mock = node()
    code, _out, err = run(mock, "pay", uri(amount_cents=250, currency="g1"))  # no key: asking would fail
    assert code == 1 and "for the currency g1, but the node serves dev" in err
    assert mock.sent == [] and not any(path.startswith("/sources") for path in mock.asked)


def test_an_unreadable_request_says_why() -> None:
    mock = node()
    code, _out, err = run(mock, "pay", f"june:{pubkey_to_base58(HACKLAB)}?amount=1&req-expires=1")
    assert code == 2 and "cannot be paid" in err and "req-expires" in err
    assert mock.asked == []


def test_dry_run_sends_nothing() -> None:
    mock = node()
    code, out, err = run(mock, "--json", "pay", uri(amount_cents=250), "--dry-run", keypair=ALICE)
    assert code == 0, err
    answer = json.loads(out)
    assert answer["dry_run"] is True and answer["request"]["amount"] == 250 and mock.sent == []
    assert HEAD["number"] == int(answer["documents"][0]["blockstamp"].split("-")[0])
