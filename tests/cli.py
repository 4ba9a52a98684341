"""Running June's console scripts as a user would: a real process, stdin, stdout, exit code."""

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def run(
    program: str, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / program), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )
