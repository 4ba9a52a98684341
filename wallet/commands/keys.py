"""`june keys`: show a public key or check a checksum; generate an encrypted key file; export and
import keys in every Ğ1 format (protocol/keyformats.py): PubSec, WIF, EWIF, DEWIF, seed hex."""

from pathlib import Path

import click
import nacl.utils

from protocol.errors import InvalidKey
from protocol.keyformats import (
    DEWIF,
    DEWIF_CURRENCIES,
    DEWIF_NONCE_SIZE,
    ENCRYPTED_FORMATS,
    EWIF,
    EXPORT_FORMATS,
    MAX_KEY_TEXT_SIZE,
    PUBSEC,
    SEED,
    WIF,
    KeyFormatError,
    detect,
    dewif_text,
    ewif_text,
    pubsec_text,
    read_key,
    seed_hex_text,
    wif_text,
)
from protocol.keys import SEED_SIZE, Keypair, checksum, parse_pubkey, pubkey_display, pubkey_to_base58
from wallet.context import WalletContext
from wallet.errors import InputError, WalletError
from wallet.files import read_bounded, write_private_file
from wallet.i18n import _
from wallet.keystore import default_keyfile, write_new_keyfile
from wallet.options import json_option
from wallet.render import emit
from wallet.secrets import read_new_passphrase, read_secret


@click.group(
    help=_("Your keys: they never leave this machine."),
)
def keys() -> None:
    pass


@keys.command(
    help=_(
        "Print the public key with its checksum: of the account named by the global options "
        "(--key-file in any format, --scrypt, --scrypt-params).\n\n"
        "A June key file, PubSec, WIF or seed file gives its key without a passphrase; an EWIF or "
        "DEWIF asks for it; --scrypt asks for the secret identifier then the password."
    ),
)
@click.option("--scrypt", "use_scrypt", is_flag=True, help=_("Same as the global --scrypt."))
@click.option(
    "--file",
    "keyfile",
    type=click.Path(dir_okay=False, path_type=Path),
    help=_("Same as the global --key-file."),
)
@json_option
@click.pass_obj
def show(ctx: WalletContext, use_scrypt: bool, keyfile: Path | None) -> None:
    ctx.use_scrypt = ctx.use_scrypt or use_scrypt
    if keyfile is not None:
        ctx.key_file = keyfile
    if ctx.use_scrypt and ctx.key_file is not None:
        raise click.UsageError(_("choose --scrypt or --file, not both"))
    key = ctx.public_key()
    emit(ctx, {"pubkey": pubkey_to_base58(key), "checksum": checksum(key)}, pubkey_display(key))


@keys.command(
    "checksum",
    help=_(
        "Give a public key its checksum (KEY is `base58`), or verify one (KEY is `base58:CHK`): "
        "exit status 1 when the written checksum is not the key's."
    ),
)
@click.argument("key")
@json_option
@click.pass_obj
def checksum_command(ctx: WalletContext, key: str) -> None:
    encoded, sep, given = key.strip().partition(":")
    try:
        raw = parse_pubkey(encoded)
    except InvalidKey as exc:
        raise InputError(str(exc)) from exc
    computed = checksum(raw)
    valid = not sep or given == computed
    data = {"pubkey": pubkey_to_base58(raw), "checksum": computed, "valid": valid}
    if not sep:
        emit(ctx, data, pubkey_display(raw))
        return
    if valid:
        emit(ctx, data, _("{key}: checksum OK").format(key=pubkey_display(raw)))
        return
    if ctx.json:
        emit(ctx, data, "")
    # in text, nothing on standard output: a key whose checksum does not match must not be copied
    raise WalletError(
        _(
            "checksum mismatch for {key}: written {given}, computed {computed} "
            "(the key or its checksum is mistyped)"
        ).format(key=pubkey_to_base58(raw), given=repr(given), computed=repr(computed))
    )


