"""Sending a web-of-trust document: the head it refers to, the node's answer in words, the journal.

Each document a node acknowledges is noted in the journal (`wallet.journal`), so that `june check`
can tell when one is dropped; a refusal's times are written as moments of the chain's clock.
"""

from dataclasses import dataclass
from typing import Any

from protocol.crypto import parse_hash_hex
from protocol.documents import BlockRef
from wallet.client import NodeClient, Refused
from wallet.commands.documents import describe_answer, follow_hint
from wallet.context import WalletContext
from wallet.errors import WalletError
from wallet.i18n import _
from wallet.journal import remember_sent
from wallet.render import emit, humanize


@dataclass(frozen=True)
class Head:
    """The node's currency and head: the block new documents refer to, and the chain's present."""

    currency: str
    ref: BlockRef
    median_time: int


def head_of(client: NodeClient) -> Head:
    """Asked before each document: its reference block, and the present its moments count from."""
    node = client.get("/node")
    head = node["head"]
    if head is None:
        raise WalletError(_("the node has no chain yet"))
    return Head(node["currency"], BlockRef(head["number"], parse_hash_hex(head["hash"])), head["median_time"])


def submit(client: NodeClient, raw: bytes, now: int | None) -> dict[str, Any]:
    """Send a signed document; a refusal's times are rewritten as moments from `now`."""
    try:
        answer: dict[str, Any] = client.submit(raw)
    except Refused as exc:
        raise Refused(exc.status, humanize(exc.reason, now), exc.rule) from None
    return answer


def report(ctx: WalletContext, answer: dict[str, Any], kind: str, what: str, now: int | None) -> None:
    """Note an acknowledged document in the journal and say what the node answered."""
    remember_sent(answer, kind, what)
    emit(
        ctx,
        {key: answer[key] for key in ("result", "hash", "kind", "reason", "until") if key in answer},
        f"{what}: {describe_answer(answer, now)}\n{follow_hint([str(answer['hash'])])}",
    )


def submitted(
    ctx: WalletContext, client: NodeClient, document: Any, what: str, now: int | None = None
) -> None:
    """Sign-and-send's last step, the same for every web-of-trust document."""
    answer = submit(client, document.to_bytes(), now)
    report(ctx, answer, str(answer.get("kind") or type(document).__name__.lower()), what, now)
