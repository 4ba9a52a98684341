"""`/difficulties`: the personalised difficulty each issuer of the current frame faces for the next
block, as the rules compute it (BR_G18), easiest first."""

from collections import Counter
from pathlib import Path

from protocol.keys import pubkey_display
from protocol.rules.production import compute_header, compute_personal_difficulty, frame_summaries
from tests.node.api.conftest import api_over, http_client
from tests.protocol.chain_builder import Chain


async def test_difficulties_of_the_frame_issuers(tmp_path: Path) -> None:
    chain = Chain(founders=4)
    for issuer in ("bob", "carol", "alice", "alice", "bob", "alice"):
        chain.write(issuer=issuer)
    with api_over(tmp_path / "db", chain) as api:
        async with http_client(api) as client:
            response = await client.get("/difficulties")
        assert response.status_code == 200 and response.headers["june-api"] == "1"
        answer = response.json()
        number = chain.blocks[-1].number + 1
        frame = frame_summaries(api.store, number)
        pow_min = compute_header(api.store, chain.params, number, frame).pow_min
        counts = Counter(summary.issuer for summary in frame)
        expected = sorted(
            (
                {
                    "pubkey": pubkey_display(key),
                    "uid": name,
                    "difficulty": compute_personal_difficulty(
                        api.store, chain.params, key, number, pow_min, frame
                    ),
                    "blocks_in_frame": counts[key],
                }
                for name, key in ((n, chain.key(n)) for n in ("alice", "bob", "carol"))
            ),
            key=lambda r: (r["difficulty"], r["uid"]),
        )
    assert answer == {"block": number, "pow_min": pow_min, "difficulties": expected}
    assert {r["uid"] for r in answer["difficulties"]} == {"alice", "bob", "carol"}  # dave forged nothing
    assert {r["uid"]: r["blocks_in_frame"] for r in answer["difficulties"]}["alice"] == counts[
        chain.key("alice")
    ]
    # the most frequent issuer pays a handicap over the least frequent, or at least no less
    by_uid = {r["uid"]: r["difficulty"] for r in answer["difficulties"]}
    assert by_uid["alice"] >= by_uid["carol"]


async def test_no_difficulties_without_a_chain(tmp_path: Path) -> None:
    with api_over(tmp_path / "db", None) as api:
        async with http_client(api) as client:
            response = await client.get("/difficulties")
    assert response.status_code == 503 and "no chain" in response.json()["error"]
