"""Helpers shared by the benchmarks: timing, the shared data directory, raw signature speed."""

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from protocol.crypto import verify  # noqa: E402
from protocol.keys import Keypair  # noqa: E402


def shared_dir() -> Path:
    return Path(os.environ.get("JUNE_SHARED", ROOT.parent / "shared"))


def best_of(repeat: int, function: Callable[[], object]) -> float:
    """The fastest of `repeat` runs, in seconds (the least disturbed by the machine's noise)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def raw_verifications_per_second(count: int = 3000) -> float:
    """Ed25519 verifications per second on one core, through the same call June uses."""
    key = Keypair(bytes(range(32)))
    message = b"june benchmark message " * 8
    signature = key.sign(message)
    public = key.public_key

    def run() -> None:
        for _ in range(count):
            verify(public, message, signature)

    return count / best_of(3, run)
