"""Assertions shared by the rule tests."""

from typing import Any

import pytest

from protocol.documents import Block
from protocol.errors import RuleViolation
from protocol.rules.block import validate_block
from tests.protocol.chain_builder import Chain


def assert_rejected(chain: Chain, block: Block, code: str, match: str | None = None) -> RuleViolation:
    """The block is refused with `code`, and the state is untouched."""
    before = chain.state.snapshot(), chain.state.state_digest()
    with pytest.raises(RuleViolation) as caught:
        validate_block(chain.state, block)
    assert caught.value.code == code, f"expected {code}, got {caught.value}"
    if match is not None:
        assert match in caught.value.reason, caught.value.reason
    assert (chain.state.snapshot(), chain.state.state_digest()) == before
    return caught.value


def rejected(chain: Chain, code: str, match: str | None = None, **content: Any) -> RuleViolation:
    return assert_rejected(chain, chain.block(**content), code, match)
