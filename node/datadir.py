"""A node's data directory: its configuration (`juned.toml`) and its store (`db/`).

The configuration names the currency and its block 0 hash, so a node never mixes chains: opening
a data directory checks that the store holds that currency and passes its integrity check.
"""

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from node.errors import DataDirError
from node.store import LevelStore
from protocol.crypto import Hash, hash_hex, parse_hash_hex

CONFIG_NAME = "juned.toml"
STORE_NAME = "db"


@dataclass
class NodeConfig:
    currency: str
    genesis: Hash
    listen: str = "/ip4/127.0.0.1/tcp/0"
    bootstrap: list[str] = field(default_factory=list)
    api: str = "127.0.0.1:0"
    key_file: str = ""

    def to_toml(self) -> str:
        bootstrap = ", ".join(f'"{address}"' for address in self.bootstrap)
        return (
            "# June node configuration (juned)\n"
            f'currency = "{self.currency}"\n'
            f'genesis = "{hash_hex(self.genesis)}"\n'
            f'listen = "{self.listen}"\n'
            f"bootstrap = [{bootstrap}]\n"
            f'api = "{self.api}"\n'
            f'key_file = "{self.key_file}"\n'
        )

    @classmethod
    def from_toml(cls, text: str, origin: Path) -> "NodeConfig":
        try:
            data = tomllib.loads(text)
            return cls(
                currency=str(data["currency"]),
                genesis=parse_hash_hex(str(data["genesis"])),
                listen=str(data.get("listen", cls.listen)),
                bootstrap=[str(a) for a in data.get("bootstrap", [])],
                api=str(data.get("api", cls.api)),
                key_file=str(data.get("key_file", "")),
            )
        except (tomllib.TOMLDecodeError, KeyError, ValueError, TypeError) as exc:
            raise DataDirError(f"{origin}: not a valid juned configuration: {exc}") from exc


def config_path(datadir: Path) -> Path:
    return datadir / CONFIG_NAME


def read_config(datadir: Path) -> NodeConfig:
    path = config_path(datadir)
    if not path.is_file():
        raise DataDirError(
            f"{datadir} is not a June data directory (no {CONFIG_NAME}): run `juned init` first"
        )
    return NodeConfig.from_toml(path.read_text(encoding="utf-8"), path)


def write_config(datadir: Path, config: NodeConfig) -> None:
    datadir.mkdir(parents=True, exist_ok=True)
    path = config_path(datadir)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(config.to_toml(), encoding="utf-8")
    temporary.replace(path)


def open_store(datadir: Path) -> tuple[NodeConfig, LevelStore]:
    """The configuration and the store of `datadir`, checked to belong together and to be whole."""
    config = read_config(datadir)
    store = LevelStore.open(datadir / STORE_NAME, create=False) if (datadir / STORE_NAME).exists() else None
    if store is None:
        raise DataDirError(f"{datadir} has no store ({STORE_NAME}/): run `juned init` again")
    store.check_integrity(currency=config.currency)
    genesis = store.genesis_hash()
    if genesis is not None and genesis != config.genesis:
        store.close()
        raise DataDirError(
            f"{datadir}: the store's block 0 is {hash_hex(genesis)[:16]}…, the configuration says "
            f"{hash_hex(config.genesis)[:16]}…: this data directory belongs to another currency"
        )
    return config, store
