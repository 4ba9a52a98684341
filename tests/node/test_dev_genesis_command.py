"""`juned dev-genesis`: the README's main job until the devnet exists."""

import json
from pathlib import Path

from protocol.genesis import GenesisDescription
from tests.cli import run


def test_json_output_describes_a_verified_genesis(tmp_path: Path) -> None:
    out = tmp_path / "genesis.cbor"
    result = run(
        "juned", "dev-genesis", "--members", "4", "--time", "1700000000", "--json", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert [m["uid"] for m in summary["members"]] == ["alice", "bob", "carol", "dave"]
    assert all(m["certifications_received"] == 3 for m in summary["members"])
    assert summary["signatures_verified"] == 4 + 4 + 12
    written = GenesisDescription.from_bytes(out.read_bytes())
    written.check()
    assert summary["hash"] == written.hash.hex().upper()
    assert len(summary["block0"]["hash"]) == 64


def test_text_output_and_refusals(tmp_path: Path) -> None:
    result = run("juned", "dev-genesis", "--time", "1700000000")
    assert result.returncode == 0, result.stderr
    assert "alice" in result.stdout and "signatures verified" in result.stdout
    out = tmp_path / "g.cbor"
    out.write_bytes(b"keep")
    refused = run("juned", "dev-genesis", "--out", str(out))
    assert refused.returncode == 1 and "already exists" in refused.stderr
    assert out.read_bytes() == b"keep"
    assert run("juned", "dev-genesis", "--members", "2").returncode == 2
