"""The proof-of-work search in worker processes, so it never blocks the node's event loop.

Workers split the nonces (worker i tries i, i + n, i + 2n, …), run at a configurable share of a
CPU (each works `cpu_share` of every 100 ms and sleeps the rest), and stop as soon as one of them
finds a nonce or the node cancels the search (a better head arrived).
"""

import multiprocessing
import queue
import time
from dataclasses import dataclass
from multiprocessing.synchronize import Event

from protocol.documents import Block
from protocol.forge import prove_inner_hash

DUTY_PERIOD = 0.1
TRIES_BETWEEN_CHECKS = 2048


@dataclass
class _Throttle:
    """Called between batches of tries: sleeps to keep the worker at `share` of a CPU."""

    share: float
    stop: Event
    started: float = 0.0

    def __call__(self) -> bool:
        if self.stop.is_set():
            return True
        if self.share < 1.0:
            now = time.monotonic()
            if now - self.started >= self.share * DUTY_PERIOD:
                time.sleep((1.0 - self.share) * DUTY_PERIOD)
                self.started = time.monotonic()
        return self.stop.is_set()


def _work(
    inner_hash: bytes,
    difficulty: int,
    start: int,
    step: int,
    share: float,
    stop: Event,
    found: "multiprocessing.Queue[int]",
) -> None:
    throttle = _Throttle(share, stop, time.monotonic())
    nonce = prove_inner_hash(
        inner_hash, difficulty, start=start, step=step, should_stop=throttle, check_every=TRIES_BETWEEN_CHECKS
    )
    if nonce is not None:
        found.put(nonce)
        stop.set()


class ProofSearch:
    """A running nonce search for `block` at `difficulty`."""

    def __init__(self, block: Block, difficulty: int, *, workers: int = 1, cpu_share: float = 1.0) -> None:
        if not 0.0 < cpu_share <= 1.0:
            raise ValueError(f"cpu_share must be in (0, 1], got {cpu_share}")
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._found: multiprocessing.Queue[int] = context.Queue()
        inner_hash = bytes(block.inner_hash)
        self._processes = [
            context.Process(
                target=_work,
                args=(inner_hash, difficulty, index, workers, cpu_share, self._stop, self._found),
                daemon=True,
                name=f"june-prover-{index}",
            )
            for index in range(workers)
        ]
        for process in self._processes:
            process.start()

    def result(self, timeout: float | None = None) -> int | None:
        """The nonce found, or None if the search was cancelled or `timeout` passed first."""
        try:
            nonce = self._found.get(timeout=timeout)
        except queue.Empty:
            return None
        self.cancel()
        return nonce

    def cancel(self) -> None:
        """Stop every worker (a better head arrived, or the node is shutting down)."""
        self._stop.set()
        for process in self._processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)

    @property
    def running(self) -> bool:
        return any(p.is_alive() for p in self._processes)
