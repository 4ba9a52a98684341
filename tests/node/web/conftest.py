"""The web pages over the API tests' chain (tests/node/api/conftest.py), with one more payment
whose comment is HTML, to show that pages write it as text."""

import pytest

from tests.node.api.conftest import api, build_chain, client
from tests.protocol.chain_builder import Chain

__all__ = ["api", "client"]  # the API tests' fixtures, over this package's `chain`
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="session")
def chain() -> Chain:
    chain = build_chain()
    chain.write(transactions=[chain.pay("bob", {"carol": 150}, comment=HOSTILE)])
    return chain
