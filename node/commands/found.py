"""`juned found`: assemble block 0 of a new currency from its founders' signed files.

The last step of the founding ceremony (`protocol/founding.py`). Founders signed their identities
and certifications offline with `june found`; one of them, the issuer, gathers every file, chooses
the parameters and the genesis time, and builds, proves, signs and validates block 0 here. The
chain file written is what every founder's node starts from: `juned init --genesis FILE`.

Everything is checked before the issuer's passphrase is asked, so a missing or wrong file costs a
one-line refusal, not a key opening; the same files, time, parameters and issuer give the same
block 0 whatever order the files come in, so another founder can rebuild it and compare hashes.
"""

import dataclasses
import json
import time as clock
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from node.chainfile import read_chain, write_chain
from node.passphrase import load_forging_key, passphrase_source, read_key_text
from protocol.crypto import PublicKey, hash_hex
from protocol.documents import Block
from protocol.forge import build_genesis, prove
from protocol.founding import (
    DEFAULT_PRESET,
    MAX_FOUNDING_FILE,
    PRESETS,
    FounderIdentity,
    FoundingError,
    FoundingFile,
    assemble_genesis,
    check_currency_name,
    parameters_for,
    read_founding_file,
    read_parameters_toml,
)
from protocol.genesis import GenesisDescription
from protocol.keyformats import KeyFormatError, public_key_without_passphrase
from protocol.keys import Keypair, checksum, pubkey_display, pubkey_to_base58
from protocol.params import CurrencyParameters
from protocol.rules.block import validate_block
from protocol.state import MemoryState

#: A parameters file is a few dozen lines.
MAX_PARAMETERS_FILE = 64 * 1024


def _read(path: Path, limit: int, what: str) -> str:
    """The text of `path`, refused (one line naming it) when unreadable or larger than `limit`."""
    try:
        with path.open("rb") as source:
            data = source.read(limit + 1)
    except OSError as exc:
        raise FoundingError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > limit:
        raise FoundingError(f"{path} is not {what}: larger than {limit} bytes")
    return data.decode("utf-8", errors="replace")


def load_parameters(spec: str, genesis_time: int) -> tuple[CurrencyParameters, str]:
    """The parameters `--params` names (a preset, or a TOML file over one) and how to describe them."""
    if spec in PRESETS:
        return parameters_for(spec, genesis_time), spec
    path = Path(spec)
    if not path.is_file():
        raise FoundingError(f"--params {spec!r} is neither a preset ({', '.join(PRESETS)}) nor a file")
    mapping = read_parameters_toml(_read(path, MAX_PARAMETERS_FILE, "a parameters file"))
    try:
        parameters = parameters_for(mapping, genesis_time)
    except FoundingError as exc:
        raise FoundingError(f"{path}: {exc}") from exc
    return parameters, f"{path} (over {mapping.get('preset', DEFAULT_PRESET)})"


def load_founding_files(paths: tuple[Path, ...], currency: str) -> list[FoundingFile]:
    """Every founding file, checked, each refusal naming its file."""
    files: list[FoundingFile] = []
    for path in paths:
        try:
            file = read_founding_file(_read(path, MAX_FOUNDING_FILE, "a founding file"))
        except FoundingError as exc:
            raise FoundingError(f"{path}: {exc}") from exc
        if file.currency != currency:
            what = (
                f"the identity of {file.uid}"
                if isinstance(file, FounderIdentity)
                else f"certifications by {pubkey_display(file.issuer)}"
            )
            raise FoundingError(f"{path}: {what} for currency {file.currency!r}, not {currency!r}")
        files.append(file)
    return files


def _refuse_outsider(key_file: Path, key: PublicKey, description: GenesisDescription) -> None:
    if key not in {i.issuer for i in description.identities}:
        raise FoundingError(
            f"{key_file} holds {pubkey_display(key)}, who is not among the founders: "
            "block 0 is issued by a founder"
        )


def issuer_keypair(key_file: Path, passphrase_file: Path | None, description: GenesisDescription) -> Keypair:
    """The issuer's key pair (any Ğ1 key format, as `juned run` reads it). A key the file shows
    without its passphrase (June key files, unencrypted formats) is checked to be a founder's
    before the passphrase is asked; EWIF and DEWIF hide it, so they are checked once opened."""
    try:
        shown = public_key_without_passphrase(read_key_text(key_file))
    except KeyFormatError as exc:
        raise FoundingError(f"key file {key_file}: {exc}") from exc
    if shown is not None:
        _refuse_outsider(key_file, shown, description)
    keypair = load_forging_key(key_file, passphrase_source(key_file, passphrase_file))
    _refuse_outsider(key_file, keypair.public_key, description)
    return keypair


