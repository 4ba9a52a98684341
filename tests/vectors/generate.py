"""Write June's consensus test vectors under `tests/vectors/` (format: `tests/vectors/README.md`).

Each case is a chain built with the rule tests' chain builder, a block on its head, and June's
verdict on that block: `valid` with the state digest after it, or `invalid` with the rule code.
The generator checks every verdict against the one the case expects before writing it.

    .venv/bin/python -m tests.vectors.generate          # (re)write the files
    .venv/bin/python -m tests.vectors.generate --check  # exit 1 if the files are out of date
"""

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from protocol.conditions import sig_condition
from protocol.crypto import sha256
from protocol.documents import (
    Block,
    DividendSource,
    Input,
    MembershipType,
    Output,
    SigProof,
    TransactionSource,
    XhxProof,
)
from protocol.errors import RuleViolation
from protocol.forge import prove, required_difficulty
from protocol.rules.block import validate_block
from protocol.rules.production import is_hash_valid
from protocol.state import MemoryState
from tests.protocol.chain_builder import START, Chain, chain_parameters

FORMAT = "june-vectors/1"
ROOT = Path(__file__).resolve().parent
DAY = 86400
FOUNDERS = ("alice", "bob", "carol", "dave")


@dataclasses.dataclass(frozen=True)
class Case:
    """One vector: `block` checked on the state of `pre_chain`; `code` None means valid."""

    name: str
    area: str
    description: str
    pre_chain: tuple[Block, ...]
    block: Block
    code: str | None
    summary: dict[str, Any]
    parameters: dict[str, Any]
    digest: str | None


class Recorder:
    """Collects the cases of one area, checking each verdict with `validate_block`."""

    def __init__(self, area: str) -> None:
        self.area = area
        self.cases: list[Case] = []

    def case(self, chain: Chain, name: str, description: str, block: Block, code: str | None = None) -> None:
        digest: str | None = None
        try:
            delta = validate_block(chain.state, block)
        except RuleViolation as violation:
            if violation.code != code:
                raise AssertionError(f"{name}: expected {code or 'valid'}, got {violation}") from None
        else:
            if code is not None:
                raise AssertionError(f"{name}: expected {code}, the block is valid")
            digest = delta.digest.hex()
        self.cases.append(
            Case(
                name=name,
                area=self.area,
                description=description,
                pre_chain=tuple(chain.blocks),
                block=block,
                code=code,
                summary=summarize(chain),
                parameters=dataclasses.asdict(chain.params),
                digest=digest,
            )
        )

    def valid(self, chain: Chain, name: str, description: str, **content: Any) -> None:
        """A valid block, recorded and then added to the chain."""
        block = chain.block(**content)
        self.case(chain, name, description, block)
        chain.add(block)

    def invalid(self, chain: Chain, name: str, code: str, description: str, **content: Any) -> None:
        self.case(chain, name, description, chain.block(**content), code)


def summarize(chain: Chain) -> dict[str, Any]:
    """The human-readable pre-state: head, members (uid and key), money."""
    state = chain.state
    head = state.head()
    assert head is not None
    members = []
    for key in state.members():
        identity = state.identity(key)
        assert identity is not None
        members.append({"uid": identity.uid, "pubkey": key.hex()})
    return {
        "head_number": head.number,
        "head_hash": chain.blocks[-1].hash.hex(),
        "head_median_time": head.median_time,
        "members_count": head.members_count,
        "members": sorted(members, key=lambda m: m["uid"]),
        "monetary_mass": head.mass,
        "dividend": head.dividend,
        "unit_base": head.unit_base,
        "state_digest": state.state_digest().hex(),
    }


def resigned(chain: Chain, block: Block, issuer: str = "alice", **changes: Any) -> Block:
    """`block` with `changes`, proven and signed again, so that only the changed rule can fail."""
    changed = replace(block, **changes)
    nonce = prove(changed, required_difficulty(chain.state, changed))
    assert nonce is not None
    return changed.signed(chain.keys[issuer], nonce)


def newcomer(
    chain: Chain, name: str, certifiers: tuple[str, ...] = ("alice", "bob", "carol")
) -> dict[str, Any]:
    """The documents of `name` joining with certifications from `certifiers`."""
    return {
        "identities": [chain.identity(name)],
        "joiners": [chain.membership(name)],
        "certifications": [chain.cert(c, name) for c in certifiers],
    }


# Areas -----------------------------------------------------------------------------------------


