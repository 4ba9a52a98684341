"""`juned run` (one node over a data directory) and `juned devnet` (a local network of dev nodes)."""

import logging
import signal
import tempfile
from pathlib import Path
from typing import Any

import click
import trio
from rich.console import Console

from node.clock import Clock
from node.clockfile import DevClockFile
from node.commands.data import DATADIR
from node.datadir import read_config
from node.devnet import Devnet, DevnetError, read_commands, show_status
from node.errors import NodeError
from node.failures import address_in_use, busy_datadir, describe_exception, leaves
from node.node import Node
from node.passphrase import load_forging_key, passphrase_source
from protocol.genesis import DEV_NAMES, dev_keypair
from protocol.keys import Keypair

console = Console(highlight=False, soft_wrap=True)


#: Loggers of June itself: `-v` shows what the node does, `-vv` its protocol detail.
OWN_LOGGERS = ("june", "node")
#: Chatty libraries, quiet (warnings only) below `-vvv`.
THIRD_PARTY_LOGGERS = ("libp2p", "multiaddr", "hypercorn", "async_service", "httpx", "httpcore")
LOG_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


class _Verbosity(logging.Filter):
    """Lets June's records through from `own` up, everyone else's (libp2p, multiaddr, hypercorn…)
    from `others` up: a filter on the handler, because some libraries set their own loggers' levels
    (py-libp2p's auto-connector sets INFO), which a level on the root logger would not override.

    An exception passed as an argument of a record shown (`log.info("status of %s: %s", peer,
    exc)`) is written as `describe_exception` says it: the reason inside Trio's exception groups,
    not "Exceptions from Trio nursery (1 sub-exception)"."""

    def __init__(self, own: int, others: int) -> None:
        super().__init__()
        self.own, self.others = own, others

    def filter(self, record: logging.LogRecord) -> bool:
        name = record.name
        mine = any(name == own or name.startswith(own + ".") for own in OWN_LOGGERS)
        if record.levelno < (self.own if mine else self.others):
            return False
        if isinstance(record.args, tuple) and any(isinstance(a, BaseException) for a in record.args):
            record.args = tuple(
                describe_exception(a) if isinstance(a, BaseException) else a for a in record.args
            )
        return True


def configure_logging(verbose: int) -> None:
    """0: warnings; 1 (`-v`): what the node does (blocks applied, peers, forging, sync progress);
    2 (`-vv`): June's protocol detail too; 3 (`-vvv`): third-party libraries' detail as well.
    Below `-vvv` libp2p, multiaddr and hypercorn say warnings only: their debug output buries
    June's. Called again (tests, a devnet in-process), it adjusts the one handler it installed."""
    own = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    others = logging.DEBUG if verbose >= 3 else logging.WARNING
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "june_verbosity", False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler.june_verbosity = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    for old in [f for f in handler.filters if isinstance(f, _Verbosity)]:
        handler.removeFilter(old)
    handler.addFilter(_Verbosity(own, others))
    root.setLevel(min(own, others))
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(own)
    for name in THIRD_PARTY_LOGGERS:  # not even formatted below -vvv
        logging.getLogger(name).setLevel(others)
    # py-libp2p stops its records at its own logger unless LIBP2P_DEBUG is set: let them reach ours
    # at -vvv only
    libp2p = logging.getLogger("libp2p")
    libp2p.propagate = verbose >= 3 or libp2p.propagate
    if verbose >= 3:
        libp2p.setLevel(logging.DEBUG)


async def until_signal(stop: Any) -> None:
    """Call `stop()` on Ctrl-C or SIGTERM, so every store is closed cleanly."""
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            stop()
            return


def forger_key(
    datadir: Path, key_file: Path | None, passphrase_file: Path | None, dev_member: str | None
) -> Keypair | None:
    """The key this node forges with: a dev founder's, the `--key-file`, or juned.toml's `key_file`
    (any Ğ1 key format; the passphrase from the sources `node.passphrase` lists). None: relay only."""
    if dev_member is not None:
        return dev_keypair(dev_member)
    try:
        if key_file is None:
            configured = read_config(datadir).key_file
            key_file = Path(configured) if configured else None
        if key_file is None:
            return None  # `run` says so once the node is open; a forger says it itself
        return load_forging_key(key_file, passphrase_source(key_file, passphrase_file))
    except NodeError as exc:  # ForgingKeyError, or no data directory: one plain line
        raise click.ClickException(str(exc)) from exc


