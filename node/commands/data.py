"""Operator commands on a data directory: init, status, export, import, revert, reindex."""

import json
import shutil
import time as clock
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from node.chain import ChainManager, Outcome
from node.chainfile import ChainFileError, read_chain, write_chain
from node.datadir import (
    OLD_NAME,
    REINDEX_NAME,
    STORE_NAME,
    NodeConfig,
    finish_swap,
    mark_swap,
    open_store,
    read_config,
    write_config,
)
from node.errors import DiskFull, NodeError
from node.intake import BlockIntake
from node.store import LevelStore
from protocol.amounts import format_cents
from protocol.crypto import hash_hex
from protocol.documents import Block
from protocol.forge import build_genesis, prove
from protocol.genesis import dev_genesis, dev_keypair
from protocol.keys import pubkey_display

DATADIR = click.option(
    "--datadir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("juned-data"),
    show_default=True,
    help="The node's data directory.",
)
JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


def progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
    )


def dev_block_zero(members: int, start: int) -> Block:
    """Block 0 of a dev currency founded by `members` dev members, issued by alice."""
    description = dev_genesis(time=start, members=members)
    founder = dev_keypair(description.identities[0].uid)
    draft = build_genesis(description, founder.public_key)
    nonce = prove(draft, draft.pow_min)
    assert nonce is not None  # prove returns None only when asked to stop
    return draft.signed(founder, nonce)


@click.command()
@DATADIR
@click.option(
    "--genesis",
    "genesis_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A chain file whose first block is the currency's block 0.",
)
@click.option("--dev", "dev_members", type=int, default=None, help="Found a new dev currency with N members.")
@click.option(
    "--time", "start", type=int, default=None, help="Genesis time of a dev currency [default: now]."
)
@click.option(
    "--key-file", type=click.Path(dir_okay=False, path_type=Path), help="Member key file to forge with."
)
@click.option("--listen", default="/ip4/0.0.0.0/tcp/7777", show_default=True, help="libp2p listen address.")
@click.option(
    "--api", default="127.0.0.1:8088", show_default=True, help="Client API address (the wallet's default)."
)
@JSON
def init(
    datadir: Path,
    genesis_file: Path | None,
    dev_members: int | None,
    start: int | None,
    key_file: Path | None,
    listen: str,
    api: str,
    as_json: bool,
) -> None:
    """Create a data directory for a currency: configuration, store and block 0."""
    if (genesis_file is None) == (dev_members is None):
        raise click.UsageError("give either --genesis FILE or --dev N")
    if (datadir / STORE_NAME).exists():
        raise click.ClickException(f"{datadir} already holds a store; June never overwrites one")
    if genesis_file is not None:
        try:
            genesis = next(read_chain(genesis_file))
        except (ChainFileError, StopIteration) as exc:
            raise click.ClickException(f"{genesis_file}: no block 0 ({exc})") from exc
    else:
        genesis = dev_block_zero(dev_members or 5, int(clock.time()) if start is None else start)
    store = LevelStore.open(datadir / STORE_NAME)
    try:
        result = ChainManager(store, genesis_hash=genesis.hash).add_block(genesis)
        if result.outcome is not Outcome.APPLIED:
            raise click.ClickException(f"block 0 refused: {result.reason}")
    finally:
        store.close()
    config = NodeConfig(
        currency=genesis.currency, genesis=genesis.hash, listen=listen, api=api, key_file=str(key_file or "")
    )
    write_config(datadir, config)
    summary = {"datadir": str(datadir), "currency": genesis.currency, "genesis": hash_hex(genesis.hash)}
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(
            f"Initialised {datadir} for currency {genesis.currency!r}, block 0 {hash_hex(genesis.hash)}"
        )


def describe_status(datadir: Path) -> dict[str, Any]:
    config, store = open_store(datadir)
    try:
        pointer = store.head_pointer()
        head = store.head()
        chain = store.chain()
        status: dict[str, Any] = {"currency": config.currency, "genesis": hash_hex(config.genesis)}
        if pointer is not None and head is not None and chain is not None:
            block = store.block(pointer[0])
            status |= {
                "head": {
                    "number": pointer[0],
                    "hash": hash_hex(pointer[1]),
                    "state_digest": hash_hex(pointer[2]),
                    "median_time": head.median_time,
                    "issuer": pubkey_display(block.issuer) if block else None,
                },
                "members": head.members_count,
                "dividend": head.dividend,
                "unit_base": head.unit_base,
                "monetary_mass": head.mass,
                "fork_candidates": len(store.fork_candidates()),
            }
        return status
    finally:
        store.close()


@click.command()
@DATADIR
@JSON
def status(datadir: Path, as_json: bool) -> None:
    """The node's chain: head, members, money, fork candidates."""
    summary = describe_status(datadir)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    console = Console()
    console.print(f"currency [cyan]{summary['currency']}[/cyan], block 0 {summary['genesis'][:16]}…")
    head = summary.get("head")
    if head is None:
        console.print("no block yet")
        return
    console.print(f"head #{head['number']} {head['hash'][:16]}… state {head['state_digest'][:16]}…")
    ud = format_cents(summary["dividend"] * 10 ** summary["unit_base"])
    console.print(
        f"{summary['members']} members, UD {ud}, "
        f"monetary mass {format_cents(summary['monetary_mass'], grouped=True)}, "
        f"{summary['fork_candidates']} fork candidates"
    )


