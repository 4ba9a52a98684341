"""The wallet's web-of-trust side against a mock node: revocation files (text, private, read back,
checked), where an identity stands and what is coming, `june check`, `june blocks`,
`june difficulty` and `june licence`."""

import base64
import json
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from protocol.crypto import hash_hex, sha256
from protocol.documents import Revocation
from protocol.genesis import dev_keypair
from protocol.keys import Keypair, pubkey_display
from wallet.cli import june
from wallet.client import API_HEADER, API_VERSION, NodeClient
from wallet.commands.chain import hash_pattern
from wallet.commands.check import ahead
from wallet.commands.wot import standing
from wallet.context import WalletContext
from wallet.errors import InputError, WalletError
from wallet.files import write_private_file as write_private
from wallet.journal import remember_sent, sent_documents
from wallet.keystore import write_new_keyfile
from wallet.licence import CERTIFYING, LICENCE
from wallet.revocation_file import BEGIN, END, read_revocation, revocation_text

NOW = 1_800_000_000
DAY = 86400
ALICE = dev_keypair("alice")
ALICE_KEY = pubkey_display(ALICE.public_key)
IDENTITY = sha256(b"alice's identity")
HEAD: dict[str, Any] = {
    "number": 41,
    "hash": "ab" * 32,
    "median_time": NOW,
    "time": NOW + 5,
    "issuer": ALICE_KEY,
}
Route = Any


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUNE_STATE_DIR", str(tmp_path / "state"))


class Node:
    """A mock node: answers by path (a value, a function of the request, or None for 404) and
    counts what it was asked."""

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = {"/node": {"currency": "dev", "head": HEAD}, **routes}
        self.asked: list[str] = []
        self.sent: list[bytes] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.asked.append(path)
        if request.method == "POST":
            self.sent.append(request.content)
        answer = self.routes.get(path)
        if callable(answer):
            answer = answer(request)
        if answer is None:
            answer = httpx.Response(404, json={"error": f"nothing at {path}"})
        elif not isinstance(answer, httpx.Response):
            answer = httpx.Response(200, json=answer)
        answer.headers[API_HEADER] = API_VERSION
        return answer

    def client(self) -> NodeClient:
        return NodeClient(["http://node"], transport=httpx.MockTransport(self.handle), verbose=False)


def run(node: Node, *args: str, keypair: Keypair | None = None) -> tuple[int, str, str]:
    """`june ARGS` on the mock node: (exit code, stdout, stderr) as `wallet.cli.main` gives them."""
    context = WalletContext(_client=node.client(), _keypair=keypair)
    result = CliRunner().invoke(june, ["--yes", *args], obj=context, standalone_mode=False)
    code, err = result.exit_code, result.stderr
    if isinstance(result.exception, WalletError):
        code, err = result.exception.exit_code, f"{err}error: {result.exception}\n"
    elif result.exception is not None:
        raise result.exception
    return code, result.stdout, err


def alice_identity(status: str = "member", revoked_on: int | None = None) -> dict[str, Any]:
    return {
        "uid": "alice",
        "pubkey": ALICE_KEY,
        "status": status,
        "written_on": 0,
        "identity_hash": hash_hex(IDENTITY),
        "revoked_on": revoked_on,
        "membership": None,
    }


def requirements(
    status: str = "member",
    *,
    expires_on: int = NOW + 50 * DAY,
    leaving: bool = False,
    certs: tuple[int, ...] = (100, 100, 100, 100),
) -> dict[str, Any]:
    return {
        "uid": "alice",
        "pubkey": ALICE_KEY,
        "status": status,
        "certifications": {
            "received": [
                {"issuer": f"key{i}", "uid": f"m{i}", "written_on": 0, "expires_on": NOW + days * DAY}
                for i, days in enumerate(certs)
            ],
            "pending": [],
            "issued": [],
            "needed": 3,
            "stock": 100,
        },
        "membership": {"expires_on": expires_on, "revokes_on": expires_on + 60 * DAY, "leaving": leaving},
        "membership_pending": False,
        "distance": {"sentries": 5, "reached": 5, "outdistanced": False, "x_percent": 0.8},
        "missing": [],
        "median_time": NOW,
    }


# --- revocation files -------------------------------------------------------------------------


