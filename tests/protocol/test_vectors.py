"""The committed consensus vectors (`tests/vectors/`, issue 14) are up to date, and June passes them.

(a) The generator, run in memory, gives exactly the committed files: a rule change that alters a
verdict or a digest shows up here, and `python -m tests.vectors.generate` rewrites them.
(b) Every committed case replays as another client would: decode the pre-chain's CBOR blocks, validate
and apply them on a fresh `MemoryState`, then check the block under test's verdict and post-state digest.
"""

import json
from functools import cache
from pathlib import Path

import pytest

from tests.vectors.generate import FORMAT, ROOT, generate, replay, vector_files


@cache
def generated() -> dict[str, str]:
    return generate()


def committed() -> dict[str, str]:
    return {str(path.relative_to(ROOT)): path.read_text() for path in vector_files()}


def test_committed_vectors_match_the_generator() -> None:
    files, on_disk = generated(), committed()
    assert sorted(files) == sorted(on_disk), "run `python -m tests.vectors.generate`"
    stale = [path for path in files if files[path] != on_disk[path]]
    assert not stale, f"out of date (run `python -m tests.vectors.generate`): {stale}"


def test_vectors_cover_the_areas_and_stay_small() -> None:
    index = json.loads((ROOT / "index.json").read_text())
    assert index["format"] == FORMAT
    areas = {case["area"] for case in index["cases"]}
    assert areas == {"wot", "money", "production"}
    results = {case["result"] for case in index["cases"]}
    assert results == {"valid", "invalid"}
    assert sum(path.stat().st_size for path in vector_files()) < 500_000


CASES = sorted((ROOT / "cases").rglob("*.json"))


@pytest.mark.parametrize("path", CASES, ids=[str(p.relative_to(ROOT / "cases")) for p in CASES])
def test_vector_replays(path: Path) -> None:
    expected, found = replay(path.read_text(), lambda name: (ROOT / name).read_text())
    assert found == expected
