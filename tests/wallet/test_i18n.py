"""The `june` CLI in French: every string of the wallet is in the French catalogue and translated,
the committed .mo is the .po compiled, and a real `june` process speaks the locale's language."""

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
WALLET = ROOT / "wallet"
PO = WALLET / "locale" / "fr" / "LC_MESSAGES" / "june.po"
MO = PO.with_suffix(".mo")
JUNE = str(Path(sys.executable).with_name("june"))
#: The keywords `make catalogues` extracts (wallet/i18n.py's functions).
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "Nn_": (1, 2)}
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\([a-z]+\)s")


def french() -> Catalog:
    with PO.open("rb") as file:
        return read_po(file, locale="fr")


def extracted() -> set[str]:
    """The msgid (the singular of a plural) of every string marked in wallet/."""
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(WALLET), method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_wallet_string_is_translated() -> None:
    catalogue = french()
    strings = extracted()
    assert len(strings) > 150  # the extraction did find the wallet's strings
    missing = sorted(s for s in strings if s not in catalogue)
    assert not missing, f"not in june.po (run make catalogues, then translate): {missing}"
    for msgid in strings:
        message = catalogue[msgid]
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(forms) and not message.fuzzy, f"not translated: {msgid!r}"
        english = message.id if isinstance(message.id, tuple) else (message.id,)
        for source, form in zip(english, forms, strict=True):  # French has English's two plural forms
            same = set(PLACEHOLDER.findall(str(source))) == set(PLACEHOLDER.findall(str(form)))
            assert same, f"placeholders differ: {source!r} → {form!r}"


def test_the_committed_mo_is_the_po_compiled() -> None:
    compiled = io.BytesIO()
    write_mo(compiled, french())
    assert MO.read_bytes() == compiled.getvalue(), "june.mo is stale: run make catalogues"


def june(*args: str, **locale: str) -> subprocess.CompletedProcess[str]:
    """A real `june` process with only the given locale variables set."""
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")}
    return subprocess.run(
        [JUNE, "--node", "http://127.0.0.1:9", *args],
        capture_output=True,
        text=True,
        env=env | locale | {"PYTHONIOENCODING": "utf-8"},
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("locale", [{"LANG": "fr_FR.UTF-8"}, {"LC_ALL": "fr_BE.UTF-8", "LANG": "C"}])
def test_june_speaks_french_when_the_locale_says_so(locale: dict[str, str]) -> None:
    shown = june("--help", **locale)
    assert shown.returncode == 0
    assert "Utilisation : june" in shown.stdout and "Portefeuille June" in shown.stdout
    assert "Faire un virement" in shown.stdout and "Afficher ce message et quitter." in shown.stdout
    refused = june("pay", "june:nokey", **locale)
    assert refused.returncode == 2
    assert refused.stderr.startswith("erreur : cette demande de paiement ne peut pas être payée")
    typo = june("sned", **locale)
    assert "Commande inconnue" in typo.stderr and "Vouliez-vous dire 'send' ?" in typo.stderr


@pytest.mark.parametrize("locale", [{"LANG": "C"}, {"LC_ALL": "C", "LANG": "fr_FR.UTF-8"}])
def test_june_speaks_english_otherwise(locale: dict[str, str]) -> None:
    shown = june("--help", **locale)
    assert "Usage: june" in shown.stdout and "June wallet: your keys stay on this machine" in shown.stdout
    refused = june("pay", "june:nokey", **locale)
    assert refused.stderr.startswith("error: this payment request cannot be paid")
