"""Founding a currency as its founders would: real `june` and `juned` processes, real key files.

Six founders each generate a key, sign their identity and certify the five others with `june
found`; one assembles block 0 with `juned found`, and `juned init` starts a node from it. The
founders' steps run side by side (each on its own files), as they would on six machines.
"""

import json
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli import run

CURRENCY = "tiers-lieux"
OTHER_CURRENCY = "autre-monnaie"
TIME = 1_800_000_000
PASSPHRASE = "founding-passphrase"
FOUNDERS = ("ana", "ben", "cleo", "dan", "eli", "fay")


@dataclass(frozen=True)
class Ceremony:
    """The files of a finished ceremony: each founder's key, identity and certifications."""

    root: Path
    foreign_certifications: Path  # ana's certification of a stranger in another currency
    stranger_key: Path

    def key(self, uid: str) -> Path:
        return self.root / f"{uid}.key"

    def identity(self, uid: str) -> Path:
        return self.root / f"{uid}.identity"

    def certifications(self, uid: str) -> Path:
        return self.root / f"{uid}.certifications"

    def files(self, *, without_certifications_of: str = "") -> list[str]:
        return [str(self.identity(u)) for u in FOUNDERS] + [
            str(self.certifications(u)) for u in FOUNDERS if u != without_certifications_of
        ]


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stderr
    return result


def june_all(commands: Sequence[tuple[str, ...]]) -> list[subprocess.CompletedProcess[str]]:
    """Run `june` commands side by side, each given the passphrase on standard input."""
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        return [ok(r) for r in pool.map(lambda args: run("june", *args, stdin=PASSPHRASE + "\n"), commands)]


@pytest.fixture(scope="module")
def ceremony(tmp_path_factory: pytest.TempPathFactory) -> Ceremony:
    root = tmp_path_factory.mktemp("founding")
    done = Ceremony(root, root / "ana.foreign-certifications", root / "stranger.key")
    everyone = [*FOUNDERS, "stranger"]
    june_all([("keys", "generate", "--file", str(root / f"{uid}.key")) for uid in everyone])

    def identity(key: Path, uid: str, currency: str, out: Path) -> tuple[str, ...]:
        return ("--key-file", str(key), "found", "identity", uid, "--currency", currency, "--out", str(out))

    def certify(key: Path, identities: list[Path], out: Path) -> tuple[str, ...]:
        return ("--key-file", str(key), "--yes", "found", "certify", *map(str, identities), "--out", str(out))

    stranger_identity = root / "stranger.identity"
    june_all(
        [identity(done.key(uid), uid, CURRENCY, done.identity(uid)) for uid in FOUNDERS]
        + [identity(done.stranger_key, "zoe", OTHER_CURRENCY, stranger_identity)]
    )
    june_all(
        [
            certify(done.key(uid), [done.identity(o) for o in FOUNDERS if o != uid], done.certifications(uid))
            for uid in FOUNDERS
        ]
        + [certify(done.key("ana"), [stranger_identity], done.foreign_certifications)]
    )
    return done


def found(
    ceremony: Ceremony, out: Path, *args: str, key: str = "ana", passphrase: str = PASSPHRASE
) -> subprocess.CompletedProcess[str]:
    return run(
        "juned",
        "found",
        "--currency",
        CURRENCY,
        "--params",
        "g1",
        "--time",
        str(TIME),
        "--key-file",
        str(ceremony.key(key) if key != "stranger" else ceremony.stranger_key),
        "--out",
        str(out),
        *args,
        stdin=passphrase + "\n",
    )


def test_six_founders_found_a_currency_a_node_starts_from(ceremony: Ceremony, tmp_path: Path) -> None:
    identity = ceremony.identity("ana").read_text()
    assert f"Currency: {CURRENCY}\nUid: ana\n" in identity
    assert ceremony.identity("ana").stat().st_mode & 0o777 == 0o644
    chain = tmp_path / "chain.june"
    summary = json.loads(ok(found(ceremony, chain, "--json", *reversed(ceremony.files()))).stdout)
    assert summary["currency"] == CURRENCY
    assert summary["preset"] == "g1" and summary["parameters"]["sig_qty"] == 5
    assert summary["parameters"]["ud_time0"] == TIME + 86400
    assert [f["uid"] for f in summary["founders"]] == sorted(FOUNDERS)
    assert all(f["certifications_received"] == 5 for f in summary["founders"])
    assert summary["issuer"]["uid"] == "ana" and summary["certifications"] == 30

    datadir = tmp_path / "node"
    ok(run("juned", "init", "--datadir", str(datadir), "--genesis", str(chain)))
    status = json.loads(ok(run("juned", "status", "--datadir", str(datadir), "--json")).stdout)
    assert status["currency"] == CURRENCY
    assert status["genesis"] == summary["genesis"]
    assert status["members"] == 6
    assert status["head"]["number"] == 0 and status["head"]["median_time"] == TIME


def test_a_founder_without_certifications_is_named(ceremony: Ceremony, tmp_path: Path) -> None:
    chain = tmp_path / "chain.june"
    refused = found(ceremony, chain, *ceremony.files(without_certifications_of="dan"))
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        "error: dan has an identity file but no certification file (6 founders, 5 certification files)"
    ]
    assert not chain.exists()


def test_other_currency_outsider_issuer_and_wrong_passphrase_are_refused(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    chain = tmp_path / "chain.june"
    refused = found(ceremony, chain, *ceremony.files(), str(ceremony.foreign_certifications))
    assert refused.returncode == 1
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith(f"error: {ceremony.foreign_certifications}: certifications by ")
    assert line.endswith(f"for currency {OTHER_CURRENCY!r}, not {CURRENCY!r}")
    outsider = found(ceremony, chain, *ceremony.files(), key="stranger")
    assert outsider.returncode == 1
    assert "who is not among the founders" in outsider.stderr
    wrong = found(ceremony, chain, *ceremony.files(), passphrase="not the passphrase")
    assert wrong.returncode == 1
    assert wrong.stderr.strip().splitlines() == [
        f"error: key file {ceremony.key('ana')}: wrong passphrase, or the key file is damaged"
    ]
    assert not chain.exists()


def test_founder_commands_refuse_oneself_mixtures_and_overwrites(ceremony: Ceremony) -> None:
    ana = ("--key-file", str(ceremony.key("ana")), "--yes", "found")
    own = run("june", *ana, "certify", str(ceremony.identity("ana")), "--out", str(ceremony.root / "x"))
    assert own.returncode == 2 and "your own identity (ana)" in own.stderr
    mixed = run(
        "june",
        *ana,
        "certify",
        str(ceremony.identity("ben")),
        str(ceremony.root / "stranger.identity"),
        "--out",
        str(ceremony.root / "x"),
        stdin=PASSPHRASE + "\n",
    )
    assert mixed.returncode == 2 and "several currencies" in mixed.stderr
    wrong_kind = run(
        "june", *ana, "certify", str(ceremony.certifications("ben")), "--out", str(ceremony.root / "x")
    )
    assert wrong_kind.returncode == 2 and "is a certification file" in wrong_kind.stderr
    before = ceremony.identity("ana").read_text()
    again = run(
        "june", *ana, "identity", "ana", "--currency", CURRENCY, "--out", str(ceremony.identity("ana"))
    )
    assert again.returncode == 2 and "never overwrites" in again.stderr
    assert ceremony.identity("ana").read_text() == before
    assert not (ceremony.root / "x").exists()
