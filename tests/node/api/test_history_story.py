"""A history that tells the whole story: consolidations, money the 1-unit rule destroyed (BR_G106,
not written in blocks: the store indexes it), counterparts as keys, and the uids of the keys."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from node.api.context import ApiContext
from protocol.conditions import sig_condition
from protocol.documents import Input, Output
from protocol.keys import pubkey_display
from tests.node.api.conftest import DAY, api_over, http_client
from tests.protocol.chain_builder import Chain


def build_story() -> Chain:
    """Frank (no identity) gets 1.00 from alice and 0.50 from bob, then pays dave his 1.00 source:
    his 0.50 left is destroyed. Carol merges her sources. Dave pays alice all but 0.50: his change,
    created in that block, is destroyed in it."""
    chain = Chain(founders=4)
    chain.advance(2 * DAY)
    chain.write(transactions=[chain.pay("alice", {"frank": 100}, comment="one")])
    chain.write(transactions=[chain.pay("bob", {"frank": 50}, comment="half")])
    chain.write(transactions=[chain.pay("carol", {}, comment="merge")])
    whole = next(s for s, amount, _base in chain.sources("frank") if amount == 100)
    to_dave = Output(100, 0, sig_condition(chain.key("dave")))
    chain.write(transactions=[chain.transaction(["frank"], [Input(100, 0, whole)], [to_dave])])
    chain.write(transactions=[chain.pay("dave", {"alice": chain.balance("dave") - 50}, comment="almost all")])
    assert chain.balance("frank") == chain.balance("dave") == 0
    return chain


@pytest.fixture(scope="module")
def story() -> Chain:
    return build_story()


@pytest.fixture
def story_api(tmp_path: Path, story: Chain) -> Iterator[ApiContext]:
    with api_over(tmp_path / "db", story) as context:
        yield context


@pytest.fixture
async def story_client(story_api: ApiContext) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(story_api) as http:
        yield http


async def history_of(client: httpx.AsyncClient, chain: Chain, name: str) -> dict[str, Any]:
    response = await client.get(f"/history/{pubkey_display(chain.key(name))}")
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_money_left_below_one_unit_is_listed_as_destroyed(
    story_client: httpx.AsyncClient, story: Chain
) -> None:
    frank = await history_of(story_client, story, "frank")
    kinds = [(e["kind"], e["amount"]) for e in frank["history"]]
    assert kinds == [("destroyed", -50), ("sent", -100), ("received", 50), ("received", 100)]
    destroyed, sent = frank["history"][:2]
    assert destroyed["block"] == sent["block"] == story.blocks[-2].number
    assert destroyed["amount_text"] == "-0.50" and destroyed["time"] == story.blocks[-2].median_time
    assert destroyed["tx"] is None and destroyed["counterparts"] == []
    assert sum(e["amount"] for e in frank["history"]) == 0  # the whole story: nothing unexplained
    dave = (await history_of(story_client, story, "dave"))["history"]
    assert [e["kind"] for e in dave[:2]] == ["destroyed", "sent"]
    assert dave[0]["amount"] == -50 and dave[0]["block"] == story.blocks[-1].number
    assert sum(e["amount"] for e in dave) == 0


async def test_a_consolidation_is_not_a_payment(story_client: httpx.AsyncClient, story: Chain) -> None:
    carol = (await history_of(story_client, story, "carol"))["history"]
    merge = next(e for e in carol if e["comment"] == "merge")
    assert merge["kind"] == "consolidation" and merge["amount"] == 0 and merge["counterparts"] == []
    assert not any(e["kind"] == "sent" for e in carol)


async def test_counterparts_are_keys_and_names_give_their_uids(
    story_client: httpx.AsyncClient, story: Chain
) -> None:
    frank = await history_of(story_client, story, "frank")
    sent = next(e for e in frank["history"] if e["kind"] == "sent")
    dave_key = pubkey_display(story.key("dave"))
    assert sent["counterparts"] == [dave_key]
    received = {e["counterparts"][0] for e in frank["history"] if e["kind"] == "received"}
    assert received == {pubkey_display(story.key("alice")), pubkey_display(story.key("bob"))}
    # frank has no identity: his own key is not in names; those he dealt with are
    assert frank["names"] == {pubkey_display(story.key(n)): n for n in ("alice", "bob", "dave")}
    dave = await history_of(story_client, story, "dave")
    assert dave["names"][dave_key] == "dave"


async def test_a_condition_other_than_a_plain_sig_stays_as_written(tmp_path: Path, story: Chain) -> None:
    chain = build_story()
    locked = f"{sig_condition(chain.key('bob'))} && CSV(3600)"
    sources = chain.sources("carol")
    total = sum(amount for _s, amount, _b in sources)
    outputs = [Output(300, 0, locked), Output(total - 300, 0, sig_condition(chain.key("carol")))]
    inputs = [Input(amount, base, source) for source, amount, base in sources]
    chain.write(transactions=[chain.transaction(["carol"], inputs, outputs)])
    with api_over(tmp_path / "db", chain) as api:
        async with http_client(api) as client:
            carol = await history_of(client, chain, "carol")
    sent = carol["history"][0]
    assert sent["kind"] == "sent" and sent["amount"] == -300 and sent["counterparts"] == [locked]
    assert carol["names"] == {pubkey_display(chain.key("carol")): "carol"}


async def test_a_reverted_block_takes_its_destroyed_entry_away(
    story_client: httpx.AsyncClient, story_api: ApiContext, story: Chain
) -> None:
    dave_condition = sig_condition(story.key("dave"))
    head = story.blocks[-1].number
    assert story_api.store.destroyed(dave_condition, 0, head) == [(head, 50)]
    story_api.store.revert_head()
    assert story_api.store.destroyed(dave_condition, 0, head) == []
    dave = (await history_of(story_client, story, "dave"))["history"]
    assert not any(e["kind"] == "destroyed" for e in dave)
    assert dave[0]["kind"] == "received" and dave[0]["amount"] == 100
    # applied again, it is there again
    story_api.chain.add_block(story.blocks[-1])
    dave = (await history_of(story_client, story, "dave"))["history"]
    assert dave[0]["kind"] == "destroyed" and dave[0]["amount"] == -50


async def test_destroyed_money_outside_the_window_is_not_listed(
    story_client: httpx.AsyncClient, story: Chain
) -> None:
    frank = pubkey_display(story.key("frank"))
    window = (await story_client.get(f"/history/{frank}", params={"scan": 1})).json()
    assert window["scanned_from"] == story.blocks[-1].number and window["history"] == []
    first = (await story_client.get(f"/history/{frank}", params={"limit": 1})).json()["history"]
    assert [e["kind"] for e in first] == ["destroyed"]
