"""What this wallet sent: a small append-only journal, so that `june check` can tell when a node
dropped a document the user believes is on its way.

One JSON object a line in `$XDG_STATE_HOME/june/sent.jsonl` (default `~/.local/state/june/`;
`JUNE_STATE_DIR` names the directory instead, for tests and for several wallets on one machine).
Two kinds of line, oldest first:

* a sending: `{"time", "hash", "kind", "label", "result"[, "reason", "until"]}` (`time` is the
  wall-clock Unix time of sending, `result` the node's answer: accepted, waiting or known);
* an outcome learnt later: `{"time", "hash", "state": "written"|"dropped"[, "block", "reason"]}`.

The file is private (mode 0600: hashes and labels say whom the user pays and certifies), bounded
to the last `MAX_ENTRIES` lines, and read forgivingly: a damaged line is skipped, never a crash.
A journal that cannot be written only costs a note on standard error: the document was sent.
"""

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

#: Lines kept; older ones are forgotten when the journal grows past this.
MAX_ENTRIES = 1000
FILE_NAME = "sent.jsonl"
#: Outcomes after which the node need not be asked again.
FINAL_STATES = ("written", "dropped")


def journal_path() -> Path:
    """Where the journal lives: `$JUNE_STATE_DIR`, else `$XDG_STATE_HOME/june`, else `~/.local/state/june`."""
    override = os.environ.get("JUNE_STATE_DIR")
    if override:
        return Path(override) / FILE_NAME
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "june" / FILE_NAME


def _append(entry: dict[str, Any]) -> None:
    path = journal_path()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry, sort_keys=True) + "\n")
        _trim(path)
    except OSError as exc:
        print(f"note: could not write the journal {path}: {exc}", file=sys.stderr)


def _trim(path: Path) -> None:
    """Keep the last `MAX_ENTRIES` lines, replacing the file at once (never half written)."""
    lines = path.read_bytes().splitlines(keepends=True)
    if len(lines) <= MAX_ENTRIES:
        return
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.writelines(lines[-MAX_ENTRIES:])
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def remember_sent(answer: dict[str, Any], kind: str, label: str) -> None:
    """Note a document a node acknowledged (`answer`: its JSON answer to `POST /documents`)."""
    if "hash" not in answer:
        return
    entry = {
        "time": int(time.time()),
        "hash": str(answer["hash"]),
        "kind": kind,
        "label": label,
        "result": str(answer.get("result")),
    }
    entry.update({key: answer[key] for key in ("reason", "until") if answer.get(key) is not None})
    _append(entry)


def remember_outcome(status: dict[str, Any]) -> None:
    """Note the final outcome (`GET /documents/{hash}`: written or dropped) of a document sent."""
    if status.get("state") not in FINAL_STATES:
        return
    entry = {"time": int(time.time()), "hash": str(status["hash"]), "state": str(status["state"])}
    entry.update({key: status[key] for key in ("block", "reason") if status.get(key) is not None})
    _append(entry)


def _lines(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    except OSError as exc:
        print(f"note: could not read the journal {path}: {exc}", file=sys.stderr)
        return []
    entries = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("hash"), str) and type(entry.get("time")) is int:
            entries.append(entry)
    return entries


def sent_documents() -> list[dict[str, Any]]:
    """The documents sent, oldest first, each with its latest known outcome merged in (`state`,
    and `block` or `reason`) when one was learnt."""
    sent: dict[str, dict[str, Any]] = {}
    for entry in _lines(journal_path()):
        if "kind" in entry:
            sent[entry["hash"]] = dict(entry)
        elif entry["hash"] in sent and entry.get("state") in FINAL_STATES:
            known = sent[entry["hash"]]
            known["state"] = entry["state"]
            for key in ("block", "reason"):
                if key in entry:
                    known[key] = entry[key]
    return list(sent.values())
