"""Files the wallet writes and reads for its member: one way to write a private file, one way to
read a small file without trusting its size.

Key files, exported keys and revocations are secrets or close to it: they are created readable by
their owner only (0600), never over an existing file (a lost key cannot be undone), synced to disk
with their directory entry (so a crash right after "written" does not lose them), and removed if
writing fails half-way. Files given to the wallet (keys to import, recipients) are read up to a
bound, so a huge or endless file costs nothing.
"""

import os
from pathlib import Path

from wallet.errors import InputError


def write_private_file(path: Path, text: str) -> None:
    """Create `path` holding `text`: mode 0600, never over an existing file, synced to disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise InputError(f"{path} already exists; June never overwrites it") from exc
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    try:  # the directory entry too, so the file survives a crash right after
        directory = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(directory)
    except OSError:
        pass
    finally:
        os.close(directory)


def read_bounded(path: Path, limit: int, what: str) -> bytes:
    """The bytes of `path`, reading no more than one byte past `limit`; `InputError` naming `what`
    the file should be when it cannot be read or is larger."""
    try:
        with path.open("rb") as source:
            data = source.read(limit + 1)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    if len(data) > limit:
        raise InputError(f"{path} is not {what}: larger than {limit} bytes")
    return data
