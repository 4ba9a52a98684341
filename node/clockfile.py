"""A development clock shared by separate `juned` processes through a small file.

`juned devnet` runs its nodes in one process, so they share one `Clock` object. Nodes started as
separate processes (a test founding a currency with Ğ1's parameters, a rehearsal of a network on
several machines' worth of processes) need the same: a clock that every one of them reads alike and
that can jump ahead, so that hours of blocks (one every `avgGenTime` = 5 minutes under Ğ1's rules)
and days of dividends pass in seconds. `juned run --dev-clock FILE` reads the time as the wall clock
plus the lead the file holds, `{"lead": <seconds>}`, read again whenever the file changes; whoever
drives the rehearsal moves every node's clock at once with `DevClockFile.jump` (or by rewriting the
file). Only a development network should use it: a real node keeps the wall clock.
"""

import json
import os
import time
from pathlib import Path

from node.clock import Clock
from node.errors import NodeError

#: A dev clock file is a few bytes; a larger one is not read.
MAX_CLOCK_FILE = 4096


class DevClockError(NodeError):
    """The dev clock file cannot be read or holds no lead."""


class DevClockFile(Clock):
    """Wall-clock time plus the lead kept in `path` (re-read when the file changes)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._seen: tuple[int, int] | None = None
        self._lead = 0.0
        if not path.exists():
            write_lead(path, 0.0)
        self._refresh()

    def now(self) -> int:
        self._refresh()
        return int(time.time() + self._lead)

    def jump(self, seconds: float) -> None:
        """Move every clock reading this file ahead by `seconds`."""
        if seconds < 0:
            raise ValueError("a clock only jumps ahead")
        self._refresh()
        write_lead(self.path, self._lead + seconds)
        self._refresh()

    def lead(self) -> float:
        self._refresh()
        return self._lead

    def _refresh(self) -> None:
        try:
            status = self.path.stat()
        except OSError as exc:
            raise DevClockError(f"cannot read the dev clock {self.path}: {exc}") from exc
        seen = (status.st_mtime_ns, status.st_size)
        if seen == self._seen:
            return
        self._lead = read_lead(self.path)
        self._seen = seen


def read_lead(path: Path) -> float:
    """The lead, in seconds, a dev clock file holds."""
    try:
        with path.open("rb") as source:
            data = source.read(MAX_CLOCK_FILE + 1)
        lead = json.loads(data)["lead"] if len(data) <= MAX_CLOCK_FILE else None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DevClockError(f'{path} is not a dev clock file (expected {{"lead": seconds}}): {exc}') from exc
    if not isinstance(lead, int | float) or isinstance(lead, bool) or lead < 0:
        raise DevClockError(f"{path}: the lead must be a number of seconds, at least 0")
    return float(lead)


def write_lead(path: Path, lead: float) -> None:
    """Replace the file at once (write, then rename), so a reader never sees half of it."""
    partial = path.with_name(path.name + ".part")
    partial.write_text(json.dumps({"lead": lead}), encoding="utf-8")
    os.replace(partial, path)
