"""The audit report in plain words for people, and as JSON for machines."""

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, TypeVar

from rich.console import Console
from rich.table import Table

from node.audit.replay import AuditReport, Dividend, Violation
from protocol.amounts import format_cents
from protocol.crypto import hash_hex

#: Violations listed on the terminal; JSON always lists them all.
SHOWN_VIOLATIONS = 30
#: Rows of the members and dividend histories shown on the terminal.
SHOWN_ROWS = 8

T = TypeVar("T")


def to_json(report: AuditReport) -> dict[str, Any]:
    """Every figure of the report, as JSON values (hashes in upper-case hex, money in cents)."""
    first = report.violations[0] if report.violations else None
    elapsed = max(report.elapsed, 1e-9)
    destroyed = None if report.circulating is None else report.monetary_mass - report.circulating
    return {
        "verdict": report.verdict,
        "source": report.source,
        "currency": report.currency,
        "genesis": _json_hex(report.genesis),
        "blocks": {"total": report.total, "read": report.blocks_read, "replayed": report.replayed},
        "head": None
        if report.head_height is None
        else {
            "height": report.head_height,
            "hash": _json_hex(report.head_hash),
            "median_time": report.head_median_time,
            "state_digest": _json_hex(report.state_digest),
        },
        "signatures": report.signatures,
        "members": {
            "now": report.members,
            "peak": report.members_peak,
            "history": [[p.height, p.median_time, p.members] for p in report.members_history],
        },
        "money": {
            "monetary_mass": report.monetary_mass,
            "circulating": report.circulating,
            "destroyed": destroyed,
            "dividend": report.dividend,
            "unit_base": report.unit_base,
            "dividends": [asdict(d) for d in report.dividends],
        },
        "documents": asdict(report.totals),
        "first_violation": None if first is None else asdict(first),
        "violations": [asdict(v) for v in report.violations],
        "rules_stopped_at": report.rules_stopped_at,
        "source_error": report.source_error,
        "node": None
        if report.claims is None
        else {
            "currency": report.claims.currency,
            "genesis": _json_hex(report.claims.genesis),
            "head_height": report.claims.head_number,
            "head_hash": _json_hex(report.claims.head_hash),
            "head_state_digest": _json_hex(report.claims.head_digest),
        },
        "keep_going": report.keep_going,
        "workers": report.workers,
        "elapsed_seconds": round(report.elapsed, 3),
        "blocks_per_second": round(report.blocks_read / elapsed, 1),
        "signatures_per_second": round(report.signatures / elapsed, 1),
    }


def render(report: AuditReport, console: Console) -> None:
    """The human summary: the verdict first, then what the chain holds."""
    elapsed = max(report.elapsed, 1e-9)
    console.print(
        f"Audited {report.source}: {report.blocks_read:,} blocks, {report.signatures:,} signatures "
        f"in {report.elapsed:.1f} s ({report.blocks_read / elapsed:,.0f} blocks/s, "
        f"{report.signatures / elapsed:,.0f} signatures/s, {_workers(report.workers)})."
    )
    _verdict(report, console)
    if report.head_height is not None:
        _figures(report, console)


def _verdict(report: AuditReport, console: Console) -> None:
    if report.valid:
        console.print(
            f"[bold green]VALID[/]: every signature and every rule of blocks 0–{report.head_height} hold, "
            "and the state digest each block commits to matches the replayed state at every height."
        )
        return
    if report.violations:
        first = report.violations[0]
        console.print(f"[bold red]INVALID[/]: block {first.height} breaks rule {first.code}: {first.reason}.")
        if report.keep_going and len(report.violations) > 1:
            _violations(report.violations, console)
        elif not report.keep_going:
            console.print("The audit stopped there; add --keep-going to look for further violations.")
    if report.rules_stopped_at is not None and report.keep_going:
        console.print(
            f"From block {report.rules_stopped_at} on the state is unknown, so only the signatures and "
            "the local rules of the remaining blocks were checked."
        )
    if report.source_error is not None:
        console.print(f"[bold yellow]INCOMPLETE[/]: the source broke off: {report.source_error}.")
        if report.replayed:
            console.print(f"Blocks 0–{report.replayed - 1} were read and checked before that.")
    elif report.blocks_read == 0:
        console.print("[bold yellow]INCOMPLETE[/]: the source holds no block.")


