"""`june keys`: show a public key; generate an encrypted key file; export and import PubSec files."""

import os
from pathlib import Path

import base58
import click
import nacl.utils

from protocol.keys import SEED_SIZE, Keypair, checksum, pubkey_display, pubkey_to_base58
from wallet.context import WalletContext
from wallet.errors import InputError
from wallet.keystore import default_keyfile, read_keyfile, write_new_keyfile
from wallet.options import json_option
from wallet.render import emit
from wallet.secrets import read_new_passphrase, read_secret

#: A PubSec file has about 170 bytes; anything much larger is not one (and is not parsed).
MAX_PUBSEC_SIZE = 1024


@click.group()
def keys() -> None:
    """Your keys: they never leave this machine."""


@keys.command()
@click.option(
    "--scrypt", "use_scrypt", is_flag=True, help="Derive the key from a secret identifier and a password."
)
@click.option("--file", "keyfile", type=click.Path(dir_okay=False, path_type=Path), help="Key file to open.")
@json_option
@click.pass_obj
def show(ctx: WalletContext, use_scrypt: bool, keyfile: Path | None) -> None:
    """Print the public key with its checksum.

    With --scrypt, asks for the secret identifier then the password (Ğ1-compatible credentials);
    otherwise opens the key file (default: ~/.config/june/key.json) and asks for its passphrase.
    """
    if use_scrypt and keyfile is not None:
        raise click.UsageError("choose --scrypt or --file, not both")
    if use_scrypt:
        secret_identifier = read_secret("Secret identifier")
        password = read_secret("Password")
        keypair = Keypair.from_scrypt(secret_identifier, password)
    else:
        path = keyfile or default_keyfile()
        keypair = read_keyfile(path, read_secret("Passphrase"))
    key = keypair.public_key
    emit(ctx, {"pubkey": pubkey_to_base58(key), "checksum": checksum(key)}, pubkey_display(key))


@keys.command()
@click.option("--file", "keyfile", type=click.Path(dir_okay=False, path_type=Path), help="Where to write it.")
@json_option
@click.pass_obj
def generate(ctx: WalletContext, keyfile: Path | None) -> None:
    """Create a new random key and write it to an encrypted key file (never overwrites one).

    The passphrase must have at least 8 characters; key files made earlier with a shorter one
    still open.
    """
    path = keyfile or default_keyfile()
    if path.exists():
        raise InputError(f"{path} already exists; June never overwrites a key file")
    passphrase = read_new_passphrase()
    keypair = Keypair(nacl.utils.random(SEED_SIZE))
    write_new_keyfile(path, keypair, passphrase)
    key = keypair.public_key
    emit(
        ctx,
        {"pubkey": pubkey_to_base58(key), "checksum": checksum(key), "file": str(path)},
        f"New key {pubkey_display(key)} written to {path}\nKeep a copy of this file and of its passphrase.",
    )


def pubsec_text(keypair: Keypair) -> str:
    """The PubSec format of Ğ1 clients (Cesium, Silkaj): the public key and the 64-byte secret key."""
    secret = keypair.seed + keypair.public_key
    return (
        f"Type: PubSec\nVersion: 1\npub: {pubkey_to_base58(keypair.public_key)}\n"
        f"sec: {base58.b58encode(secret).decode()}\n"
    )


def parse_pubsec(text: str) -> Keypair:
    """The key pair in a PubSec file; `InputError` with the reason for anything else.

    PubSec carries no key derivation parameters (its secret is in the clear), so there is no
    scrypt cost to bound; the text's size is bounded before it is parsed.
    """
    if len(text) > MAX_PUBSEC_SIZE:
        raise InputError(f"not a PubSec file: {len(text)} characters (at most {MAX_PUBSEC_SIZE})")
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    fields = {name.strip().lower(): value.strip() for name, value in fields.items()}
    if fields.get("type") != "PubSec" or "sec" not in fields:
        raise InputError("not a PubSec file (expected lines Type: PubSec, pub: …, sec: …)")
    try:
        secret = base58.b58decode(fields["sec"])
    except ValueError as exc:
        raise InputError(f"the sec line is not Base58: {exc}") from exc
    if len(secret) != 64:
        raise InputError(f"the secret key has {len(secret)} bytes, a PubSec secret has 64")
    keypair = Keypair(secret[:32])
    if keypair.public_key != secret[32:] or (
        "pub" in fields and fields["pub"] != pubkey_to_base58(keypair.public_key)
    ):
        raise InputError("the file's public key does not match its secret key")
    return keypair


@keys.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@click.pass_obj
def export_keys(ctx: WalletContext, path: Path) -> None:
    """Write your account (the global --scrypt or --key-file) as an UNENCRYPTED PubSec file, for
    another Ğ1 client; mode 0600, never overwritten."""
    keypair = ctx.keypair()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise InputError(f"{path} already exists; June never overwrites it") from exc
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(pubsec_text(keypair))
    emit(
        ctx,
        {"pubkey": pubkey_to_base58(keypair.public_key), "file": str(path)},
        f"{pubkey_display(keypair.public_key)} written to {path}: anyone who reads it can spend your money.",
    )


def read_pubsec(path: Path) -> str:
    """The text of a PubSec file, reading no more than one byte past `MAX_PUBSEC_SIZE`."""
    try:
        with path.open("rb") as source:
            data = source.read(MAX_PUBSEC_SIZE + 1)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    if len(data) > MAX_PUBSEC_SIZE:
        raise InputError(f"{path} is not a PubSec file: larger than {MAX_PUBSEC_SIZE} bytes")
    return data.decode("utf-8", errors="replace")


@keys.command("import")
@click.argument("pubsec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--file", "keyfile", type=click.Path(dir_okay=False, path_type=Path), help="Where to write it.")
@json_option
@click.pass_obj
def import_keys(ctx: WalletContext, pubsec: Path, keyfile: Path | None) -> None:
    """Import a PubSec file into an encrypted key file (never overwrites one).

    The new key file's passphrase must have at least 8 characters; key files made earlier with a
    shorter one still open.
    """
    keypair = parse_pubsec(read_pubsec(pubsec))
    path = keyfile or default_keyfile()
    if path.exists():
        raise InputError(f"{path} already exists; June never overwrites a key file")
    write_new_keyfile(path, keypair, read_new_passphrase())
    key = keypair.public_key
    emit(
        ctx,
        {"pubkey": pubkey_to_base58(key), "file": str(path)},
        f"{pubkey_display(key)} imported into {path}",
    )
