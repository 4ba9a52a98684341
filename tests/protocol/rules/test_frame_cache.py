"""The issuers frame carried from block to block (`FrameCache`) gives the values a fresh read gives."""

from protocol.rules.production import (
    FrameCache,
    IssuersFrame,
    compute_header,
    compute_max_block_size,
    compute_median_time,
    compute_personal_difficulty,
    frame_summaries,
)
from tests.protocol.chain_builder import Chain

NAMES = ["alice", "bob", "carol", "dave", "eve", "frank"]


def assert_same(chain: Chain, frame: IssuersFrame, number: int) -> None:
    view, params = chain.state, chain.params
    summaries = frame_summaries(view, number)
    assert list(frame.summaries) == summaries
    header = compute_header(view, params, number, frame)
    assert header == compute_header(view, params, number)
    assert compute_median_time(view, params, number, frame) == compute_median_time(view, params, number)
    for name in [*NAMES, "nobody"]:
        key = chain.keys[name].public_key if name in chain.keys else bytes(32)
        expected = compute_personal_difficulty(view, params, key, number, header.pow_min, summaries)
        assert compute_personal_difficulty(view, params, key, number, header.pow_min, frame) == expected
    for count in (0, 1, header.issuers_count, len(summaries) + 3):
        expected_size = compute_max_block_size(view, number, count)
        assert compute_max_block_size(view, number, count, frame) == expected_size


def test_carried_frame_matches_a_fresh_read_as_the_frame_grows_and_shrinks() -> None:
    chain = Chain(founders=6)
    frames = FrameCache()
    # Six issuers in turn let the frame grow, then two only let it shrink again.
    issuers = [NAMES[i % 6] for i in range(90)] + [NAMES[i % 2] for i in range(90)]
    for name in issuers:
        number = len(chain.blocks)
        frame = frames.frame(chain.state, number)
        assert frames.frame(chain.state, number) is frame  # asked twice for the same block
        assert_same(chain, frame, number)
        chain.write(issuer=name)


def test_a_frame_of_another_head_is_read_afresh() -> None:
    chain = Chain(founders=6)
    for index in range(30):
        chain.write(issuer=NAMES[index % 6])
    frames = FrameCache()
    frames.frame(chain.state, 10)
    assert_same(chain, frames.frame(chain.state, 30), 30)
    assert_same(chain, frames.frame(chain.state, 12), 12)
