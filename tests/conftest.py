"""Fixtures shared by every test: the public vectors and data of ../shared, and a few fixed keys."""

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from protocol.keys import Keypair

ROOT = Path(__file__).resolve().parent.parent
#: The wallet speaks the locale's language (wallet/i18n.py); the tests read its English whatever the
#: developer's locale (LANGUAGE is read by gettext only). tests/wallet/test_i18n.py sets its own.
os.environ["LANGUAGE"] = "C"


def _candidates() -> list[Path]:
    """$JUNE_SHARED; `../shared` beside the checkout (CI puts it there); or, for a local clone made
    elsewhere, `../shared` beside the repository it was cloned from."""
    if "JUNE_SHARED" in os.environ:
        return [Path(os.environ["JUNE_SHARED"])]
    places = [ROOT.parent / "shared"]
    origin = subprocess.run(
        ["git", "-C", str(ROOT), "config", "--get", "remote.origin.url"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if origin and Path(origin).is_dir():
        places.append(Path(origin).resolve().parent / "shared")
    return places


def shared_dir() -> Path:
    places = _candidates()
    for path in places:
        if (path / "vectors" / "public.json").is_file():
            return path
    pytest.fail(f"shared test material not found at {', '.join(map(str, places))} (set JUNE_SHARED)")


@pytest.fixture(scope="session")
def vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((shared_dir() / "vectors" / "public.json").read_text())
    return data


#: Fixed keys for tests: seeds 1…, so every run signs the same bytes.
KEYS = [Keypair(bytes([n]) * 32) for n in range(1, 9)]


@pytest.fixture
def keys() -> list[Keypair]:
    return KEYS
