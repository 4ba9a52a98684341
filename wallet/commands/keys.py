"""`june keys`: show a public key from credentials or a key file; generate an encrypted key file."""

from pathlib import Path

import click
import nacl.utils

from protocol.keys import SEED_SIZE, Keypair, checksum, pubkey_display, pubkey_to_base58
from wallet.context import WalletContext
from wallet.errors import InputError
from wallet.keystore import default_keyfile, read_keyfile, write_new_keyfile
from wallet.options import json_option
from wallet.render import emit
from wallet.secrets import read_secret


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
    """Create a new random key and write it to an encrypted key file (never overwrites one)."""
    path = keyfile or default_keyfile()
    if path.exists():
        raise InputError(f"{path} already exists; June never overwrites a key file")
    passphrase = read_secret("Passphrase", confirm=True)
    keypair = Keypair(nacl.utils.random(SEED_SIZE))
    write_new_keyfile(path, keypair, passphrase)
    key = keypair.public_key
    emit(
        ctx,
        {"pubkey": pubkey_to_base58(key), "checksum": checksum(key), "file": str(path)},
        f"New key {pubkey_display(key)} written to {path}\nKeep a copy of this file and of its passphrase.",
    )
