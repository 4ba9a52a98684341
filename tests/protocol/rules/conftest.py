import pytest

from tests.protocol.chain_builder import Chain


@pytest.fixture
def chain() -> Chain:
    """A currency founded by alice, bob, carol and dave, all certifying each other."""
    return Chain(founders=4)