@click.command()
@DATADIR
@click.option("--listen", help="libp2p listen address [default: from juned.toml].")
@click.option(
    "--bootstrap", multiple=True, help="Peer address to dial (repeatable) [default: from juned.toml]."
)
@click.option(
    "--announce",
    multiple=True,
    metavar="MULTIADDR",
    help="Address peers should dial this node at (repeatable), e.g. behind a NAT "
    "[default: announce in juned.toml, else the listen address].",
)
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Forge as this member: a June key file, PubSec, WIF, EWIF, DEWIF or seed hex "
    "[default: key_file in juned.toml].",
)
@click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="First line: the key file's passphrase (mode 600) [default: $CREDENTIALS_DIRECTORY/"
    "juned-passphrase, else a prompt, else a line of stdin].",
)
@click.option(
    "--dev-member", type=click.Choice(DEV_NAMES), help="Forge as this dev founder (dev currencies only)."
)
@click.option("--cpu-share", type=click.FloatRange(0.01, 1.0), default=0.5, show_default=True)
@click.option("--api", help="Client API address host:port, empty to serve none [default: from juned.toml].")
@click.option(
    "--dev-clock",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Development networks only: read the time as the wall clock plus the lead kept in this file "
    "(shared by several juned processes, moved ahead to rehearse days in seconds).",
)
@click.option("-v", "--verbose", count=True, help="-v: progress and peers, -vv: everything.")
def run(
    datadir: Path,
    listen: str | None,
    bootstrap: tuple[str, ...],
    announce: tuple[str, ...],
    key_file: Path | None,
    passphrase_file: Path | None,
    dev_member: str | None,
    cpu_share: float,
    api: str | None,
    dev_clock: Path | None,
    verbose: int,
) -> None:
    """Run a node: sync with peers, relay, forge if it holds a member's key; Ctrl-C stops it."""
    configure_logging(max(verbose, 1))
    keypair = forger_key(datadir, key_file, passphrase_file, dev_member)
    try:
        node = Node(
            datadir,
            clock=None if dev_clock is None else DevClockFile(dev_clock),
            listen=listen,
            bootstrap=list(bootstrap) or None,
            announce=list(announce) or None,
            forger=keypair,
            cpu_share=cpu_share,
            api=api,
        )
    except NodeError as exc:  # a store held by a running juned is said as such, with its pid
        raise click.ClickException(str(busy_datadir(datadir, exc) or exc)) from exc
    if keypair is None:  # after the data directory opened: a failure stays one line
        logging.getLogger("june.forger").warning("not forging: no key given (--key-file)")

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            await nursery.start(node.run)
            for line in banner(node.addresses()):
                console.print(line)
            if node.api_url:
                console.print(f"client API on {node.api_url}")
            await until_signal(node.stop)

    try:
        trio.run(main)
    except BaseException as exc:
        failure = node_failure(exc)
        if failure is None:
            raise
        raise click.ClickException(str(failure)) from None  # one line, no traceback
    finally:
        node.close()
    console.print("node stopped")


def banner(addresses: list[str]) -> list[str]:
    """The startup lines naming where peers can reach the node: the address to hand out first
    (the first one that is not loopback; `juned init --join` takes it), then the others."""
    if not addresses:
        return ["node listening, but on no address a peer could dial: see --listen and --announce"]
    outside = [a for a in addresses if "/ip4/127." not in a and "/ip6/::1/" not in a]
    first = (outside or addresses)[0]
    lines = [f"node listening on {first}", f"  hand out this address: juned init --join {first}"]
    if not outside:
        lines[1] += " (this machine only: listen on 0.0.0.0 or pass --announce for other machines)"
    lines += [
        f"  also reachable at {a}" + ("" if a in outside else " (this machine only)")
        for a in addresses
        if a != first
    ]
    return lines


