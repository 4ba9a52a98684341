"""Operator commands on a data directory: init, status, export, import, revert, reindex."""

import json
import shutil
import sys
import time as clock
from contextlib import closing
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any

import click
import trio
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from node.chain import AddResult, ChainManager, Outcome
from node.chainfile import ChainFileError, read_block_zero, read_chain, write_chain
from node.commands import live
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
from node.p2p.client import JOIN_TIMEOUT, PeerAnswerError, UnreachablePeer, fetch_block_zero
from node.store import LevelStore
from protocol.amounts import format_cents
from protocol.crypto import hash_hex, parse_hash_hex
from protocol.documents import Block
from protocol.errors import ProtocolError
from protocol.forge import build_genesis, prove
from protocol.genesis import dev_genesis, dev_keypair
from protocol.keys import pubkey_display
from protocol.rules.block import validate_block
from protocol.state.memory import MemoryState

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
    help="Block 0 of the currency: a chain file, or a raw block file (GET /blocks/0/raw, block0.cbor).",
)
@click.option("--dev", "dev_members", type=int, default=None, help="Found a new dev currency with N members.")
@click.option(
    "--join",
    "join_address",
    metavar="MULTIADDR",
    help="Fetch block 0 from this peer (/ip4/HOST/tcp/PORT/p2p/PEER_ID) and bootstrap from it.",
)
@click.option(
    "--genesis-hash",
    metavar="HASH",
    help="With --join: the block 0 hash you were given; anything else is refused.",
)
@click.option("--yes", is_flag=True, help="With --join: do not ask to confirm the peer's currency.")
@click.option(
    "--timeout",
    "join_timeout",
    type=click.FloatRange(min=1),
    default=JOIN_TIMEOUT,
    show_default=True,
    help="With --join: seconds to wait for the peer in all.",
)
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
    join_address: str | None,
    genesis_hash: str | None,
    yes: bool,
    join_timeout: float,
    start: int | None,
    key_file: Path | None,
    listen: str,
    api: str,
    as_json: bool,
) -> None:
    """Create a data directory for a currency: configuration, store and block 0.

    Block 0 comes from a file (--genesis), from a peer (--join, checked against --genesis-hash or
    confirmed by you), or is made for a new dev currency (--dev)."""
    if sum(option is not None for option in (genesis_file, dev_members, join_address)) != 1:
        raise click.UsageError("give one of --genesis FILE, --join MULTIADDR or --dev N")
    if join_address is None and (genesis_hash is not None or yes):
        raise click.UsageError("--genesis-hash and --yes go with --join")
    if (datadir / STORE_NAME).exists():
        raise click.ClickException(f"{datadir} already holds a store; June never overwrites one")
    bootstrap: list[str] = []
    if genesis_file is not None:
        try:
            genesis = read_block_zero(genesis_file)
        except ChainFileError as exc:
            raise click.ClickException(str(exc)) from exc
    elif join_address is not None:
        genesis = join_block_zero(join_address, genesis_hash, yes=yes, timeout=join_timeout)
        bootstrap = [join_address]
    else:
        genesis = dev_block_zero(dev_members or 5, int(clock.time()) if start is None else start)
    store = LevelStore.open(datadir / STORE_NAME)
    try:
        result = ChainManager(store, genesis_hash=genesis.hash).add_block(genesis)
        if result.outcome is not Outcome.APPLIED:
            raise click.ClickException(f"block 0 refused: {result.reason}")
    except BaseException:
        store.close()
        shutil.rmtree(datadir / STORE_NAME, ignore_errors=True)  # so that init can be run again
        raise
    store.close()
    config = NodeConfig(
        currency=genesis.currency,
        genesis=genesis.hash,
        listen=listen,
        bootstrap=bootstrap,
        api=api,
        key_file=str(key_file or ""),
    )
    write_config(datadir, config)
    summary = {"datadir": str(datadir), "currency": genesis.currency, "genesis": hash_hex(genesis.hash)}
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(
            f"Initialised {datadir} for currency {genesis.currency!r}, block 0 {hash_hex(genesis.hash)}"
        )


