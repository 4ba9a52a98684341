"""The node's clock: wall-clock time plus an offset that a development network can move ahead.

Consensus code never reads a clock (time is an argument); only the node's forger and the blocks
"too far in the future" check ask this one.
"""

import time


class Clock:
    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def now(self) -> int:
        return int(time.time() + self.offset)

    def jump(self, seconds: float) -> None:
        """Move this clock ahead (a devnet's way to watch months of UDs and expiries in minutes)."""
        if seconds < 0:
            raise ValueError("a clock only jumps ahead")
        self.offset += seconds
