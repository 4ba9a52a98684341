"""Reads about the web of trust: identities by uid or key (named by the one rule of
`protocol.names`), a partial lookup by uid or key prefix, and what an identity needs to be (or
stay) a member: certifications received and issued with their expiry, membership expiry, the
distance verdict, and what is missing, in plain words."""

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from node.api.chain import context
from node.api.context import ApiContext
from node.api.convert import key_of, key_text
from node.api.errors import ApiError
from node.api.pace import take_turn
from protocol.crypto import PublicKey, hash_hex
from protocol.documents import Certification, Identity, Membership
from protocol.keys import pubkey_to_base58
from protocol.rules.context import RuleContext
from protocol.rules.memberships import make_distance_evaluator

router = APIRouter(tags=["web of trust"])
Who = Annotated[
    str,
    Path(
        description="A uid or a public key (base58, or base58:checksum); `@uid` forces a uid, "
        "`KEY:CHK` a key; text that is the uid of one account and the key of another is a 409"
    ),
]
SEARCH_TEXT = "Part of a uid (any case), or the start of a public key"
#: Most identities one partial lookup answers.
MAX_SEARCH = 100
#: Identities scanned between two turns on the event loop (about 4 ms when their keys are first
#: written in Base58, under 1 ms after: `pubkey_to_base58` is cached).
SEARCH_TURN = 256
#: The Bitcoin Base58 alphabet: text with another character cannot start a key.
BASE58_ALPHABET = frozenset("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")


def _find(api: ApiContext, who: str) -> tuple[PublicKey, str, bool]:
    """(key, uid, written) of an identity written in the chain or pending in the mempool."""
    key = key_of(api, who).key
    record = api.store.identity(key)
    if record is not None:
        return key, record.uid, True
    for document in api.mempool.documents():
        if isinstance(document, Identity) and document.issuer == key:
            return document.issuer, document.uid, False
    raise ApiError(404, f"no identity has the uid or public key {who[:100]!r}, written or pending")


def _status(api: ApiContext, key: PublicKey, written: bool) -> str:
    record = api.store.identity(key)
    if not written or record is None:
        return "pending"
    if record.revoked_on is not None:
        return "revoked"
    if record.member:
        return "member"
    return "excluded" if record.was_member else "not a member"


def _rank(uid: str, needle: str) -> int:
    """0 for the uid asked (any case), 1 for a uid starting with it, 2 for the other matches."""
    folded = uid.lower()
    return 0 if folded == needle else 1 if folded.startswith(needle) else 2


@router.get(
    "/identities",
    summary="Identities, written or pending, whose uid contains `search` (any case) or whose public "
    "key starts with it: the uid asked first, then uids starting with it, then the others",
)
async def search_identities(
    request: Request,
    search: Annotated[str, Query(min_length=1, max_length=100, description=SEARCH_TEXT)],
    limit: Annotated[int, Query(ge=1, le=MAX_SEARCH)] = 20,
) -> dict[str, Any]:
    return await search_identities_of(context(request), search, limit)


async def search_identities_of(api: ApiContext, search: str, limit: int) -> dict[str, Any]:
    """`GET /identities?search=`'s answer (and the web interface's member search): `search` is
    1–100 characters, `limit` 1–`MAX_SEARCH`, as the route checks."""
    needle = search.lower()
    # a key's Base58 can start with the text only if the text is Base58
    by_key = all(c in BASE58_ALPHABET for c in search)

    def matches(uid: str, key: PublicKey) -> bool:
        return needle in uid.lower() or (by_key and pubkey_to_base58(key).startswith(search))

    found: dict[bytes, tuple[str, PublicKey, bool]] = {}
    for count, (uid, key) in enumerate(api.store.uids(), 1):
        if count % SEARCH_TURN == 0:
            await take_turn()  # the node runs between chunks
        if matches(uid, key):
            found[bytes(key)] = (uid, key, True)
    pending = [d for d in api.mempool.documents() if isinstance(d, Identity) and bytes(d.issuer) not in found]
    for document in pending:
        if matches(document.uid, document.issuer):
            found[bytes(document.issuer)] = (document.uid, document.issuer, False)
    ordered = sorted(found.values(), key=lambda f: (_rank(f[0], needle), f[0].lower(), f[0], bytes(f[1])))
    return {
        "identities": [
            {"uid": uid, "pubkey": key_text(key), "status": _status(api, key, written)}
            for uid, key, written in ordered[:limit]
        ],
        "more": len(ordered) > limit,
    }