def node_failure(exc: BaseException) -> NodeError | None:
    """The `NodeError` (a damaged store, a full disk, a busy port…) that stopped a node, even wrapped
    in the exception groups of its task nurseries, or a port found busy by a library (an `OSError`
    EADDRINUSE); None for anything else (a bug keeps its traceback)."""
    for leaf in leaves(exc):
        if isinstance(leaf, NodeError):
            return leaf
    busy = address_in_use(exc)
    if busy is not None:
        return NodeError(f"an address this node listens on is already in use: {describe_exception(busy)}")
    return None


@click.command()
@click.option("--nodes", type=click.IntRange(1, 20), default=3, show_default=True)
@click.option("--members", type=click.IntRange(4, len(DEV_NAMES)), default=5, show_default=True)
@click.option(
    "--dir",
    "root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the devnet here and resume it next time: same currency, ports, peer ids and dev clock "
    "[default: a temporary directory].",
)
@click.option(
    "--speed", type=click.FloatRange(min=0.001), default=1.0, show_default=True, help="Dev clock speed."
)
@click.option(
    "--api-port",
    type=click.IntRange(0, 65535),
    default=8088,
    show_default=True,
    help="Client API port of the first node (the next ones follow); 0: any free port. Chosen at the "
    "first start: a resumed --dir keeps its ports.",
)
@click.option("--status-every", type=click.FloatRange(min=0.5), default=5.0, show_default=True)
@click.option("--stop-after", type=click.FloatRange(min=1), help="Stop after this many seconds.")
@click.option("-v", "--verbose", count=True)
def devnet(
    nodes: int,
    members: int,
    root: Path | None,
    speed: float,
    api_port: int,
    status_every: float,
    stop_after: float | None,
    verbose: int,
) -> None:
    """Run a local network of NODES dev nodes; type +1d, +2w, +3m on stdin to jump the clock.

    The founders' memberships and certifications are renewed by the devnet itself, and long jumps
    go in steps with blocks between them, so the devnet lives for years of dev time."""
    configure_logging(verbose)
    with tempfile.TemporaryDirectory(prefix="june-devnet-") as scratch:
        try:
            network = Devnet(
                root or Path(scratch),
                nodes=nodes,
                members=members,
                clock=Clock(speed=speed),
                api_port=api_port,
            )
        except (NodeError, DevnetError) as exc:
            raise click.ClickException(str(exc)) from exc
        try:
            trio.run(_serve_devnet, network, status_every, stop_after)
        finally:
            network.close()
    console.print("devnet stopped")


async def _serve_devnet(network: Devnet, status_every: float, stop_after: float | None) -> None:
    async with trio.open_nursery() as extras:
        async with trio.open_nursery() as nodes:  # ends when every node has stopped
            await nodes.start(network.run)
            console.print(
                f"June devnet: {len(network.nodes)} nodes of currency {network.nodes[0].config.currency!r}"
            )
            for name, node in zip(network.names, network.nodes, strict=True):
                role = "forges" if node.forger is not None else "relays"
                console.print(f"  {name:8} {role}  API {node.api_url}  p2p {node.address}")
            first = network.nodes[0].api_url
            console.print(
                "Dev keys are public: secret identifier = password = the member's name (e.g. alice).\n"
                f"Wallet: export JUNE_NODE={first}\n"
                "        printf 'alice\\nalice\\n' | june --scrypt balance\n"
                "        june money; june wot status bob\n"
                "Type +1d, +2w, +3m or +1y and Enter to move the clock ahead; status; quit (or Ctrl-C)."
            )
            extras.start_soon(show_status, network, status_every, console.print)
            extras.start_soon(read_commands, network, console.print)
            extras.start_soon(until_signal, network.stop)
            if stop_after is not None:
                extras.start_soon(_stop_after, network, stop_after)
        extras.cancel_scope.cancel()


async def _stop_after(network: Devnet, seconds: float) -> None:
    await trio.sleep(seconds)
    network.stop()
