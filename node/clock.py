"""The node's clock: wall-clock time, optionally sped up, plus an offset a development network can
move ahead.

Consensus code never reads a clock (time is an argument); only the node's forger and the "dated
too far ahead" check ask this one. A devnet shares one clock between its nodes, so that a jump or a
speed-up is seen by all of them at once, and keeps `lead()` in its directory so that a resumed
devnet's clock goes on from where it was rather than back to today (its chain is dated ahead).
"""

import time


class Clock:
    def __init__(self, offset: float = 0.0, *, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("a clock's speed must be positive")
        self.offset = offset
        self.speed = speed
        self._origin = time.time()

    def now(self) -> int:
        elapsed = time.time() - self._origin
        return int(self._origin + elapsed * self.speed + self.offset)

    def jump(self, seconds: float) -> None:
        """Move this clock ahead (a devnet's way to watch months of UDs and expiries in minutes)."""
        if seconds < 0:
            raise ValueError("a clock only jumps ahead")
        self.offset += seconds

    def lead(self) -> float:
        """How far ahead of the wall clock this clock is now: its jumps plus what its speed gained.
        A clock resumed with `catch_up(lead)` reads what this one read, plus the real time since."""
        return self.now() - time.time()

    def catch_up(self, lead: float = 0.0, *, at_least: int = 0) -> None:
        """Jump ahead until this clock is `lead` seconds ahead of the wall clock and reads at least
        `at_least`; never back (a clock already further ahead stays as it is)."""
        now = self.now()  # read once: a sped-up clock moves between two readings
        wanted = max(time.time() + lead, at_least)
        if wanted > now:
            self.jump(wanted - now)
