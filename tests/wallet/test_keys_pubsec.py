"""PubSec files: what `june keys import` parses; anything malformed gives `InputError`, nothing else."""

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.keyformats import MAX_PUBSEC_SIZE, parse_pubsec, pubsec_text
from protocol.keyformats import KeyFormatError as InputError
from protocol.keys import Keypair


def test_round_trip() -> None:
    keypair = Keypair(bytes(range(32)))
    assert parse_pubsec(pubsec_text(keypair)).seed == keypair.seed


def test_oversized_text_is_refused_before_parsing() -> None:
    text = pubsec_text(Keypair(bytes(32))) + "#" * MAX_PUBSEC_SIZE
    with pytest.raises(InputError, match=r"not a PubSec file: .* characters"):
        parse_pubsec(text)


lines = st.sampled_from(["Type: PubSec", "Version: 1", "pub: ", "sec: ", "type:pubsec", ":", ""]).flatmap(
    lambda head: st.text(max_size=100).map(lambda tail: head + tail)
)


@given(
    st.text(max_size=2000)
    | st.binary(max_size=2000).map(lambda b: b.decode("utf-8", "surrogateescape"))
    | st.lists(lines, max_size=6).map("\n".join)
)
@settings(max_examples=300, deadline=None)
def test_fuzz_any_text_gives_only_input_error(text: str) -> None:
    with contextlib.suppress(InputError):
        parse_pubsec(text)
