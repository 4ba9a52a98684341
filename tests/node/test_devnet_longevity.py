"""A devnet that lives for years: its founders are renewed through clock jumps adding up to two
years, and a devnet stopped and resumed over the same directory is one network again, its clock
never going back."""

import time
from pathlib import Path

import trio

from node.audit.peers import cross_check, verified_index
from node.clock import Clock
from node.devnet import CLOCK_FILE, Devnet
from protocol.genesis import dev_keypair

HOUR = 3600
DAY = 86400
FOUNDERS = ("alice", "bob", "carol", "dave", "eve")


def founders(devnet: Devnet) -> str:
    """Each founder's standing on the first node, for a failure's message."""
    store = devnet.nodes[0].store
    head = store.head()
    assert head is not None
    keys = {name: dev_keypair(name).public_key for name in FOUNDERS}
    lines = []
    for name, key in keys.items():
        identity, membership = store.identity(key), store.membership(key)
        certs = sorted(
            (c.expires_on - head.median_time) // DAY
            for other, issuer in keys.items()
            if other != name and (c := store.certification(issuer, key)) is not None
        )
        expires = None if membership is None else (membership.expires_on - head.median_time) // DAY
        member = identity is not None and identity.member
        lines.append(f"{name}: member {member}, membership {expires} d left, certifications {certs} d left")
    return f"block {head.number}: " + "; ".join(lines)


#: Well under the whole suite's budget: two years of jumps take about half of it on 2 cores.
LIFETIME_LIMIT = 110


async def test_two_years_of_jumps_keep_the_founders_members_and_the_chain_growing(tmp_path: Path) -> None:
    devnet = Devnet(tmp_path, nodes=2, members=5, clock=Clock(), turn_spacing=0.2)
    try:
        with trio.fail_after(LIFETIME_LIMIT):
            async with trio.open_nursery() as nursery:
                await nursery.start(devnet.run)
                first = devnet.nodes[0].store.head()
                assert first is not None
                for _ in range(4):  # +6m four times: as a user types them
                    await devnet.jump(183 * DAY)
                    head = devnet.nodes[0].store.head()
                    assert head is not None and head.members_count >= 3, founders(devnet)
                last = devnet.nodes[0].store.head()
                assert last is not None
                assert last.number > first.number
                assert last.median_time - first.median_time >= 700 * DAY
                # the issue asks for at least 3; under load a founder has been seen excluded (noted)
                assert last.members_count >= 3, founders(devnet)
                alice = devnet.nodes[0].store.membership(dev_keypair("alice").public_key)
                assert alice is not None and alice.expires_on > last.median_time
                devnet.stop()
    finally:
        devnet.close()


async def test_a_resumed_devnet_is_one_network_again_and_its_clock_goes_on(tmp_path: Path) -> None:
    devnet = Devnet(tmp_path, nodes=2, members=5, clock=Clock(), turn_spacing=0.2)
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(devnet.run)
            await devnet.jump(40 * DAY)  # the chain is dated well ahead of the wall clock
            stopped_at = devnet.clock.now()
            height = max(number for number, _, _ in filter(None, (n.head() for n in devnet.nodes)))
            ports = [(n.config.listen, n.config.api) for n in devnet.nodes]
            peers = [n.network.peer_id for n in devnet.nodes]
            devnet.stop()
    finally:
        devnet.close()
    assert (tmp_path / CLOCK_FILE).exists()

    resumed = Devnet(tmp_path, nodes=2, members=5, clock=Clock(), turn_spacing=0.2)
    try:
        assert resumed.clock.now() >= stopped_at  # not back to the wall clock's today
        assert resumed.clock.now() >= time.time() + 39 * DAY
        assert [(n.config.listen, n.config.api) for n in resumed.nodes] == ports
        assert [n.network.peer_id for n in resumed.nodes] == peers
        assert resumed.nodes[1].config.bootstrap == [f"{ports[0][0]}/p2p/{peers[0]}"]
        async with trio.open_nursery() as nursery:
            await nursery.start(resumed.run)
            assert [n.api_url for n in resumed.nodes] == [f"http://{api}" for _, api in ports]
            await resumed.jump(DAY)  # settles once every node is on one head, or times out
            for _step in range(6):  # two forgers racing on one height settle as time moves on
                heads = {n.head() for n in resumed.nodes}
                if len(heads) == 1:
                    break
                await resumed.jump(HOUR)
            assert len(heads) == 1
            (head,) = heads
            assert head is not None and head[0] > height
            # the auditor's cross-check: both nodes serve the chain the first one holds, by hash
            # and state digest at sampled heights (asked over the network, from another thread)
            store = resumed.nodes[0].store
            verified = verified_index(store.block_bytes(n) or b"" for n in range(head[0] + 1))
            addresses = [n.address for n in resumed.nodes]
            for attempt in range(6):  # a dial can fail under load: the auditor's client asks again
                verdicts = await trio.to_thread.run_sync(cross_check, addresses, verified)
                if all(v.agrees for v in verdicts):
                    break
                await trio.sleep(0.5 * 2**attempt)  # a refused dial is retried after a back-off (< 16 s)
            assert all(v.agrees and (v.head or 0) >= head[0] for v in verdicts), verdicts
            resumed.stop()
    finally:
        resumed.close()


def test_a_clock_catches_up_but_never_goes_back() -> None:
    fast = Clock(speed=100_000)  # moves between two readings: catch_up must read it once
    for _ in range(200):
        fast.catch_up(0.0)
    before = fast.now()
    fast.catch_up(at_least=before - 1000)  # behind it: nothing happens
    assert fast.now() >= before
    slow = Clock()
    slow.catch_up(10 * DAY)
    assert slow.lead() >= 10 * DAY - 1
    slow.catch_up(at_least=int(time.time()) + 20 * DAY)
    assert slow.now() >= time.time() + 20 * DAY - 1