@click.command(name="export")
@DATADIR
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
def export_chain(datadir: Path, output: Path) -> None:
    """Write the whole chain to a chain file."""
    _config, store = open_store(datadir)
    try:
        pointer = store.head_pointer()
        count = 0 if pointer is None else pointer[0] + 1
        with progress() as bar:
            task = bar.add_task("exporting", total=count)

            def blocks() -> Any:
                for number in range(count):
                    raw = store.block_bytes(number)
                    if raw is None:
                        raise NodeError(f"block {number} is missing from the store")
                    bar.advance(task)
                    yield raw

            written = write_chain(output, blocks())
    finally:
        store.close()
    click.echo(f"exported {written} blocks to {output}")


@click.command(name="import")
@DATADIR
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@JSON
def import_chain(datadir: Path, source: Path, as_json: bool) -> None:
    """Validate and apply the blocks of a chain file (already known ones are skipped)."""
    config, store = open_store(datadir)
    intake = BlockIntake(ChainManager(store, genesis_hash=config.genesis), clock=None)
    counts = {outcome.value: 0 for outcome in Outcome}
    try:
        total = _count_blocks(source)
        with progress() as bar:
            task = bar.add_task("importing", total=total)
            for index, block in enumerate(read_chain(source), start=1):
                # synced every 100 blocks and at the end: a crash re-imports at most the tail
                result = intake.take(block, durable=index % SYNC_EVERY == 0 or index == total)
                counts[result.outcome.value] += 1
                bar.advance(task)
                if result.outcome in (Outcome.INVALID, Outcome.JUNK, Outcome.QUARANTINED):
                    raise click.ClickException(f"block {block.number} is invalid: {result.reason}")
                if result.outcome is Outcome.WAITING:  # without a clock, only a full disk waits
                    raise DiskFull(f"block {block.number}")
        head = store.head_pointer()
    except ChainFileError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    summary = {"blocks": counts, "head": None if head is None else head[0]}
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(
            f"imported {counts['applied']} blocks ({counts['known']} already known); head #{summary['head']}"
        )


SYNC_EVERY = 100


def _count_blocks(path: Path) -> int:
    count = 0
    with path.open("rb") as stream:
        stream.seek(8)
        while header := stream.read(4):
            stream.seek(int.from_bytes(header, "big"), 1)
            count += 1
    return count


@click.command()
@DATADIR
@click.argument("count", type=click.IntRange(min=1))
def revert(datadir: Path, count: int) -> None:
    """Undo the last COUNT blocks (at most the fork window); they stay as fork candidates."""
    _config, store = open_store(datadir)
    try:
        pointer = store.head_pointer()
        if pointer is None or count > pointer[0]:
            raise click.ClickException("block 0 cannot be reverted: revert at most the blocks after it")
        for _ in range(count):
            block = store.revert_head()
            store.put_fork_candidate(block)
        pointer = store.head_pointer()
    finally:
        store.close()
    click.echo(f"reverted {count} blocks; head #{None if pointer is None else pointer[0]}")


@click.command()
@DATADIR
def reindex(datadir: Path) -> None:
    """Rebuild the state from the stored blocks, into a new store swapped in at the end."""
    config = read_config(datadir)
    _config, old = open_store(datadir)  # finishes an interrupted swap first
    fresh_path = datadir / REINDEX_NAME
    try:
        if fresh_path.exists():
            shutil.rmtree(fresh_path)  # a reindex interrupted earlier: start it again
        backup = datadir / OLD_NAME
        if backup.exists():
            shutil.rmtree(backup)
        fresh = LevelStore.open(fresh_path)
    except BaseException:
        old.close()
        raise
    try:
        manager = ChainManager(fresh, genesis_hash=config.genesis)
        pointer = old.head_pointer()
        count = 0 if pointer is None else pointer[0] + 1
        with progress() as bar:
            task = bar.add_task("reindexing", total=count)
            for number in range(count):
                block = old.block(number)
                if block is None:
                    raise NodeError(f"block {number} is missing from the store")
                # synced at the end only: the new store counts once the swap marker is written
                result = manager.add_block(block, durable=number == count - 1)
                if result.outcome is not Outcome.APPLIED:
                    raise NodeError(f"block {number} does not replay: {result.reason or result.outcome}")
                bar.advance(task)
        if fresh.head_pointer() != pointer:
            raise NodeError("the rebuilt state does not reach the same head and digest")
    finally:
        fresh.close()
        old.close()
    mark_swap(datadir)  # from here on, any command opening the data directory finishes the swap
    finish_swap(datadir)
    click.echo(f"reindexed {count} blocks; same head and state digest")
