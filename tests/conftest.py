"""Fixtures shared by every test: the public vectors and data of ../shared, and a few fixed keys."""

import json
import os
from pathlib import Path
from typing import Any

import pytest

from protocol.keys import Keypair

ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """`../shared` beside the checkout (CI puts it there), or $JUNE_SHARED."""
    path = Path(os.environ.get("JUNE_SHARED", ROOT.parent / "shared"))
    if not (path / "vectors" / "public.json").is_file():
        pytest.fail(f"shared test material not found at {path} (set JUNE_SHARED)")
    return path


@pytest.fixture(scope="session")
def vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((shared_dir() / "vectors" / "public.json").read_text())
    return data


#: Fixed keys for tests: seeds 1…, so every run signs the same bytes.
KEYS = [Keypair(bytes([n]) * 32) for n in range(1, 9)]


@pytest.fixture
def keys() -> list[Keypair]:
    return KEYS
