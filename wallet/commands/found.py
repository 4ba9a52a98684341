"""`june found …`: a founder's part in founding a new currency, offline, with their own key.

Founding needs no node: there is no chain yet. Each founder signs their identity and IN
membership (`june found identity`), hands the file to the others, certifies the others from
theirs (`june found certify`), and one founder assembles block 0 from every file with
`juned found`. Keys never leave their owner: only signed documents travel.

The files are text (format in `protocol/founding.py`), readable by anyone: they hold public keys
and signatures, nothing secret, so they are written with mode 0644, never over an existing file.
"""

import os
from pathlib import Path

import click

from protocol.crypto import hash_hex
from protocol.errors import ProtocolError
from protocol.founding import (
    MAX_FOUNDING_FILE,
    FounderCertifications,
    FounderIdentity,
    check_currency_name,
    check_uid,
    read_founding_file,
)
from protocol.keys import checksum, pubkey_display, pubkey_to_base58
from wallet.context import WalletContext
from wallet.errors import InputError
from wallet.files import read_bounded, write_private_file
from wallet.i18n import _
from wallet.licence import CERTIFYING
from wallet.options import json_option
from wallet.render import emit

OUT = click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help=_("File to write (new).")
)


@click.group(
    help=_("Found a new currency with other founders, offline: sign your identity, certify theirs."),
)
def found() -> None:
    pass


def _refuse_existing(path: Path) -> None:
    """Checked before the key is opened, so nobody types a passphrase for a refused command."""
    if path.exists():
        raise InputError(f"{path} already exists; June never overwrites it")


def _write_public(path: Path, text: str) -> None:
    """Write a founding file: never over another file, synced, then readable by all (0644)."""
    write_private_file(path, text)
    os.chmod(path, 0o644)


def read_identity_file(path: Path) -> FounderIdentity:
    """A founder's identity file, checked (signatures, header lines); a plain error naming `path`."""
    text = read_bounded(path, MAX_FOUNDING_FILE, "a founding file").decode("utf-8", errors="replace")
    try:
        founder = read_founding_file(text)
    except ProtocolError as exc:  # a FoundingError, named with its file
        raise InputError(f"{path}: {exc}") from exc
    if not isinstance(founder, FounderIdentity):
        raise InputError(f"{path} is a certification file; certify from identity files")
    return founder


@found.command(
    help=_("Sign your identity UID and your membership of the new currency, into a file for the others."),
)
@click.argument("uid")
@click.option("--currency", required=True, help=_("Name of the new currency, the same for every founder."))
@OUT
@json_option
@click.pass_obj
def identity(ctx: WalletContext, uid: str, currency: str, out: Path) -> None:
    check_currency_name(currency)
    check_uid(uid)
    _refuse_existing(out)
    founder = FounderIdentity.create(ctx.keypair(), currency, uid)
    _write_public(out, founder.text())
    key = founder.key
    emit(
        ctx,
        {
            "file": str(out),
            "currency": currency,
            "uid": uid,
            "pubkey": pubkey_to_base58(key),
            "checksum": checksum(key),
            "identity": hash_hex(founder.identity.hash),
        },
        f"Identity {uid} ({pubkey_display(key)}) of currency {currency!r} written to {out}\n"
        "Give this file to the other founders: they certify you from it.",
    )


@found.command(
    help=_("Certify the founders whose identity FILES you were given (check each key with its owner)."),
)
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@OUT
@json_option
@click.pass_obj
def certify(ctx: WalletContext, files: tuple[Path, ...], out: Path) -> None:
    _refuse_existing(out)
    founders = [read_identity_file(path) for path in files]
    currencies = sorted({f.currency for f in founders})
    if len(currencies) > 1:
        raise InputError(
            f"these identity files are of several currencies: {', '.join(map(repr, currencies))}"
        )
    own = ctx.public_key()  # a June key file shows it without its passphrase
    for path, founder in zip(files, founders, strict=True):
        if founder.key == own:
            raise InputError(f"{path} is your own identity ({founder.uid}): nobody certifies themselves")
    click.echo(f"Currency {currencies[0]!r}: you certify", err=True)
    for founder in founders:
        click.echo(f"  {founder.uid:<20} {pubkey_display(founder.key)}", err=True)
    click.echo(f"\n{CERTIFYING}\n" + _("(the whole licence: june licence)") + "\n", err=True)
    keypair = ctx.keypair()  # asked before the confirmation, as `june wot certify` does
    if not ctx.assume_yes:
        count = f"{len(founders)} founder{'s' if len(founders) > 1 else ''}"
        click.confirm(f"Certify these {count} of {currencies[0]!r}?", abort=True, err=True)
    given = FounderCertifications.create(keypair, founders)
    _write_public(out, given.text({f.key: f.uid for f in founders}))
    emit(
        ctx,
        {
            "file": str(out),
            "currency": given.currency,
            "pubkey": pubkey_to_base58(given.issuer),
            "checksum": checksum(given.issuer),
            "certified": [
                {"uid": f.uid, "pubkey": pubkey_to_base58(f.key), "checksum": checksum(f.key)}
                for f in founders
            ],
        },
        f"{len(founders)} certifications of currency {given.currency!r} written to {out}\n"
        "Give this file to the founder who assembles block 0 (juned found).",
    )