def _violations(violations: list[Violation], console: Console) -> None:
    table = Table("block", "rule", "reason", title=f"{len(violations):,} violations", title_justify="left")
    for violation in violations[:SHOWN_VIOLATIONS]:
        table.add_row(str(violation.height), violation.code, violation.reason)
    console.print(table)
    if len(violations) > SHOWN_VIOLATIONS:
        console.print(f"… and {len(violations) - SHOWN_VIOLATIONS:,} more (--json lists them all).")


def _figures(report: AuditReport, console: Console) -> None:
    assert report.head_height is not None and report.head_median_time is not None
    replayed = "" if report.replayed == report.blocks_read else " (the last block whose state is known)"
    figures = Table.grid(padding=(0, 2))
    figures.add_row("currency", f"{report.currency}, block 0 {_hex(report.genesis)[:16]}…")
    figures.add_row(
        "head",
        f"#{report.head_height} {_hex(report.head_hash)[:16]}…, {_date(report.head_median_time)}{replayed}",
    )
    figures.add_row("state digest", f"{_hex(report.state_digest)}")
    figures.add_row("members", f"{report.members:,} now, {report.members_peak:,} at most")
    totals = report.totals
    figures.add_row(
        "web of trust",
        f"{totals.identities:,} identities, {totals.certifications:,} certifications, "
        f"{totals.renewals:,} renewals, {totals.leavers:,} leavers, {totals.exclusions:,} exclusions, "
        f"{totals.revocations:,} revocations",
    )
    figures.add_row(
        "transactions", f"{totals.transactions:,} ({totals.inputs:,} inputs, {totals.outputs:,} outputs)"
    )
    figures.add_row("monetary mass", _money(report.monetary_mass))
    if report.circulating is not None:
        destroyed = report.monetary_mass - report.circulating
        figures.add_row(
            "in accounts", f"{_money(report.circulating)} ({_money(destroyed)} destroyed by the 1-unit rule)"
        )
    if report.dividend is not None:
        current = _money(report.dividend * 10**report.unit_base)
        figures.add_row("dividend", f"{len(report.dividends):,} UDs created; the current UD is {current}")
    console.print(figures)
    if len(report.members_history) > 1:
        members = Table("date", "block", "members", title="Members over time", title_justify="left")
        for point in _sample(report.members_history):
            members.add_row(_date(point.median_time), str(point.height), f"{point.members:,}")
        console.print(members)
    if report.dividends:
        dividends = Table(
            "date", "block", "UD", "members", "monetary mass", title="UD history", title_justify="left"
        )
        for dividend in _sample(_changes(report.dividends)):
            dividends.add_row(
                _date(dividend.median_time),
                str(dividend.height),
                _money(dividend.amount * 10**dividend.unit_base),
                f"{dividend.members:,}",
                _money(dividend.mass),
            )
        console.print(dividends)


def _changes(dividends: list[Dividend]) -> list[Dividend]:
    """The first UD, each one whose amount differs from the one before, and the last."""
    kept = [
        d
        for n, d in enumerate(dividends)
        if n == 0 or (d.amount, d.unit_base) != (dividends[n - 1].amount, dividends[n - 1].unit_base)
    ]
    if kept[-1] is not dividends[-1]:
        kept.append(dividends[-1])
    return kept


def _sample(rows: list[T]) -> list[T]:
    """At most `SHOWN_ROWS` rows, evenly spread, the first and last included."""
    if len(rows) <= SHOWN_ROWS:
        return rows
    step = (len(rows) - 1) / (SHOWN_ROWS - 1)
    return [rows[round(k * step)] for k in range(SHOWN_ROWS)]


def _money(cents: int) -> str:
    return format_cents(cents, grouped=True)


def _date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M")


def _hex(value: bytes | None) -> str:
    return "" if value is None else hash_hex(value)


def _json_hex(value: bytes | None) -> str | None:
    return None if value is None else hash_hex(value)


def _workers(workers: int) -> str:
    if workers == 0:
        return "signatures checked in this process"
    return f"{workers} signature worker{'s' if workers > 1 else ''}"
