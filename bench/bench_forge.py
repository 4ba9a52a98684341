"""Blocks forged (built, proven, signed) and validated per second on the dev profile, and the cost
of one personalised-difficulty computation against one Ed25519 signature check (same run)."""

import time

from _chain import BenchChain
from _common import best_of, raw_verifications_per_second

from protocol.forge import build_block, prove, required_difficulty
from protocol.rules.block import validate_block


def main() -> None:
    chain = BenchChain(members=20)
    count = 200
    forge_time = validate_time = 0.0
    for _ in range(count):
        head = chain.state.head()
        assert head is not None
        start = time.perf_counter()
        block = chain.forge([], head.time + 10)
        forge_time += time.perf_counter() - start
        start = time.perf_counter()
        delta = validate_block(chain.state, block)
        validate_time += time.perf_counter() - start
        chain.state.apply(delta, block.hash)
        chain.blocks.append(block)
    raw = raw_verifications_per_second()
    print(f"dev profile, 20 members taking turns, {count} empty blocks")
    print(f"   forged (built + proof of work + signed): {count / forge_time:,.0f} blocks/s")
    print(f"   validated (every rule, signature included): {count / validate_time:,.0f} blocks/s")
    print(f"   one validation = {raw * validate_time / count:.1f} signature checks")

    head = chain.state.head()
    assert head is not None
    block = build_block(chain.state, [], chain.keys[3].public_key, head.median_time + 10)
    repeat = 2000

    def difficulties() -> None:
        for _ in range(repeat):
            required_difficulty(chain.state, block)

    per_difficulty = best_of(3, difficulties) / repeat
    per_signature = 1 / raw
    print(
        f"one personalised difficulty: {per_difficulty * 1e6:.1f} µs; "
        f"one signature check: {per_signature * 1e6:.1f} µs (ratio {per_difficulty / per_signature:.2f})"
    )
    tries = 20000
    start = time.perf_counter()
    prove(block, 16 * 60, should_stop=lambda: True, check_every=tries)
    print(f"proof-of-work search: {tries / (time.perf_counter() - start):,.0f} hashes/s on one core")


if __name__ == "__main__":
    main()