def refusal_of_block_zero(block: Block) -> str | None:
    """Why `block` is not a valid block 0 (the first rule it breaks), or None if it is one.

    A peer met by address is not trusted: its block 0 is checked by the same rules as any block,
    on an empty state, before it is shown to the operator."""
    if block.number != 0:
        return f"it is block {block.number}, not a block 0"
    try:
        validate_block(MemoryState(), block)
    except ProtocolError as exc:
        return str(exc)
    return None


def describe_block_zero(block: Block) -> list[str]:
    """What an operator needs to recognise a currency: its name, block 0 hash, founders and the
    parameters that say what money it is (the dividend, its growth, the web of trust's bar)."""
    lines = [
        f"currency      {block.currency}",
        f"block 0       {hash_hex(block.hash)}",
        f"founders      {len(block.identities)}: " + ", ".join(sorted(i.uid for i in block.identities)),
    ]
    p = block.parameters
    if p is not None:
        lines += [
            f"dividend      UD0 {format_cents(p.ud0)} every {_duration(p.dt)}, "
            f"c = {p.c:g} per {_duration(p.dt_reeval)}",
            f"web of trust  {p.sig_qty} certifications to be a member, valid {_duration(p.sig_validity)}; "
            f"membership valid {_duration(p.ms_validity)}",
            f"blocks        every {_duration(p.avg_gen_time)} on average",
        ]
    return lines


def _duration(seconds: int) -> str:
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def join_block_zero(address: str, genesis_hash: str | None, *, yes: bool, timeout: float) -> Block:
    """Block 0 of the peer at `address`, validated and accepted: it must equal `genesis_hash` when
    one is given, otherwise the operator confirms it (`yes` skips; a script without a terminal must
    pass the hash, since nobody could look at what it would accept). Every refusal is one line."""
    expected = None
    if genesis_hash is not None:
        try:
            expected = parse_hash_hex(genesis_hash.strip())
        except ValueError as exc:
            raise click.ClickException(f"--genesis-hash: {exc}") from exc
    try:
        _status, block = trio.run(partial(fetch_block_zero, address, timeout=timeout))
    except (UnreachablePeer, PeerAnswerError) as exc:
        raise click.ClickException(f"cannot join: {exc}") from None
    refusal = refusal_of_block_zero(block)
    if refusal is not None:
        raise click.ClickException(f"{address} sent an invalid block 0, refused: {refusal}")
    if expected is not None:
        if block.hash != expected:
            raise click.ClickException(
                f"{address} keeps block 0 {hash_hex(block.hash)} of currency {block.currency!r}, "
                f"not {hash_hex(expected)}: refused"
            )
        click.echo(f"{address} keeps block 0 {hash_hex(block.hash)} of currency {block.currency!r}, as given")
        return block
    for line in describe_block_zero(block):
        click.echo(line)
    if yes:
        return block
    if not sys.stdin.isatty():
        raise click.ClickException(
            "no terminal to confirm this block 0: pass --genesis-hash HASH (the hash you were given) or --yes"
        )
    if not click.confirm("Join this currency?", default=False):
        raise click.ClickException("not joined")
    return block


def describe_status(datadir: Path) -> dict[str, Any]:
    config, store = open_store(datadir)
    try:
        return describe_store(config, store)
    finally:
        store.close()


def describe_store(config: NodeConfig, store: LevelStore) -> dict[str, Any]:
    """The summary `juned status` prints, read from the store of a stopped node."""
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


@click.command()
@DATADIR
@live.API
@JSON
def status(datadir: Path, api_url: str | None, as_json: bool) -> None:
    """The node's chain: head, members, money, fork candidates; asked of the node itself (its
    client API) while it runs, read from its store when it is stopped."""
    source = live.open_source(datadir, api_url)
    if isinstance(source, live.Running):
        try:
            summary = live.live_status(source.api)
        finally:
            source.api.close()
    else:
        try:
            summary = describe_store(source.config, source.store) | {"running": False}
        finally:
            source.store.close()
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    console = Console()
    console.print(f"currency [cyan]{summary['currency']}[/cyan], block 0 {summary['genesis'][:16]}…")
    if summary["running"]:
        console.print(
            f"running node (client API {summary['api']}): {summary['peers']} peers, "
            f"{summary['pending']} pending documents"
        )
    head = summary.get("head")
    if head is None:
        console.print("no block yet")
        return
    console.print(f"head #{head['number']} {head['hash'][:16]}… state {head['state_digest'][:16]}…")
    ud = format_cents(summary["dividend"] * 10 ** summary["unit_base"])
    candidates = summary["fork_candidates"]
    console.print(
        f"{summary['members']} members, UD {ud}, "
        f"monetary mass {format_cents(summary['monetary_mass'], grouped=True)}"
        + ("" if candidates is None else f", {candidates} fork candidates")
    )


