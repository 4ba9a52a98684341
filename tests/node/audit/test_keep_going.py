"""--keep-going: every violation is listed; the state goes on where the block's effect is still
defined (bad signatures, a wrong digest), and only stateless checks run where it is not."""

from dataclasses import replace
from pathlib import Path

from protocol.crypto import Hash
from tests.node.audit.helpers import audit_blocks, force, fork, resigned
from tests.protocol.chain_builder import Chain


def test_digest_and_signature_faults_are_all_listed_and_the_replay_goes_on(
    tmp_path: Path, history: Chain
) -> None:
    chain = fork(history)
    start = len(chain.blocks)
    force(chain, chain.block(state_digest=Hash(bytes([9]) * 32)))
    chain.write()
    tx = chain.pay("alice", {"bob": 100})
    forged = replace(tx, signatures=(chain.keys["bob"].sign(tx.signing_message()),))
    force(chain, chain.block(transactions=[forged]))
    for _ in range(3):
        chain.write()
    stopped = audit_blocks(tmp_path, chain.blocks, workers=2)
    assert [(v.height, v.code) for v in stopped.violations] == [(start, "BR_STATE_DIGEST")]
    assert stopped.blocks_read == start + 1
    report = audit_blocks(tmp_path, chain.blocks, workers=2, keep_going=True)
    assert [(v.height, v.code) for v in report.violations] == [
        (start, "BR_STATE_DIGEST"),
        (start + 2, "checkTxSignature"),
    ]
    assert report.rules_stopped_at is None
    assert report.blocks_read == report.replayed == len(chain.blocks)
    assert report.state_digest == chain.state.state_digest()
    assert report.verdict == "invalid"


def test_after_a_rule_violation_only_signatures_and_local_rules_are_checked(
    tmp_path: Path, history: Chain
) -> None:
    """Block 10 writes a wrong member count; block 20 is signed by the wrong key; block 24
    breaks a local rule. The state after block 10 is unknown, so the rules stop there."""
    blocks = list(history.blocks)
    chain = fork(history)
    while len(chain.blocks) > 10:
        chain.revert()
    blocks[10] = chain.block(members_count=99, time=blocks[10].time)
    blocks[20] = replace(blocks[20], signature=history.keys["bob"].sign(blocks[20].signing_message()))
    chain = fork(history)
    while len(chain.blocks) > 24:
        chain.revert()
    blocks[24] = resigned(chain, blocks[24], parameters=chain.params)  # parameters after block 0
    report = audit_blocks(tmp_path, blocks, keep_going=True)
    assert [(v.height, v.code) for v in report.violations] == [
        (10, "BR_G60"),
        (20, "checkBlockSignature"),
        (24, "checkParameters"),
    ]
    assert report.rules_stopped_at == 10
    assert report.replayed == 10 and report.blocks_read == len(blocks)
    assert report.head_height == 9