@keys.command(
    help=_(
        "Create a new random key and write it to an encrypted key file (never overwrites one).\n\n"
        "The passphrase must have at least 8 characters; key files made earlier with a shorter "
        "one still open."
    ),
)
@click.option(
    "--file", "keyfile", type=click.Path(dir_okay=False, path_type=Path), help=_("Where to write it.")
)
@json_option
@click.pass_obj
def generate(ctx: WalletContext, keyfile: Path | None) -> None:
    path = keyfile or default_keyfile()
    if path.exists():
        raise InputError(_("{path} already exists; June never overwrites a key file").format(path=path))
    passphrase = read_new_passphrase()
    keypair = Keypair(nacl.utils.random(SEED_SIZE))
    write_new_keyfile(path, keypair, passphrase)
    key = keypair.public_key
    emit(
        ctx,
        {"pubkey": pubkey_to_base58(key), "checksum": checksum(key), "file": str(path)},
        _("New key {key} written to {path}\nKeep a copy of this file and of its passphrase.").format(
            key=pubkey_display(key), path=path
        ),
    )


@keys.command(
    "export",
    help=_(
        "Write your account (the global --scrypt or --key-file) to PATH for another Ğ1 client "
        "(Silkaj, DuniterPy, Cesium, Ğecko); mode 0600, never overwritten.\n\n"
        "EWIF and DEWIF ask for the new file's passphrase (at least 8 characters) after the "
        "account's own secrets."
    ),
)
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "key_format",
    type=click.Choice(EXPORT_FORMATS),
    default=PUBSEC,
    show_default=True,
    help=_("pubsec, wif and seed are in clear; ewif and dewif are encrypted under a new passphrase."),
)
@click.option(
    "--currency",
    type=click.Choice(list(DEWIF_CURRENCIES)),
    default="g1",
    show_default=True,
    help=_("The currency a DEWIF names."),
)
@json_option
@click.pass_obj
def export_keys(ctx: WalletContext, path: Path, key_format: str, currency: str) -> None:
    if path.exists():
        raise InputError(_("{path} already exists; June never overwrites it").format(path=path))
    keypair = ctx.keypair()
    if key_format == EWIF:
        text = ewif_text(keypair, read_new_passphrase())
    elif key_format == DEWIF:
        text = dewif_text(
            keypair, read_new_passphrase(), nonce=nacl.utils.random(DEWIF_NONCE_SIZE), currency=currency
        )
    else:
        text = {PUBSEC: pubsec_text, WIF: wif_text, SEED: seed_hex_text}[key_format](keypair)
    write_private_file(path, text)
    key = keypair.public_key
    encrypted = key_format in ENCRYPTED_FORMATS
    warning = (
        _("encrypted under its passphrase: keep both")
        if encrypted
        else _("UNENCRYPTED: anyone who reads it can spend your money")
    )
    emit(
        ctx,
        {"pubkey": pubkey_to_base58(key), "file": str(path), "format": key_format, "encrypted": encrypted},
        _("{key} written to {path} ({format}), {warning}.").format(
            key=pubkey_display(key), path=path, format=key_format, warning=warning
        ),
    )


def read_key_text(path: Path) -> str:
    """The text of a key file to import, reading no more than one byte past `MAX_KEY_TEXT_SIZE`."""
    return read_bounded(path, MAX_KEY_TEXT_SIZE, "a key file").decode("utf-8", errors="replace")


@keys.command(
    "import",
    help=_(
        "Import a key in any Ğ1 format (detected: June key file, PubSec, WIF, EWIF, DEWIF, seed "
        "hex) into an encrypted June key file (never overwrites one).\n\n"
        "An EWIF, DEWIF or June key file first asks for its own passphrase. The new key file's "
        "passphrase must have at least 8 characters; key files made earlier with a shorter one "
        "still open."
    ),
)
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--file", "keyfile", type=click.Path(dir_okay=False, path_type=Path), help=_("Where to write it.")
)
@json_option
@click.pass_obj
def import_keys(ctx: WalletContext, source: Path, keyfile: Path | None) -> None:
    path = keyfile or default_keyfile()
    if path.exists():
        raise InputError(_("{path} already exists; June never overwrites a key file").format(path=path))
    text = read_key_text(source)
    try:
        kind = detect(text)
        keypair = read_key(text, lambda: read_secret(_("Passphrase of {name}").format(name=source.name)))
    except KeyFormatError as exc:  # a file that is not a usable key: the user's input (exit code 2)
        raise InputError(str(exc)) from exc
    write_new_keyfile(path, keypair, read_new_passphrase())
    key = keypair.public_key
    emit(
        ctx,
        {"pubkey": pubkey_to_base58(key), "file": str(path), "format": kind},
        _("{key} imported from {format} into {path}").format(key=pubkey_display(key), format=kind, path=path),
    )