def test_a_revocation_file_is_text_read_back_and_the_old_binary_still_reads(tmp_path: Path) -> None:
    document = Revocation.create(ALICE, "dev", IDENTITY)
    text = revocation_text(document, "alice")
    assert BEGIN in text and END in text and f"Public key: {ALICE_KEY}" in text and "Uid: alice" in text
    assert all(len(line) <= 100 for line in text.splitlines())
    read, headers = read_revocation(text.encode(), "f")
    assert read == document and headers["uid"] == "alice" and headers["currency"] == "dev"
    assert read_revocation(document.to_bytes(), "old")[0] == document
    with pytest.raises(InputError, match="not Base64"):
        read_revocation(text.replace(BEGIN + "\n", BEGIN + "\n*").encode(), "f")
    with pytest.raises(InputError, match="cut short"):
        read_revocation(text.split(END)[0].encode(), "f")
    with pytest.raises(InputError, match="no revocation"):
        read_revocation(b"hello", "f")
    other = base64.b64encode(b"\x83\x01\x02\x03").decode()
    with pytest.raises(InputError, match="no revocation"):
        read_revocation(f"{BEGIN}\n{other}\n{END}\n".encode(), "f")


def test_written_private_and_never_over_a_file(tmp_path: Path) -> None:
    path = tmp_path / "revocation.txt"
    write_private(path, "secret\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_text() == "secret\n"
    with pytest.raises(InputError, match="never overwrites"):
        write_private(path, "other\n")
    assert path.read_text() == "secret\n"


def _verify_node(identity: dict[str, Any] | None, pending: list[dict[str, Any]] | None = None) -> Node:
    return Node({f"/identities/{ALICE_KEY.partition(':')[0]}": identity, "/pending": pending or []})


def test_create_then_verify_then_refusals(tmp_path: Path) -> None:
    path = tmp_path / "alice.revocation"
    node = _verify_node(alice_identity())
    code, out, _err = run(node, "wot", "revocation", "create", str(path), keypair=ALICE)
    assert code == 0 and "written to" in out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_text().startswith("June revocation")
    code, _out, err = run(node, "wot", "revocation", "create", str(path), keypair=ALICE)
    assert code == 2 and "never overwrites" in err

    code, out, _err = run(node, "--json", "wot", "revocation", "verify", str(path))
    verdict = json.loads(out)
    assert code == 0 and verdict["valid"] and verdict["uid"] == "alice" and verdict["pubkey"] == ALICE_KEY
    assert verdict["signature_valid"] and verdict["currency"] == "dev" and not verdict["pending"]

    revoked = _verify_node(alice_identity("revoked", revoked_on=NOW - DAY))
    code, out, _err = run(revoked, "wot", "revocation", "verify", str(path))
    assert code == 3 and "already revoked (1 day ago" in out

    elsewhere = Node({**_verify_node(alice_identity()).routes, "/node": {"currency": "g1", "head": HEAD}})
    code, out, _err = run(elsewhere, "--json", "wot", "revocation", "verify", str(path))
    assert code == 3 and any("'g1'" in problem for problem in json.loads(out)["problems"])

    code, out, _err = run(_verify_node(None), "wot", "revocation", "verify", str(path))
    assert code == 3 and "knows no identity" in out

    forged = path.read_text().replace(ALICE_KEY, "x" * 44 + ":ABC", 1)
    tampered = tmp_path / "tampered"
    tampered.write_text(forged)
    code, out, _err = run(node, "--json", "wot", "revocation", "verify", str(tampered))
    assert code == 3 and "the header says public key" in json.loads(out)["problems"][0]
    tampered.unlink()
    tampered.write_text(path.read_text().replace(ALICE_KEY, ALICE_KEY.swapcase(), 1))
    code, out, _err = run(node, "--json", "wot", "revocation", "verify", str(tampered))
    assert code == 3 and "the header says public key" in json.loads(out)["problems"][0]


def test_a_bad_signature_is_caught(tmp_path: Path) -> None:
    document = Revocation.create(ALICE, "dev", IDENTITY)
    forged = Revocation(
        currency="dev", issuer=ALICE.public_key, identity=sha256(b"other"), signature=document.signature
    )
    path = tmp_path / "forged"
    path.write_text(revocation_text(forged, "alice"))
    code, out, _err = run(_verify_node(alice_identity()), "--json", "wot", "revocation", "verify", str(path))
    result = json.loads(out)
    assert (
        code == 3 and not result["signature_valid"] and "signature does not verify" in result["problems"][0]
    )


def test_publish_reads_the_text_file_and_notes_it_in_the_journal(tmp_path: Path) -> None:
    document = Revocation.create(ALICE, "dev", IDENTITY)
    path = tmp_path / "alice.revocation"
    path.write_text(revocation_text(document, "alice"))
    answer = {"result": "accepted", "hash": hash_hex(document.hash), "kind": "revocation"}
    node = Node({"/documents": answer})
    code, out, _err = run(node, "--json", "wot", "revocation", "publish", str(path))
    assert code == 0 and json.loads(out)["result"] == "accepted"
    assert node.sent == [document.to_bytes()]
    assert [(e["kind"], e["hash"]) for e in sent_documents()] == [("revocation", hash_hex(document.hash))]


def test_a_refusal_reads_its_times_as_moments(tmp_path: Path) -> None:
    refusal = httpx.Response(422, json={"error": f"valid at median time {NOW + 2 * DAY}", "rule": "BR_G67"})
    node = Node({f"/identities/{ALICE_KEY.partition(':')[0]}": alice_identity(), "/documents": refusal})
    code, _out, err = run(node, "wot", "revoke", keypair=ALICE)
    assert code == 1 and "valid in 2 days" in err and "BR_G67" in err


# --- where an identity stands -----------------------------------------------------------------


def test_each_standing_in_words() -> None:
    assert standing(requirements(), None).startswith("member (membership ends in 50 days")
    leaving = standing(requirements(leaving=True), None)
    assert leaving.startswith("member leaving (no renewal; membership ends in 50 days")
    assert standing(requirements("revoked"), NOW - 3 * DAY).startswith("revoked (3 days ago")
    excluded = standing(requirements("excluded", expires_on=NOW - DAY), None)
    assert (
        excluded.startswith("excluded (membership ended 1 day ago")
        and "join again before in 59 days" in excluded
    )
    assert standing({**requirements("pending"), "membership": None}, None).startswith("pending")


def test_warns_ahead_of_the_end() -> None:
    assert ahead(requirements(), 30) == []
    soon = ahead(requirements(expires_on=NOW + 10 * DAY), 30)
    assert [p["problem"] for p in soon] == ["membership"] and "june wot renew" in soon[0]["message"]
    few = ahead(requirements(certs=(100, 20, 10, 100)), 30)
    assert [p["problem"] for p in few] == ["certifications"]
    assert few[0]["live"] == 2 and few[0]["needed"] == 3 and "in 10 days" in few[0]["message"]
    assert ahead(requirements(expires_on=NOW + DAY, leaving=True), 30) == []  # their choice
    assert ahead(requirements("excluded"), 30) == []


def test_status_of_a_leaving_member_without_a_passphrase() -> None:
    node = Node({"/wot/alice/requirements": requirements(leaving=True, expires_on=NOW + 10 * DAY)})
    code, out, _err = run(node, "wot", "status", "alice")
    assert code == 0 and "member leaving (no renewal" in out and "warning" not in out
    code, out, _err = run(node, "--json", "wot", "status", "alice")
    shown = json.loads(out)
    assert shown["standing"].startswith("member leaving") and shown["warnings"] == []


def test_status_warns_by_itself() -> None:
    node = Node({"/wot/alice/requirements": requirements(expires_on=NOW + 10 * DAY)})
    code, out, _err = run(node, "wot", "status", "alice")
    assert code == 0 and "warning:" in out and "june wot renew" in out


# --- june check -------------------------------------------------------------------------------


def _check_node(needs: dict[str, Any]) -> Node:
    return Node({"/wot/alice/requirements": needs})


def test_check_all_good_then_membership_ending() -> None:
    code, out, _err = run(_check_node(requirements()), "check", "alice")
    assert code == 0 and out.startswith("all good")
    code, out, _err = run(_check_node(requirements()), "check", "alice", "--days", "60")
    assert code == 3 and "renew" in out
    code, out, _err = run(_check_node(requirements()), "--json", "check", "alice", "--days", "60")
    result = json.loads(out)
    assert code == 3 and not result["ok"] and [p["problem"] for p in result["problems"]] == ["membership"]


def test_check_reports_a_dropped_document_once_asked() -> None:
    remember_sent({"result": "accepted", "hash": "aa" * 32}, "certification", "certification of 'bob'")
    remember_sent({"result": "accepted", "hash": "bb" * 32}, "transaction", "payment to carol")
    remember_sent({"result": "accepted", "hash": "cc" * 32}, "identity", "identity 'alice'")
    statuses: dict[str, dict[str, Any]] = {
        "aa" * 32: {"state": "dropped", "reason": f"too late: void since median time {NOW - DAY}"},
        "bb" * 32: {"state": "written", "block": 40},
        "cc" * 32: {"state": "pending"},
    }
    routes = {f"/documents/{h}": {"hash": h, "reason": None, "block": None, **s} for h, s in statuses.items()}
    node = Node({"/wot/alice/requirements": requirements(), **routes})
    code, out, _err = run(node, "check", "alice")
    assert code == 3 and "certification of 'bob'" in out and "1 day ago" in out and "carol" not in out
    asked = [path for path in node.asked if path.startswith("/documents/")]
    assert len(asked) == 3
    node.asked.clear()
    code, _out, _err = run(node, "check", "alice")
    assert code == 3  # still reported, from the journal
    assert [path for path in node.asked if path.startswith("/documents/")] == [f"/documents/{'cc' * 32}"]


def test_check_of_someone_without_identity() -> None:
    code, out, _err = run(Node({}), "check", "nobody")
    assert code == 0 and "all good" in out


# --- blocks, difficulty, licence --------------------------------------------------------------


def _block(number: int) -> dict[str, Any]:
    issuer = ALICE_KEY if number % 2 else "B" * 44 + ":XYZ"
    return {
        "number": number,
        "hash": f"{number:064x}",
        "issuer": issuer,
        "time": NOW + number,
        "median_time": NOW,
        "members_count": 5,
        "dividend": 1000 if number == 40 else None,
        "unit_base": 0,
        "identities": [],
        "joiners": [],
        "certifications": [{"issuer": "a", "receiver": "b"}],
        "transactions": [],
    }


def _blocks(request: httpx.Request) -> list[dict[str, Any]]:
    start, count = int(request.url.params["from"]), int(request.url.params["count"])
    return [_block(n) for n in range(start, min(start + count, HEAD["number"] + 1))]


def test_blocks_names_issuers_once_and_pages() -> None:
    node = Node({"/blocks": _blocks, f"/identities/{ALICE_KEY.partition(':')[0]}": alice_identity()})
    code, out, _err = run(node, "blocks", "--last", "5")
    assert code == 0 and "alice" in out and "BBBBBBBB…:XYZ" in out and "10.00" in out
    assert node.asked.count(f"/identities/{ALICE_KEY.partition(':')[0]}") == 1
    assert node.asked.count(f"/identities/{'B' * 44}") == 1
    code, out, _err = run(node, "--full-pubkey", "blocks", "--last", "2")
    assert "B" * 44 in out
    code, out, _err = run(node, "--json", "blocks", "--from", "0", "--limit", "150")
    assert [b["number"] for b in json.loads(out)["blocks"]] == list(range(42))
    node.asked.clear()
    code, out, _err = run(node, "--json", "blocks", "--last", "250")
    assert code == 0 and len(json.loads(out)["blocks"]) == 42


def test_difficulty_table_and_json() -> None:
    answer = {
        "block": 42,
        "pow_min": 70,
        "difficulties": [
            {"pubkey": ALICE_KEY, "uid": "alice", "difficulty": 75, "blocks_in_frame": 3},
            {"pubkey": "B" * 44 + ":XYZ", "uid": None, "difficulty": 70, "blocks_in_frame": 1},
        ],
    }
    node = Node({"/difficulties": answer})
    code, out, _err = run(node, "--json", "difficulty")
    assert code == 0 and json.loads(out) == answer
    code, out, _err = run(node, "difficulty")
    assert code == 0 and out.index("BBBBBBBB…:XYZ") < out.index("alice") and "0000[0-4]" in out
    assert hash_pattern(70) == "0000[0-9]" and hash_pattern(64) == "0000[0-F]"
    code, _out, _err = run(Node({}), "difficulty")
    assert code == 1


def test_the_licence_is_shown_whole_and_certify_uses_it() -> None:
    code, out, _err = run(Node({}), "licence")
    assert code == 0 and out.strip() == LICENCE.strip() and CERTIFYING in LICENCE
    assert "revocation" in CERTIFYING and "one identity" in CERTIFYING


def test_reads_of_your_own_account_need_no_passphrase(tmp_path: Path) -> None:
    key_file = tmp_path / "key.json"
    write_new_keyfile(key_file, ALICE, "a long enough passphrase")
    base58 = ALICE_KEY.partition(":")[0]
    node = Node({f"/wot/{base58}/requirements": requirements()})
    code, out, _err = run(node, "--key-file", str(key_file), "wot", "status")
    assert code == 0 and out.startswith("alice") and "member (membership ends" in out
    code, out, _err = run(node, "--key-file", str(key_file), "check", "--days", "10")
    assert code == 0 and "all good" in out
