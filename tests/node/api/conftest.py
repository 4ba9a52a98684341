"""The client API over a real LevelStore holding a chain built by the rule tests' builder: four
founders, two days of UDs, a payment, and a newcomer (eve) whose uid is another account's public
key (frank's): a name the API must refuse to guess."""

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import pytest

from node.api.app import build_app
from node.api.context import ApiContext
from node.chain import ChainManager
from node.mempool import AdmissionResult, Mempool
from node.store import LevelStore
from protocol.documents import Identity, Membership, MembershipType
from protocol.documents.pending import PendingDocument
from protocol.keys import Keypair, pubkey_to_base58
from tests.protocol.chain_builder import CURRENCY, Chain

DAY = 86400
#: Eve's uid is frank's public key in Base58 (the chain builder's seed for "frank"), a valid uid:
#: the bare text names two accounts, `@uid` names eve and `KEY:CHK` frank.
EVE_UID = pubkey_to_base58(Keypair(b"frank".ljust(32, b".")).public_key)


def build_chain() -> Chain:
    chain = Chain(founders=4)
    chain.advance(2 * DAY)
    chain.write(transactions=[chain.pay("alice", {"bob": 700}, comment="pain")])
    eve = Identity.create(chain.keys["eve"], CURRENCY, EVE_UID, chain.ref())
    chain.identities["eve"] = eve
    join = Membership.create(chain.keys["eve"], CURRENCY, MembershipType.IN, EVE_UID, chain.ref())
    chain.write(
        identities=[eve],
        joiners=[join],
        certifications=[chain.cert(n, "eve") for n in ("alice", "bob", "carol")],
    )
    chain.advance(DAY)
    return chain


@pytest.fixture(scope="session")
def chain() -> Chain:
    return build_chain()


@contextmanager
def api_over(path: Path, chain: Chain | None) -> Iterator[ApiContext]:
    """An `ApiContext` over a new store at `path` holding `chain`'s blocks (none: an empty node)."""
    store = LevelStore.open(path)
    manager = ChainManager(store)
    for block in [] if chain is None else chain.blocks:
        manager.add_block(block)
    pool = Mempool(store)

    async def submit(document: PendingDocument) -> AdmissionResult:
        return pool.add(document)

    try:
        yield ApiContext(store=store, chain=manager, mempool=pool, submit=submit)
    finally:
        store.close()


@asynccontextmanager
async def http_client(api: ApiContext) -> AsyncIterator[httpx.AsyncClient]:
    """A client calling the app in process; an exception escaping the app (a 500) fails the test."""
    transport = httpx.ASGITransport(app=build_app(api))
    async with httpx.AsyncClient(transport=transport, base_url="http://june") as http:
        yield http


@pytest.fixture
def api(tmp_path: Path, chain: Chain) -> Iterator[ApiContext]:
    with api_over(tmp_path / "db", chain) as context:
        yield context


@pytest.fixture
async def client(api: ApiContext) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(api) as http:
        yield http