@click.command(name="export")
@DATADIR
@live.API
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
def export_chain(datadir: Path, api_url: str | None, output: Path) -> None:
    """Write the whole chain to a chain file: from the store of a stopped node, or block by block
    from a running node's client API, up to its head when the export starts."""
    source = live.open_source(datadir, api_url)
    if isinstance(source, live.Running):
        try:
            count, currency = live.live_head(source.api)
            with progress() as bar:
                task = bar.add_task("exporting", total=count)
                written = live.export_live(
                    source.api, output, count, currency, advance=partial(bar.advance, task)
                )
        finally:
            source.api.close()
        click.echo(f"exported {written} blocks to {output} from the running node at {source.api.url}")
        return
    store = source.store
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
    manager = ChainManager(store, genesis_hash=config.genesis)
    counts = {outcome.value: 0 for outcome in Outcome}
    try:
        refuse_foreign_chain(source, config)
        total = _count_blocks(source)
        with progress() as bar:
            task = bar.add_task("importing", total=total)
            blocks = read_chain(source)
            while chunk := list(islice(blocks, IMPORT_RUN)):
                for result in _import_run(manager, chunk):
                    counts[result.outcome.value] += 1
                bar.advance(task, len(chunk))
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


#: Blocks read from the file and handed to the chain at a time. The chain validates a run on an
#: in-memory layer and writes it in synced batches (`ChainManager.extend_run`, as the sync does):
#: a crash re-imports at most the batch under way.
IMPORT_RUN = 1000


def _import_run(manager: ChainManager, blocks: list[Block]) -> list[AddResult]:
    """The outcome of each of `blocks`; a block that breaks a rule, or that the node failed to apply,
    ends the import with its number and reason. Blocks the chain does not take (an orphan, a fork
    too old) are counted and the import goes on, as it always did."""
    results: list[AddResult] = []
    while len(results) < len(blocks):
        run = manager.extend_run(blocks[len(results) :])
        for block, result in zip(blocks[len(results) :], run.results, strict=False):
            if result.outcome in (Outcome.INVALID, Outcome.JUNK):
                raise click.ClickException(f"block {block.number} is invalid: {result.reason}")
        results.extend(run.results)
        if run.error is not None:
            failed = blocks[len(results)].number
            if isinstance(run.error, DiskFull):
                raise DiskFull(f"block {failed}") from run.error
            raise click.ClickException(f"block {failed} could not be applied: {run.error}") from run.error
        if not run.results:  # a run takes at least one block or says why not
            raise click.ClickException(f"block {blocks[len(results)].number} was not taken")
    return results


def refuse_foreign_chain(source: Path, config: NodeConfig) -> None:
    """Refuse, in one line, a chain file with no block or of another currency than the node's.

    Its blocks would otherwise each be refused as not fitting (or skipped), and the import would
    "succeed" with nothing imported: an operator who picked the wrong file must be told so."""
    with closing(read_chain(source)) as blocks:
        first = next(blocks, None)
    if first is None:
        raise click.ClickException(f"{source} holds no block")
    if first.currency != config.currency:
        raise click.ClickException(
            f"{source} is a chain of currency {first.currency!r}, this node keeps {config.currency!r}"
        )
    if first.number == 0 and first.hash != config.genesis:
        raise click.ClickException(
            f"{source} is a chain of currency {first.currency!r} with block 0 {hash_hex(first.hash)[:16]}…, "
            f"this node keeps {config.currency!r} with block 0 {hash_hex(config.genesis)[:16]}…"
        )


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