def wot_cases() -> list[Case]:
    r = Recorder("wot")
    chain = Chain(founders=4)
    r.case(chain, "empty_block_on_genesis", "An empty block after block 0.", chain.block())
    r.invalid(
        chain,
        "wrong_state_digest",
        "BR_STATE_DIGEST",
        "The header's state digest is not the digest after the block.",
        state_digest=sha256(b"wrong"),
    )
    chain.advance(chain.params.sig_period + 1)
    r.invalid(
        chain,
        "BR_G79_newcomer_short_of_certifications",
        "BR_G79",
        "eve has 2 of sigQty 3.",
        **newcomer(chain, "eve", ("alice", "bob")),
    )
    r.invalid(
        chain,
        "BR_G78_member_joins_again",
        "BR_G78",
        "bob is a member already.",
        joiners=[chain.membership("bob")],
    )
    chain.identity("eve")
    r.invalid(
        chain,
        "BR_G69_receiver_not_member_nor_newcomer",
        "BR_G69",
        "A certification to eve, whose identity is not written.",
        certifications=[chain.cert("alice", "eve")],
    )
    r.invalid(
        chain,
        "BR_G71_replay_before_sig_replay",
        "BR_G71",
        "alice certifies bob again within sigReplay.",
        certifications=[chain.cert("alice", "bob")],
    )
    r.valid(
        chain,
        "newcomer_joins",
        "eve joins with 3 certifications.",
        **newcomer(chain, "eve", ("bob", "carol", "dave")),
    )
    r.invalid(
        chain,
        "BR_G67_sig_period",
        "BR_G67",
        "bob certified in the previous block, within sigPeriod.",
        certifications=[chain.cert("bob", "alice")],
    )
    r.invalid(
        chain,
        "BR_G108_renewal_within_ms_period",
        "BR_G108",
        "eve renews right after joining.",
        actives=[chain.membership("eve")],
    )
    r.invalid(
        chain,
        "BR_G68_issuer_not_member",
        "BR_G68",
        "frank (no identity) certifies eve.",
        certifications=[chain.cert("frank", "eve")],
    )
    r.valid(
        chain,
        "certification_after_sig_period",
        "alice certifies eve; her last certification is old.",
        certifications=[chain.cert("alice", "eve")],
    )
    chain.advance(chain.params.ms_period + 10)
    r.valid(chain, "leave", "eve leaves.", leavers=[chain.membership("eve", MembershipType.OUT)])
    r.invalid(
        chain,
        "BR_G70_certification_to_a_leaver",
        "BR_G70",
        "A certification to eve, who is leaving.",
        certifications=[chain.cert("carol", "eve")],
    )
    chain.advance(chain.params.ms_period // 2)
    r.invalid(
        chain,
        "BR_G108_renewal_within_ms_period_of_a_leave",
        "BR_G108",
        "A leave starts a new msPeriod (issue 14 item 6).",
        actives=[chain.membership("eve")],
    )
    chain.advance(chain.params.ms_period)
    r.valid(
        chain,
        "renewal_after_ms_period_of_a_leave",
        "eve renews one msPeriod after her leave.",
        actives=[chain.membership("eve")],
    )
    r.valid(
        chain,
        "revocation",
        "eve revokes her identity and is excluded.",
        revocations=[chain.revocation("eve")],
    )
    r.invalid(
        chain,
        "BR_G83_revoked_twice",
        "BR_G83",
        "eve's identity is revoked already.",
        revocations=[chain.revocation("eve")],
    )
    r.invalid(
        chain, "BR_G85_excluded_not_member", "BR_G85", "eve is excluded again.", excluded=[chain.key("eve")]
    )

    # Membership expiry and exclusion.
    chain = Chain(founders=4, params=chain_parameters(ms_validity=20 * DAY, sig_validity=400 * DAY))
    chain.advance(chain.params.sig_period + 1)
    chain.write(**newcomer(chain, "eve"))
    chain.advance(chain.params.ms_validity - 10 * DAY)
    chain.write(actives=[chain.membership(n) for n in FOUNDERS])
    while chain.key("eve") not in set(chain.state.members_to_kick()):
        head = chain.state.head()
        assert head is not None
        chain.write(time=head.median_time + DAY)
    r.invalid(
        chain,
        "BR_G86_exclusion_missing",
        "BR_G86",
        "eve's membership expired: she must be excluded.",
        excluded=[],
    )
    r.valid(chain, "exclusion", "eve is excluded for her expired membership.")
    r.valid(
        chain,
        "returning_member_with_standing_certifications",
        "eve comes back with her JOIN alone.",
        joiners=[chain.membership("eve")],
    )

    # Coming back with fresh certifications (BR_G69, issue 14 item 1).
    chain = Chain(founders=3, params=chain_parameters(sig_qty=2, sig_validity=10 * DAY))
    chain.advance(5 * DAY)
    for issuer, receiver in (("bob", "alice"), ("carol", "bob"), ("alice", "carol")):
        chain.write(certifications=[chain.cert(issuer, receiver)])
    chain.advance(chain.params.sig_period + 1)
    for issuer, receiver in (("carol", "alice"), ("alice", "bob")):
        chain.write(certifications=[chain.cert(issuer, receiver)])
    while chain.key("carol") not in set(chain.state.members_to_kick()):
        head = chain.state.head()
        assert head is not None
        chain.write(time=head.median_time + DAY // 4)
    chain.write()  # excludes carol
    renewal, second = chain.cert("alice", "carol"), chain.cert("bob", "carol")
    r.invalid(
        chain,
        "BR_G69_returning_certifications_without_join",
        "BR_G69",
        "Certifications to the excluded carol without her JOIN.",
        certifications=[renewal, second],
    )
    r.invalid(
        chain,
        "BR_G79_returning_member_short_of_certifications",
        "BR_G79",
        "carol's JOIN with alice's renewal only (sigQty 2).",
        joiners=[chain.membership("carol")],
        certifications=[renewal],
    )
    r.valid(
        chain,
        "returning_member_with_fresh_certifications",
        "carol's JOIN with two certifications (Duniter's coming-back-with-less-than-sigqty).",
        joiners=[chain.membership("carol")],
        certifications=[renewal, second],
    )

    # The distance rule, stepMax 2, sigQty 1: the founders are the sentries (dSen 3 with 5 members).
    chain = Chain(founders=4, params=chain_parameters(sig_qty=1, step_max=2))
    chain.advance(chain.params.sig_period + 1)
    chain.write(**newcomer(chain, "eve", ("alice",)))
    chain.advance(chain.params.sig_period + 1)
    r.invalid(
        chain,
        "BR_G76_distance",
        "BR_G76",
        "frank certified by eve alone is 3 steps from 3 of the 4 sentries (stepMax 2).",
        **newcomer(chain, "frank", ("eve",)),
    )
    r.valid(
        chain,
        "distance_met",
        "frank certified by bob is within 2 steps of the 4 sentries.",
        **newcomer(chain, "frank", ("bob",)),
    )
    return r.cases


def first_dividend(chain: Chain) -> None:
    """Write blocks until the one before the first UD."""
    while chain.block(time=START + DAY).dividend is None:
        chain.write(time=START + DAY)


def money_cases() -> list[Case]:
    r = Recorder("money")
    chain = Chain(founders=4)
    r.invalid(chain, "BR_G58_dividend_not_due", "BR_G58", "A dividend written before udTime0.", dividend=1000)
    r.invalid(chain, "BR_G59_unit_base", "BR_G59", "A wrong unit base.", unit_base=1)
    r.invalid(chain, "BR_G60_members_count", "BR_G60", "A wrong members count.", members_count=5)
    first_dividend(chain)
    r.invalid(
        chain,
        "BR_G58_wrong_dividend",
        "BR_G58",
        "The first UD written as 999.",
        time=START + DAY,
        dividend=999,
    )
    r.valid(chain, "first_dividend", "The first UD: ud0 to each of the 4 members.", time=START + DAY)
    number = chain.blocks[-1].number
    alice, bob = chain.key("alice"), chain.key("bob")

    tx = chain.pay("alice", {"bob": 300})
    r.invalid(
        chain,
        "checkTxSources_double_spend_in_block",
        "checkTxSources",
        "alice spends her UD twice in one block.",
        transactions=[tx, chain.pay("alice", {"carol": 300})],
    )
    r.invalid(
        chain,
        "BR_G88_spend_of_another_key",
        "BR_G88",
        "bob signs for alice's UD.",
        transactions=[
            chain.transaction(
                ["bob"],
                [Input(1000, 0, DividendSource(alice, number))],
                [Output(1000, 0, sig_condition(bob))],
            )
        ],
    )
    r.invalid(
        chain,
        "BR_G87_amount_claimed",
        "BR_G87",
        "bob claims 2000 from his 1000 UD.",
        transactions=[
            chain.transaction(
                ["bob"], [Input(2000, 0, DividendSource(bob, number))], [Output(2000, 0, sig_condition(bob))]
            )
        ],
    )
    r.invalid(
        chain,
        "checkTxAmounts",
        "checkTxAmounts",
        "Outputs above the inputs.",
        transactions=[chain.transaction(["alice"], tx.inputs, [Output(5000, 0, sig_condition(bob))])],
    )
    r.invalid(
        chain,
        "checkTxSignature",
        "checkTxSignature",
        "alice's transaction signed by bob.",
        transactions=[replace(tx, signatures=(chain.keys["bob"].sign(tx.signing_message()),))],
    )
    r.invalid(
        chain,
        "BR_G89_locktime",
        "BR_G89",
        "A transaction locked for 10 days.",
        transactions=[replace(tx, locktime=10 * DAY).signed_by(chain.keys["alice"])],
    )
    r.invalid(
        chain,
        "BR_G90_output_base",
        "BR_G90",
        "An output of base 1 with unit base 0.",
        transactions=[chain.transaction(["alice"], tx.inputs, [Output(100, 1, sig_condition(bob))])],
    )
    r.valid(chain, "payment", "alice pays bob 300, keeps 700.", transactions=[tx])
    r.invalid(chain, "BR_G87_double_spend", "BR_G87", "alice's spent UD spent again.", transactions=[tx])

    first = chain.pay("carol", {"dave": 1000})
    second = chain.transaction(
        ["dave"],
        [Input(1000, 0, TransactionSource(first.hash, 0))],
        [Output(1000, 0, sig_condition(chain.key("alice")))],
    )
    r.valid(
        chain,
        "chaining_in_block",
        "carol pays dave, who pays alice in the same block.",
        transactions=[first, second],
    )

    # Unlock conditions: XHX && CSV, CLTV, SIG of an unnamed issuer with XHX (issue 14 item 3).
    password = "open-sesame"
    hashed = sha256(password.encode()).hex().upper()
    bob_sources = chain.sources("bob")
    inputs = [Input(a, b, s) for s, a, b in bob_sources]
    total = sum(a * 10**b for _s, a, b in bob_sources)
    head = chain.state.head()
    assert head is not None
    cltv = head.median_time + 2 * DAY
    outputs = [
        Output(100, 0, f"XHX({hashed}) && CSV(3600)"),
        Output(100, 0, f"SIG({_b58(chain, 'dave')}) && CLTV({cltv})"),
        Output(100, 0, f"SIG({_b58(chain, 'carol')}) || XHX({hashed})"),
        Output(total - 300, 0, sig_condition(bob)),
    ]
    locking = chain.transaction(["bob"], inputs, outputs)
    r.valid(
        chain,
        "locking_outputs",
        "bob locks 100 by XHX && CSV, 100 by SIG && CLTV, 100 by SIG || XHX.",
        transactions=[locking],
    )

    def claim(index: int, signer: str, proofs: tuple[Any, ...]) -> Any:
        unsigned = chain.transaction(
            [signer],
            [Input(100, 0, TransactionSource(locking.hash, index))],
            [Output(100, 0, sig_condition(chain.key(signer)))],
        )
        return replace(unsigned, unlocks=(proofs,)).signed_by(chain.keys[signer])

    r.invalid(
        chain,
        "BR_G88_csv_not_elapsed",
        "BR_G88",
        "XHX(password) && CSV(3600) before 3600 s.",
        transactions=[claim(0, "dave", (XhxProof(password),))],
    )
    r.invalid(
        chain,
        "BR_G88_xhx_wrong_password",
        "BR_G88",
        "SIG(carol) || XHX with a wrong password.",
        transactions=[claim(2, "dave", (XhxProof("wrong"),))],
    )
    r.invalid(
        chain,
        "BR_G88_sig_of_unnamed_issuer_alone",
        "BR_G88",
        "SIG(carol) || XHX: dave's SIG(0) alone does not unlock.",
        transactions=[claim(2, "dave", (SigProof(0),))],
    )
    r.valid(
        chain,
        "sig_of_unnamed_issuer_with_xhx",
        "SIG(carol) || XHX: dave's SIG(0) and XHX(password) unlock.",
        transactions=[claim(2, "dave", (SigProof(0), XhxProof(password)))],
    )
    r.invalid(
        chain,
        "BR_G88_cltv_not_reached",
        "BR_G88",
        "CLTV two days ahead.",
        transactions=[claim(1, "dave", (SigProof(0),))],
    )
    chain.advance(3600)
    r.valid(
        chain,
        "csv_elapsed",
        "XHX(password) && CSV(3600) after 3600 s.",
        transactions=[claim(0, "dave", (XhxProof(password),))],
    )
    chain.advance(2 * DAY)
    r.valid(
        chain, "cltv_reached", "SIG(dave) && CLTV reached.", transactions=[claim(1, "dave", (SigProof(0),))]
    )
    stale = chain.pay("alice", {"bob": 100})
    chain.advance(chain.params.tx_window + 100)
    r.invalid(
        chain,
        "BR_G103_transaction_window",
        "BR_G103",
        "A transaction older than txWindow.",
        transactions=[stale],
    )
    return r.cases


def _b58(chain: Chain, name: str) -> str:
    """The key as written in a SIG condition."""
    text = sig_condition(chain.key(name))
    return text[text.index("(") + 1 : text.index(")")]


def production_cases() -> list[Case]:
    r = Recorder("production")
    chain = Chain(founders=4)
    block = chain.block()
    r.case(
        chain,
        "checkBlockTimes_before_median",
        "Time before the median time.",
        resigned(chain, block, time=block.median_time - 1),
        "checkBlockTimes",
    )
    r.case(
        chain,
        "checkBlockTimes_past_max_acceleration",
        "Time past medianTime + maxAcceleration.",
        resigned(chain, block, time=block.median_time + chain.params.max_acceleration + 1),
        "checkBlockTimes",
    )
    difficulty = required_difficulty(chain.state, block)
    nonce = next(n for n in range(1000) if not is_hash_valid(replace(block, nonce=n).hash, difficulty))
    r.case(
        chain,
        "BR_G62_personal_difficulty",
        f"A proof short of alice's difficulty {difficulty}.",
        block.signed(chain.keys["alice"], nonce),
        "BR_G62",
    )
    for offset in (10, 50, 30, 70):
        head = chain.state.head()
        assert head is not None
        r.valid(
            chain,
            f"median_time_offset_{offset}",
            f"A block {offset} s after the median time.",
            time=head.median_time + offset,
            issuer=FOUNDERS[offset % 4],
        )
    block = chain.block()
    r.case(
        chain,
        "BR_G57_median_time",
        "The median time one second off.",
        resigned(chain, block, median_time=block.median_time + 1, time=block.time + 1),
        "BR_G57",
    )
    for name in ("alice", "bob", "carol", "bob", "alice", "dave", "carol"):
        chain.write(issuer=name)
    block = chain.block()
    r.case(
        chain,
        "BR_G54_issuers_count",
        "issuersCount off by one.",
        resigned(chain, block, issuers_count=block.issuers_count + 1),
        "BR_G54",
    )
    r.case(
        chain,
        "BR_G55_issuers_frame",
        "issuersFrame off by one.",
        resigned(chain, block, issuers_frame=block.issuers_frame + 1),
        "BR_G55",
    )
    r.case(
        chain,
        "BR_G56_issuers_frame_var",
        "issuersFrameVar off by one.",
        resigned(chain, block, issuers_frame_var=block.issuers_frame_var - 1),
        "BR_G56",
    )
    r.case(chain, "issuers_frame_valid", "A block by alice after this frame of issuers.", block)

    chain = Chain(founders=4)
    for index in range(40):  # faster than avgGenTime: powMin rises every dtDiffEval blocks
        head = chain.state.head()
        assert head is not None
        chain.write(issuer=FOUNDERS[index % 4], time=head.median_time + 1)
    block = chain.block(issuer="bob")
    r.case(
        chain,
        "BR_G61_pow_min",
        f"powMin {block.pow_min} written as {block.pow_min + 1}.",
        resigned(chain, block, "bob", pow_min=block.pow_min + 1),
        "BR_G61",
    )
    r.case(chain, "pow_min_risen", f"A block by bob at powMin {block.pow_min}.", block)
    alice = chain.block(issuer="alice")
    r.case(
        chain,
        "personal_difficulty_handicap",
        f"alice, frequent issuer: difficulty {required_difficulty(chain.state, alice)}.",
        alice,
    )
    return r.cases


AREAS: dict[str, Callable[[], list[Case]]] = {
    "wot": wot_cases,
    "money": money_cases,
    "production": production_cases,
}


# Files -----------------------------------------------------------------------------------------


def chain_id(blocks: tuple[Block, ...]) -> str:
    """A pre-chain's file name: its head block's hash (which commits to every block before it)."""
    return blocks[-1].hash.hex()[:16]


def dump(value: dict[str, Any]) -> str:
    """JSON with one top-level field a line, each value compact; list fields one item a line."""

    def compact(item: Any) -> str:
        return json.dumps(item, separators=(",", ":"), ensure_ascii=False)

    lines = []
    for key, item in value.items():
        if isinstance(item, list) and item:
            rows = ",\n  ".join(compact(row) for row in item)
            lines.append(f" {compact(key)}: [\n  {rows}\n ]")
        else:
            lines.append(f" {compact(key)}: {compact(item)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def generate() -> dict[str, str]:
    """Every vector file, by path relative to `tests/vectors/`."""
    cases = [case for build in AREAS.values() for case in build()]
    # Each pre-chain is stored once, in the longest stored chain it is a prefix of.
    kept: list[tuple[Block, ...]] = []
    for blocks in sorted({case.pre_chain for case in cases}, key=len, reverse=True):
        if not any(longer[: len(blocks)] == blocks for longer in kept):
            kept.append(blocks)
    files: dict[str, str] = {}
    index = []
    for case in cases:
        home = next(longer for longer in kept if longer[: len(case.pre_chain)] == case.pre_chain)
        verdict: dict[str, Any] = (
            {"result": "valid", "state_digest": case.digest}
            if case.code is None
            else {"result": "invalid", "code": case.code}
        )
        body = {
            "format": FORMAT,
            "name": case.name,
            "area": case.area,
            "description": case.description,
            "pre_chain": {"file": f"chains/{chain_id(home)}.json", "length": len(case.pre_chain)},
            "pre_state": case.summary,
            "parameters": case.parameters,
            "block": case.block.to_bytes().hex(),
            "block_hash": case.block.hash.hex(),
            "expected": verdict,
        }
        path = f"cases/{case.area}/{case.name}.json"
        if path in files:
            raise AssertionError(f"two cases named {path}")
        files[path] = dump(body)
        index.append({"path": path, "area": case.area, "result": verdict["result"], "code": case.code})
    for blocks in kept:
        files[f"chains/{chain_id(blocks)}.json"] = dump(
            {"format": FORMAT, "blocks": [block.to_bytes().hex() for block in blocks]}
        )
    files["index.json"] = dump({"format": FORMAT, "cases": index})
    return dict(sorted(files.items()))


def replay(case_text: str, read: Callable[[str], str]) -> tuple[str, str]:
    """Check one case as another client would: `(expected, found)` verdict strings."""
    body = json.loads(case_text)
    blocks = json.loads(read(body["pre_chain"]["file"]))["blocks"][: body["pre_chain"]["length"]]
    state = MemoryState()
    for data in blocks:
        block = Block.from_bytes(bytes.fromhex(data))
        state.apply(validate_block(state, block), block.hash)
    block = Block.from_bytes(bytes.fromhex(body["block"]))
    expected = body["expected"]
    want = (
        f"valid {expected['state_digest']}"
        if expected["result"] == "valid"
        else f"invalid {expected['code']}"
    )
    try:
        delta = validate_block(state, block)
    except RuleViolation as violation:
        return want, f"invalid {violation.code}"
    state.apply(delta, block.hash)
    return want, f"valid {state.state_digest().hex()}"


def vector_files() -> Iterator[Path]:
    for folder in ("cases", "chains"):
        yield from sorted((ROOT / folder).rglob("*.json"))
    if (ROOT / "index.json").exists():
        yield ROOT / "index.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check the files are up to date")
    args = parser.parse_args()
    files = generate()
    on_disk = {str(p.relative_to(ROOT)): p.read_text() for p in vector_files()}
    if args.check:
        stale = sorted(set(files) ^ set(on_disk) | {p for p in files if on_disk.get(p) != files[p]})
        for path in stale:
            print(f"out of date: {path}", file=sys.stderr)
        return 1 if stale else 0
    for path in set(on_disk) - set(files):
        (ROOT / path).unlink()
    for path, text in files.items():
        target = ROOT / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if on_disk.get(path) != text:
            target.write_text(text)
    print(f"{len(files)} files, {sum(len(t) for t in files.values())} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
