"""Operator commands against a running node: `juned status`, `juned export` and `juned peers` ask
its client API, since a running node holds its store's lock (LevelDB allows one process).

`open_source` is the one place where the choice is made: a store that opens is read directly (a
stopped node); a store locked by a running juned (plyvel's lock error, `node.failures.store_locked`)
is reached through the API address its `juned.toml` names, or the `--api URL` given. The choice is
never made on any other error: a damaged store or a missing data directory is said as such.
"""

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import httpx
from rich.console import Console
from rich.table import Table

from node.chainfile import write_chain
from node.datadir import STORE_NAME, NodeConfig, open_store, read_config
from node.errors import NodeError, StoreError
from node.failures import describe_exception, lock_holder, store_locked
from node.store import LevelStore
from protocol.documents import Block
from protocol.encoding import decode
from protocol.errors import DecodeError

#: Seconds one request to the node may take (a raw block is at most a megabyte, on loopback).
TIMEOUT = 10.0
#: Times a request refused for the API's flood limit (429) or a busy node (503) is tried again,
#: waiting as told (`Retry-After`, at most `MAX_WAIT`): an export of a long chain meets the rate
#: limit, and waits for it rather than failing.
RETRIES = 30
MAX_WAIT = 5.0
#: Largest answer taken for one raw block: the protocol's block size bound, with room.
MAX_RAW_BLOCK = Block.MAX_SIZE
#: Blocks asked per page of `/blocks/raw`, and the largest page taken (the node stops a page after
#: 4 MB; one block may be as large as `MAX_RAW_BLOCK`).
RAW_PAGE = 100
MAX_RAW_PAGE = 4 * 2**20 + MAX_RAW_BLOCK + 1024

API = click.option(
    "--api",
    "api_url",
    help="Ask the running node's client API at this URL (e.g. http://127.0.0.1:8088) "
    "[default: the store if the node is stopped, else the `api` address of juned.toml].",
)


class LiveError(NodeError):
    """The running node could not be asked (unreachable API, an answer that is not June's)."""


@dataclass
class Stopped:
    """A stopped node: its store, opened by this command."""

    config: NodeConfig
    store: LevelStore


@dataclass
class Running:
    """A running node, reached through its client API."""

    api: "NodeApi"
    pid: int | None = None


def api_url_of(address: str) -> str | None:
    """The URL to reach the API bound at `address` (`host:port` of juned.toml) from this machine;
    None if it cannot be known (no API, or port 0: the node picked one at start)."""
    if not address:
        return None
    if address.startswith(("http://", "https://")):
        return address.rstrip("/")
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    if not port.isdigit() or int(port) == 0:
        return None
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def open_source(datadir: Path, api_url: str | None) -> Stopped | Running:
    """The store of `datadir` if no node holds it, else its running node's API (`api_url` if given:
    then the store is not touched at all)."""
    if api_url:
        return Running(NodeApi(api_url_of(api_url) or api_url))
    try:
        config, store = open_store(datadir)
    except StoreError as exc:
        if not store_locked(exc):
            raise
        pid = lock_holder(datadir / STORE_NAME)
        who = f"a running juned (pid {pid})" if pid is not None else "a running juned"
        url = api_url_of(read_config(datadir).api)
        if url is None:
            raise LiveError(
                f"{datadir} is used by {who} whose client API address is not fixed in juned.toml "
                "(none, or port 0): give --api URL"
            ) from None
        return Running(NodeApi(url), pid)
    return Stopped(config, store)