@router.get("/identities/{who}", summary="An identity by uid or public key")
async def identity(request: Request, who: Who) -> dict[str, Any]:
    return identity_of(context(request), who)


def identity_of(api: ApiContext, who: str) -> dict[str, Any]:
    """`GET /identities/{who}`'s answer (and the web interface's member page)."""
    key, uid, written = _find(api, who)
    record = api.store.identity(key)
    membership = api.store.membership(key)
    pending = next((d for d in api.mempool.documents() if isinstance(d, Identity) and d.issuer == key), None)
    identity_hash = record.hash if record is not None else pending.hash if pending is not None else None
    return {
        "uid": uid,
        "pubkey": key_text(key),
        "status": _status(api, key, written),
        "written_on": None if record is None else record.written_on,
        "identity_hash": None if identity_hash is None else hash_hex(identity_hash),
        "revoked_on": None if record is None else record.revoked_on,
        "membership": None
        if membership is None
        else {
            "expires_on": membership.expires_on,
            "revokes_on": membership.revokes_on,
            "leaving": membership.leaving,
            "expired": membership.expired,
        },
    }


def _certification_rows(
    api: ApiContext, key: PublicKey, others: Iterable[PublicKey], *, received: bool
) -> list[dict[str, Any]]:
    """The live certifications `key` received from `others` (or issued to them), with the other
    side's uid and the expiry."""
    rows = []
    for other in others:
        cert = api.store.certification(other, key) if received else api.store.certification(key, other)
        if cert is None:
            continue
        record = api.store.identity(other)
        row: dict[str, Any] = {
            "issuer" if received else "receiver": key_text(other),
            "uid": None if record is None else record.uid,
        }
        if received:
            row["written_on"] = cert.written_on
        row["expires_on"] = cert.expires_on
        rows.append(row)
    return rows


@router.get("/wot/{who}/requirements", summary="What an identity has and lacks to be a member")
async def requirements(request: Request, who: Who) -> dict[str, Any]:
    return requirements_of(context(request), who)


def requirements_of(api: ApiContext, who: str) -> dict[str, Any]:
    """`GET /wot/{who}/requirements`'s answer (and the web interface's member page)."""
    key, uid, written = _find(api, who)
    chain, head = api.store.chain(), api.store.head()
    if chain is None or head is None:
        raise ApiError(503, "this node has no chain yet")
    params = chain.parameters
    received = _certification_rows(api, key, api.store.certifiers_of(key), received=True)
    issued = _certification_rows(api, key, api.store.certified_by(key), received=False)
    pending_certs = [d for d in api.mempool.documents() if isinstance(d, Certification) and d.receiver == key]
    pending_membership = any(isinstance(d, Membership) and d.issuer == key for d in api.mempool.documents())
    ctx = RuleContext.for_pending(api.store)
    result = make_distance_evaluator(api.store, ctx, pending_certs).evaluate(key, x_percent=params.x_percent)
    membership = api.store.membership(key)
    missing = []
    certifiers = {c["issuer"] for c in received} | {key_text(c.issuer) for c in pending_certs}
    if len(certifiers) < params.sig_qty:
        missing.append(
            f"{params.sig_qty - len(certifiers)} more certification(s): {len(certifiers)} of {params.sig_qty}"
        )
    if result.outdistanced:
        missing.append(
            f"distance: reached by {result.reached_sentries} of {result.sentries} sentries within "
            f"{params.step_max} steps, {params.x_percent:.0%} are needed"
        )
    status = _status(api, key, written)
    if status != "member" and membership is None and not pending_membership:
        missing.append("a membership request (june wot join)")
    if not written and not any(isinstance(d, Identity) and d.issuer == key for d in api.mempool.documents()):
        missing.append("a published identity")
    return {
        "uid": uid,
        "pubkey": key_text(key),
        "status": status,
        "certifications": {
            "received": received,
            "pending": [key_text(c.issuer) for c in pending_certs],
            "issued": issued,
            "needed": params.sig_qty,
            "stock": params.sig_stock,
        },
        "membership": None
        if membership is None
        else {
            "expires_on": membership.expires_on,
            "revokes_on": membership.revokes_on,
            "leaving": membership.leaving,
        },
        "membership_pending": pending_membership,
        "distance": {
            "sentries": result.sentries,
            "reached": result.reached_sentries,
            "outdistanced": result.outdistanced,
            "x_percent": params.x_percent,
        },
        "missing": missing,
        "median_time": head.median_time,
    }
