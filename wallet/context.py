"""Options every command shares, carried in click's context object."""

from dataclasses import dataclass


@dataclass
class WalletContext:
    json: bool = False