class NodeApi:
    """A small client of a node's API: JSON reads and raw blocks, with bounded waits and retries."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.Client(base_url=self.url, timeout=TIMEOUT, follow_redirects=False)

    def close(self) -> None:
        self.http.close()

    def get(self, path: str) -> httpx.Response:
        """The answer to `GET path`, after waiting out flood-limit refusals; any other failure is a
        `LiveError` naming the URL."""
        for _ in range(RETRIES + 1):
            try:
                answer = self.http.get(path)
            except httpx.HTTPError as exc:
                raise LiveError(
                    f"cannot reach the node's client API at {self.url}: {describe_exception(exc)} "
                    "(give --api URL if it listens elsewhere)"
                ) from exc
            if answer.headers.get("june-api") is None:
                raise LiveError(f"{self.url} is not a June node's client API (no June-Api header)")
            if answer.status_code not in (429, 503):
                return answer
            try:
                wait = float(answer.headers.get("retry-after", "1"))
            except ValueError:
                wait = 1.0
            time.sleep(min(MAX_WAIT, max(0.1, wait)))  # this module's one wait: the API said how long
        raise LiveError(f"{self.url} stayed too busy to answer {path}")

    def json(self, path: str) -> Any:
        answer = self.get(path)
        try:
            body = answer.json()
        except ValueError as exc:
            raise LiveError(f"{self.url}{path}: not JSON") from exc
        if answer.status_code != 200:
            reason = body.get("error") if isinstance(body, dict) else None
            raise LiveError(f"{self.url}{path}: {answer.status_code} {reason or answer.reason_phrase}")
        return body

    def raw_blocks(self, start: int, count: int) -> list[bytes]:
        """Up to `count` blocks from `start`, as their bytes, in one request (`/blocks/raw`)."""
        answer = self.get(f"/blocks/raw?from={start}&count={min(count, RAW_PAGE)}")
        if answer.status_code != 200:
            raise LiveError(f"{self.url}: blocks from {start} not served ({answer.status_code})")
        try:
            page = decode(answer.content, max_size=MAX_RAW_PAGE)
        except DecodeError as exc:
            raise LiveError(f"{self.url}: the page of blocks from {start} does not decode: {exc}") from exc
        if not isinstance(page, list) or not all(isinstance(raw, bytes) for raw in page):
            raise LiveError(f"{self.url}: the page of blocks from {start} is not a list of blocks")
        return page


# --- status -------------------------------------------------------------------------------------


def live_status(api: NodeApi) -> dict[str, Any]:
    """The same summary as `describe_status`, from `/node` and `/currency` (fork candidates are not
    served by the API: None), with what only a running node knows (peers, pending documents)."""
    node = api.json("/node")
    status: dict[str, Any] = {"currency": node.get("currency"), "genesis": node.get("genesis")}
    head = node.get("head")
    if head is not None:
        money = api.json("/currency")["money"]
        status |= {
            "head": {
                "number": head["number"],
                "hash": head["hash"],
                "state_digest": head["state_digest"],
                "median_time": head["median_time"],
                "issuer": head["issuer"],
            },
            "members": money["members"],
            "dividend": money["dividend"],
            "unit_base": money["unit_base"],
            "monetary_mass": money["monetary_mass"],
            "fork_candidates": None,
        }
    status |= {
        "running": True,
        "api": api.url,
        "peers": node.get("peers"),
        "pending": node.get("pending"),
        "p2p_address": node.get("p2p_address"),
    }
    return status


# --- export -------------------------------------------------------------------------------------


def live_blocks(api: NodeApi, count: int, currency: str | None) -> Iterator[bytes]:
    """Blocks 0 to `count - 1` as their canonical bytes, each checked to be that block and to link
    to the one before (a node that switched branch meanwhile, or an answer that is not a block,
    stops the export rather than writing a chain file that does not hold together)."""
    previous: bytes | None = None
    pages = _pages(api, count)
    for number in range(count):
        raw = next(pages, None)
        if raw is None:
            raise LiveError(f"{api.url} stopped serving blocks at {number} of {count}")
        try:
            block = Block.from_bytes(raw, currency=currency)
        except DecodeError as exc:
            raise LiveError(f"block {number} from {api.url} does not decode: {exc}") from exc
        if block.number != number or (number > 0 and block.previous_hash != previous):
            raise LiveError(
                f"block {number} from {api.url} does not follow block {number - 1}: the node changed "
                "branch during the export; export again"
            )
        previous = block.hash
        yield raw


def _pages(api: NodeApi, count: int) -> Iterator[bytes]:
    """Blocks 0 to `count - 1`, fetched a page at a time."""
    number = 0
    while number < count:
        page = api.raw_blocks(number, count - number)
        if not page:
            return
        yield from page
        number += len(page)


def live_head(api: NodeApi) -> tuple[int, str | None]:
    """(blocks up to the running node's head now, its currency): what `export_live` writes."""
    node = api.json("/node")
    head = node.get("head")
    return (0 if head is None else int(head["number"]) + 1), node.get("currency")


def export_live(
    api: NodeApi, output: Path, count: int, currency: str | None, advance: Callable[[], object] | None = None
) -> int:
    """Write blocks 0 to `count - 1` of the running node to `output` (`count` from `live_head`: a
    head that moves on during the export is not followed, so the export ends). `write_chain` writes
    a temporary file renamed at the end; it is removed here if the export fails, so `output` is
    either left as it was or a whole new chain file."""
    partial = output.with_name(output.name + ".partial")  # write_chain's temporary file

    def blocks() -> Iterator[bytes]:
        for raw in live_blocks(api, count, currency):
            if advance is not None:
                advance()
            yield raw

    try:
        return write_chain(output, blocks())
    except BaseException:
        if partial.exists():
            os.unlink(partial)
        raise


# --- peers --------------------------------------------------------------------------------------


def live_peers(api: NodeApi) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = api.json("/peers")["peers"]
    return rows


def banned_text(row: dict[str, Any]) -> str:
    until = row.get("banned_until")
    if until is None:
        return ""
    when = datetime.fromtimestamp(float(until), UTC).strftime("%Y-%m-%d %H:%M UTC")
    reason = row.get("ban_reason")
    return f"until {when}" + (f" ({reason})" if reason else "")


@click.command()
@click.option(
    "--datadir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("juned-data"),
    show_default=True,
    help="The node's data directory.",
)
@API
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def peers(datadir: Path, api_url: str | None, as_json: bool) -> None:
    """The running node's peers: address, claimed head, latency, misbehaviour score, ban."""
    source = open_source(datadir, api_url)
    if isinstance(source, Stopped):
        source.store.close()
        raise click.ClickException(
            f"no node is running on {datadir}: `juned peers` asks a running node (`juned run`)"
        )
    try:
        rows = live_peers(source.api)
    finally:
        source.api.close()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    console = Console()
    if not rows:
        console.print(f"no peers (node at {source.api.url})")
        return
    table = Table(title=f"Peers of the node at {source.api.url}")
    for column, justify in (
        ("id", "left"),
        ("address", "left"),
        ("head", "right"),
        ("latency (ms)", "right"),
        ("score", "right"),
        ("banned", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(
            row["id"][:16] + "…",
            row["address"] or "?",
            "" if row["head"] is None else str(row["head"]),
            "" if row["latency_ms"] is None else f"{row['latency_ms']:.0f}",
            f"{row['score']:.0f}",
            banned_text(row),
        )
    console.print(table)
