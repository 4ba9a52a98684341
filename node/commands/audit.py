"""`juned audit`: re-verify a whole chain from genesis, trusting no node (docs/audit.md).

Exit status: 0 when the chain is valid, 1 when a rule is broken, 2 when the source cannot be read
to its end (missing, damaged, locked by a running node).
"""

import json
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from node.audit.peers import cross_check, download, verified_index
from node.audit.replay import AuditReport, ProgressCallback
from node.audit.replay import audit as run_audit
from node.audit.report import render, to_json
from node.audit.signatures import default_workers
from node.audit.source import AuditSourceError, open_source
from protocol.crypto import parse_hash_hex

EXIT_VALID, EXIT_INVALID, EXIT_INCOMPLETE = 0, 1, 2


@click.command()
@click.option(
    "--datadir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Audit the chain of this (stopped) node's data directory; nothing is written to it.",
)
@click.option(
    "--chain",
    "chain_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Audit a chain file written by `juned export`.",
)
@click.option(
    "--peer",
    "peers",
    multiple=True,
    help="Download the chain from this peer (repeatable: the best head is followed, the others are "
    "fallbacks), then verify it.",
)
@click.option("--genesis", help="With --peer: only accept peers of the currency whose block 0 has this hash.")
@click.option(
    "--cross-check",
    "cross_peers",
    multiple=True,
    help="After verifying, compare this peer's block hashes and state digests with the verified chain "
    "(repeatable); peers that disagree are named.",
)
@click.option(
    "--keep-going",
    is_flag=True,
    help="List every violation instead of stopping at the first (docs/audit.md: what is checked after one).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=None,
    help="Signature-checking processes (0: check in this process) [default: one per core but one, "
    "none for chains under 20,000 blocks].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def audit(
    datadir: Path | None,
    chain_file: Path | None,
    peers: tuple[str, ...],
    genesis: str | None,
    cross_peers: tuple[str, ...],
    keep_going: bool,
    workers: int | None,
    as_json: bool,
) -> None:
    """Replay a chain from block 0: every signature, every rule, the state digest at every height."""
    if sum(1 for given in (datadir, chain_file, peers or None) if given is not None) != 1:
        raise click.UsageError("give one source: --datadir PATH, --chain FILE or --peer ADDRESS")
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    with tempfile.TemporaryDirectory(prefix="june-audit-") as scratch:
        try:
            if peers:
                chain_file = Path(scratch) / "downloaded.chain"
                pinned = None if genesis is None else parse_hash_hex(genesis)
                label = download(peers, chain_file, genesis=pinned)
                console.print(label)
            source = open_source(datadir=datadir, chain=chain_file)
            count = workers if workers is not None else workers_for(source.count())
        except (AuditSourceError, ValueError) as exc:
            if as_json:
                click.echo(json.dumps({"verdict": "incomplete", "error": str(exc)}, indent=2))
            else:
                console.print(f"[bold red]cannot audit[/]: {exc}")
            sys.exit(EXIT_INCOMPLETE)
        try:
            with _progress_bar(console, enabled=not as_json) as progress:
                report = run_audit(source, workers=count, keep_going=keep_going, progress=progress)
            verdicts = []
            if cross_peers and report.blocks_read:
                verdicts = cross_check(cross_peers, verified_index(source.blocks()))
        finally:
            source.close()
    if as_json:
        click.echo(json.dumps({**to_json(report), "cross_check": [asdict(v) for v in verdicts]}, indent=2))
    else:
        render(report, Console(highlight=False, soft_wrap=True))
        for verdict in verdicts:
            mark = "agrees" if verdict.agrees else "DISAGREES"
            click.echo(f"peer {verdict.address}: {mark} — {verdict.reason}")
    disagreeing = any(not v.agrees for v in verdicts)
    sys.exit(EXIT_INVALID if disagreeing and exit_status(report) == EXIT_VALID else exit_status(report))


#: Below this many blocks, starting signature worker processes costs more than they save
#: (measured: a 3,000-block chain audits at ~1,900 blocks/s in one process, ~1,000 with a worker).
WORKERS_FROM_BLOCKS = 20_000


def workers_for(blocks: int) -> int:
    return default_workers() if blocks >= WORKERS_FROM_BLOCKS else 0


def exit_status(report: AuditReport) -> int:
    if report.violations:
        return EXIT_INVALID
    return EXIT_VALID if report.valid else EXIT_INCOMPLETE


@contextmanager
def _progress_bar(console: Console, *, enabled: bool) -> Iterator[ProgressCallback | None]:
    """A progress callback drawing a bar with the rate and the time left (on a terminal only)."""
    if not enabled or not console.is_terminal:
        yield None
        return
    bar = Progress(
        TextColumn("replaying"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    task = bar.add_task("replay", total=None)

    def advance(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    with bar:
        yield advance
