import pytest

from tests.node.audit.helpers import honest_history
from tests.protocol.chain_builder import Chain


@pytest.fixture(scope="package")
def history() -> Chain:
    """An honest chain; tests copy it (`fork`) before writing on it."""
    return honest_history()
