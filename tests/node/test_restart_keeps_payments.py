"""Issue 13: a payment the node answered `accepted` survives a stop or a crash of the node, and is
written once a forger runs, even when it spends the change of another pending payment.

Real `juned run` processes on a funded chain dated near the real clock (`tests/node/funded.py`):
first without a key (nothing is written), the payments are chained six deep from two payers; the
node is stopped (SIGTERM) or crashes (SIGKILL), restarted, and every acknowledged payment must still
be pending; then it crashes again and restarts with a member's key, and every one must be written.
Twelve chained transactions in hash order put some child before its parent: the pool must reload
them in dependency order.
"""

import signal
from pathlib import Path

import pytest
import trio

from tests.node.funded import KEPT, funded_chain, funded_datadir, juned, key_file, pay, states, stop

PAYERS = (1, 2)
DEPTH = 6
CENTS = 10


@pytest.mark.slow
@pytest.mark.parametrize("first_stop", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
async def test_acknowledged_chained_payments_survive_restarts_and_are_written(
    tmp_path: Path, first_stop: signal.Signals
) -> None:
    chain = funded_chain()
    path = funded_datadir(tmp_path / "node", chain)
    key = key_file(tmp_path / "forger.json", chain.keys[0])
    payee = chain.keys[3].public_key
    acknowledged: list[str] = []

    async with juned(path) as node:  # no key: nothing is forged, every payment stays pending
        head = await node.head()
        for _ in range(DEPTH):
            for payer in PAYERS:
                for tx_hash, result in await pay(node.api, chain.keys[payer], payee, CENTS):
                    assert result in KEPT, f"{tx_hash}: {result}"
                    acknowledged.append(tx_hash)
        assert len(acknowledged) == DEPTH * len(PAYERS)
        assert set((await states(node.api, acknowledged)).values()) <= {"pending", "waiting"}
        assert await node.head() == head
        code = await stop(node, first_stop)
        assert code == (0 if first_stop == signal.SIGTERM else -signal.SIGKILL)

    async with juned(path) as node:
        found = await states(node.api, acknowledged)
        lost = {h: s for h, s in found.items() if s not in ("pending", "waiting")}
        assert not lost, f"{len(lost)} of {len(acknowledged)} acknowledged payments lost: {lost}"
        await stop(node, signal.SIGKILL)

    async with juned(path, key) as node:
        with trio.move_on_after(60):
            while set((found := await states(node.api, acknowledged)).values()) != {"written"}:
                assert node.alive(), node.log_text()[-3000:]
                await trio.sleep(0.25)
        missing = {h: s for h, s in found.items() if s != "written"}
        assert not missing, f"not written after 60 s: {missing}"
        assert await node.head() > head
