"""The libp2p host of a node: a persistent Ed25519 identity, Noise and Yamux only (libp2p-notes §0).

The default py-libp2p stack also accepts plaintext connections, whose peer ids are not
authenticated, and stops accepting inbound connections after 250 of them: both are fixed here.
"""

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trio
from libp2p import new_host
from libp2p.crypto.x25519 import create_new_key_pair as new_x25519_key_pair
from libp2p.custom_types import TProtocol
from libp2p.identity_utils import create_identity_from_seed
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_ID
from libp2p.security.noise.transport import Transport as NoiseTransport
from libp2p.stream_muxer.yamux.yamux import PROTOCOL_ID as YAMUX_ID
from libp2p.stream_muxer.yamux.yamux import Yamux

IDENTITY_FILE = "p2p.key"


def load_or_create_identity(datadir: Path) -> Any:
    """The node's libp2p key pair, from the 32-byte seed kept in `<datadir>/p2p.key` (mode 0600)."""
    path = datadir / IDENTITY_FILE
    if path.exists():
        seed = path.read_bytes()
        if len(seed) != 32:
            raise ValueError(f"{path} is damaged: a libp2p identity seed has 32 bytes")
    else:
        seed = os.urandom(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(seed)
    return create_identity_from_seed(seed)


def make_host(key_pair: Any, *, addrs_factory: Callable[[list[Any]], list[Any]] | None = None) -> Any:
    """A host speaking Noise + Yamux only, with the inbound-connection leak worked around.

    `addrs_factory` turns the listen addresses into the ones the host reports (`get_addrs`, hence
    identify and its signed peer record): the network uses it to never report `0.0.0.0`."""
    quiet_libp2p_logs()
    host = new_host(
        key_pair=key_pair,
        sec_opt={NOISE_ID: NoiseTransport(key_pair, noise_privkey=new_x25519_key_pair().private_key)},
        muxer_opt={TProtocol(YAMUX_ID): Yamux},
        addrs_factory=addrs_factory,
    )
    network: Any = host.get_network()
    network._inbound_limiter = trio.CapacityLimiter(1_000_000)  # libp2p-notes P2: inbound slot leak
    return host


def quiet_libp2p_logs() -> None:
    """py-libp2p logs warnings on normal teardown; June logs what matters itself."""
    for name in ["libp2p", *(n for n in logging.root.manager.loggerDict if n.startswith("libp2p"))]:
        logging.getLogger(name).setLevel(logging.CRITICAL)
