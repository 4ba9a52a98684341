"""Issue 14's rules as an auditor meets them: `juned audit` (a real process) replays a chain where an
excluded member comes back with fresh certifications in her JOIN's block (Duniter's
coming-back-with-less-than-sigqty), and names BR_G69 when the same certifications come without it."""

import json
from pathlib import Path

from tests.cli import run
from tests.node.audit.helpers import write
from tests.protocol.rules.test_duniter_returning_member import excluded_chain, fresh


def test_juned_audit_accepts_a_return_and_names_certifications_without_the_join(tmp_path: Path) -> None:
    chain = excluded_chain()
    renewal, second = fresh(chain)
    back = chain.block(joiners=[chain.membership("carol")], certifications=[renewal, second])
    without_join = chain.block(certifications=[second])
    height = len(chain.blocks)

    valid = run(
        "juned", "audit", "--chain", str(write(tmp_path / "back.chain", [*chain.blocks, back])), "--json"
    )
    assert valid.returncode == 0, valid.stderr
    report = json.loads(valid.stdout)
    assert report["verdict"] == "valid" and report["members"]["now"] == 3

    path = write(tmp_path / "without-join.chain", [*chain.blocks, without_join])
    invalid = run("juned", "audit", "--chain", str(path), "--json")
    assert invalid.returncode == 1, invalid.stderr
    first = json.loads(invalid.stdout)["first_violation"]
    assert (first["height"], first["code"]) == (height, "BR_G69")
