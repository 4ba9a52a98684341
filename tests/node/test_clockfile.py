"""The dev clock shared through a file: every reader sees a jump, nobody goes back, junk refused."""

import time
from pathlib import Path

import pytest

from node.clockfile import DevClockError, DevClockFile


def test_readers_of_one_file_jump_together(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    driver, reader = DevClockFile(path), DevClockFile(path)
    assert abs(reader.now() - time.time()) < 2
    driver.jump(3600)
    assert abs(reader.now() - (time.time() + 3600)) < 2 and reader.lead() == 3600
    with pytest.raises(ValueError):
        driver.jump(-1)


@pytest.mark.parametrize("text", ["", "{}", '{"lead": "soon"}', '{"lead": -5}', "[1]", "x" * 5000])
def test_a_file_that_is_not_a_clock_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "clock.json"
    path.write_text(text)
    with pytest.raises(DevClockError):
        DevClockFile(path)