def forge(description: GenesisDescription, keypair: Keypair) -> Block:
    """Block 0, proven, signed by the issuer and validated like any block on an empty state."""
    draft = build_genesis(description, keypair.public_key)
    nonce = prove(draft, draft.pow_min)
    if nonce is None:  # prove only gives up when asked to stop
        raise FoundingError("no nonce found for block 0")
    block = draft.signed(keypair, nonce)
    validate_block(MemoryState(), block)
    return block


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--currency", required=True, help="Name of the currency, as in the founders' files.")
@click.option(
    "--params",
    "params_spec",
    default=DEFAULT_PRESET,
    show_default=True,
    help=f"A preset ({', '.join(PRESETS)}) or a TOML file of parameters over one.",
)
@click.option("--time", "start", type=int, help="Genesis time, Unix seconds [default: now].")
@click.option(
    "--key-file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Key file of the founder who issues block 0, any Ğ1 format (passphrase asked if encrypted).",
)
@click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the key's passphrase from this file's first line (mode 0600) instead of asking.",
)
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Chain file to write (new)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def found(
    files: tuple[Path, ...],
    currency: str,
    params_spec: str,
    start: int | None,
    key_file: Path,
    passphrase_file: Path | None,
    out: Path,
    as_json: bool,
) -> None:
    """Found a currency: block 0 from the founders' identity and certification FILES (any order).

    Each founder brings an identity file (june found identity) and a certification file (june
    found certify); each must receive sig_qty certifications. Writes a chain file that every
    founder's node starts from: juned init --genesis FILE.
    """
    check_currency_name(currency)
    if out.exists():
        raise FoundingError(f"{out} already exists; June never overwrites it")
    genesis_time = int(clock.time()) if start is None else start
    parameters, source = load_parameters(params_spec, genesis_time)
    description = assemble_genesis(currency, parameters, genesis_time, load_founding_files(files, currency))
    block = forge(description, issuer_keypair(key_file, passphrase_file, description))
    write_chain(out, [block.to_bytes()])
    if next(read_chain(out)).hash != block.hash:
        raise FoundingError(f"{out}: block 0 did not read back the same")
    summary = describe(description, block, source, out)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(render(summary))


def describe(description: GenesisDescription, block: Block, source: str, out: Path) -> dict[str, Any]:
    """What was founded, as plain data: for JSON and for the text summary."""
    uid_of = {i.issuer: i.uid for i in description.identities}
    received = Counter(c.receiver for c in description.certifications)
    return {
        "currency": description.currency,
        "genesis": hash_hex(block.hash),
        "time": description.time,
        "issuer": {"uid": uid_of[block.issuer], "pubkey": pubkey_to_base58(block.issuer)},
        "founders": [
            {
                "uid": i.uid,
                "pubkey": pubkey_to_base58(i.issuer),
                "checksum": checksum(i.issuer),
                "certifications_received": received[i.issuer],
            }
            for i in description.identities
        ],
        "certifications": len(description.certifications),
        "preset": source,
        "parameters": dataclasses.asdict(description.parameters),
        "file": str(out),
    }


def render(summary: dict[str, Any]) -> str:
    when = datetime.fromtimestamp(summary["time"], UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    width = max(len(f["uid"]) for f in summary["founders"])
    lines = [
        f"Founded currency {summary['currency']!r}: block 0 {summary['genesis']}",
        f"genesis time {when}, parameters {summary['preset']}, issued by {summary['issuer']['uid']}",
        f"{len(summary['founders'])} founders:",
        *(
            f"  {f['uid']:<{width}}  {f['pubkey']}:{f['checksum']}  "
            f"certified by {f['certifications_received']}"
            for f in summary["founders"]
        ),
        f"{summary['certifications']} certifications; block 0 proven, signed and validated; "
        f"written to {summary['file']}",
        f"Each founder checks the block 0 hash above, then: juned init --genesis {summary['file']}",
    ]
    return "\n".join(lines)
