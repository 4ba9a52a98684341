"""What the browser tests and the screenshot script share: a headless Chromium driven by Selenium
(Debian's `chromium` and `chromium-driver`, never a downloaded one) and one real `juned devnet`
process with a little history (a dividend, a payment with a comment).

Everything listens on 127.0.0.1 and every wait has a deadline."""

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
BIN = Path(sys.executable).parent
JUNED = str(BIN / "juned")
JUNE = str(BIN / "june")
#: The window of every page and screenshot.
WINDOW = (1280, 900)
#: The payment every devnet of these tests holds: alice pays bob, with a comment.
PAYMENT_CENTS = 250
PAYMENT_COMMENT = "Merci pour le hacklab"
#: Who published an identity that waits for certifications.
NEWCOMER = "grace"

T = TypeVar("T")


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when Chromium and its driver are installed."""
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (path.is_file() and os.access(path, os.X_OK)):
            return f"{path} is missing (apt-get install {package})"
    return None


def start_browser(language: str = "en", window: tuple[int, int] = WINDOW) -> webdriver.Chrome:
    """A headless Chromium whose browser asks for `language` first (Accept-Language), with its
    console kept (`driver.get_log("browser")`)."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--disable-extensions",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--window-size={window[0]},{window[1]}",
        f"--lang={language}",
    ):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # the driver's path is given, so Selenium Manager never looks for (or downloads) another one
    service = Service(executable_path=str(CHROMEDRIVER))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    return driver


def severe_entries(driver: webdriver.Chrome) -> list[dict[str, Any]]:
    """The console entries of level SEVERE since the last call (errors, failed loads)."""
    entries: list[dict[str, Any]] = driver.get_log("browser")
    return [entry for entry in entries if entry.get("level") == "SEVERE"]


def wait_for(check: Callable[[], T | None], timeout: float, what: str, every: float = 0.1) -> T:
    """Poll `check` until it gives something other than None or False, or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.loads(answer.read())


class DevnetProcess:
    """`juned devnet` as a user runs it: a real process on a fast dev clock, its output read by a
    thread, commands typed on its stdin."""

    def __init__(self, root: Path, *, nodes: int = 1, speed: float = 10.0) -> None:
        self.lines: list[str] = []
        self._seen = threading.Condition()
        self.process = subprocess.Popen(
            [
                JUNED,
                "devnet",
                "--dir",
                str(root),
                "--nodes",
                str(nodes),
                "--api-port",
                "0",
                "--status-every",
                "1",
                "--speed",
                str(speed),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "COLUMNS": "200"},
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        try:
            found = self.line_matching(r"\bAPI (http://127\.0\.0\.1:\d+)", 60)
        except BaseException:
            self.stop()
            raise
        self.url = found.group(1)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._seen:
                self.lines.append(line.rstrip("\n"))
                self._seen.notify_all()
        with self._seen:
            self._seen.notify_all()

    def line_matching(self, pattern: str, timeout: float, after: int = 0) -> re.Match[str]:
        """The first line from line number `after` on that matches `pattern`."""
        deadline = time.monotonic() + timeout
        looked = after
        with self._seen:
            while True:
                for line in self.lines[looked:]:
                    match = re.search(pattern, line)
                    if match:
                        return match
                looked = max(looked, len(self.lines))
                if self.process.poll() is not None and not self._reader.is_alive():
                    raise AssertionError(f"devnet exited before {pattern!r}:\n" + "\n".join(self.lines))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {pattern!r} in {timeout} s:\n" + "\n".join(self.lines[-20:]))
                self._seen.wait(min(left, 0.5))

    def type(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def jump(self, jump: str, timeout: float = 60) -> None:
        """Move the dev clock ahead (`+1d`) and wait until the devnet says it did."""
        mark = len(self.lines)
        self.type(jump)
        self.line_matching(rf"clock jumped {re.escape(jump[1:])} ahead", timeout, after=mark)

    def api(self, path: str) -> Any:
        return get_json(self.url + path)

    def june(self, *args: str, secret: str | None = None) -> "subprocess.CompletedProcess[str]":
        """`june --node URL [--scrypt] ARGS`, dev member `secret`'s credentials on stdin."""
        options = ["--node", self.url] + (["--scrypt"] if secret else [])
        return subprocess.run(
            [JUNE, *options, *args],
            input=f"{secret}\n{secret}\n" if secret else "",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def settle(self, timeout: float = 60) -> None:
        """Wait until no transaction is pending: what was sent is written in a block."""
        wait_for(lambda: self.api("/pending?kind=transaction") == [], timeout, "pending transactions")

    def stop(self) -> None:
        """`quit`, then a kill if the devnet does not stop within 30 s."""
        try:
            if self.process.poll() is None:
                self.type("quit")
                self.process.wait(30)
        except (OSError, subprocess.TimeoutExpired):
            pass
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(10)
            self._reader.join(10)
            if self.process.stdin is not None:
                self.process.stdin.close()


def devnet_with_history(root: Path) -> DevnetProcess:
    """A one-node devnet of 5 founders past its first dividends, where alice paid bob
    `PAYMENT_CENTS` with `PAYMENT_COMMENT` (written in a block) and `NEWCOMER` published an
    identity (pending)."""
    devnet = DevnetProcess(root)
    try:
        devnet.jump("+2d")
        wait_for(lambda: devnet.api("/currency")["money"]["monetary_mass"] > 0, 60, "the first dividend")
        paid = devnet.june(
            "--yes",
            "send",
            "bob",
            f"{PAYMENT_CENTS // 100}.{PAYMENT_CENTS % 100:02d}",
            "--comment",
            PAYMENT_COMMENT,
            secret="alice",
        )
        assert paid.returncode == 0, paid.stderr + paid.stdout
        # a newcomer nobody has certified yet: a pending document, a non-member in searches
        published = devnet.june("--yes", "wot", "publish", NEWCOMER, secret=NEWCOMER)
        assert published.returncode == 0, published.stderr + published.stdout
        devnet.settle()
    except BaseException:
        devnet.stop()
        raise
    return devnet


def dev_key(name: str) -> str:
    """The Base58 public key of dev member `name` (as the devnet's founders are made)."""
    from protocol.genesis import dev_keypair
    from protocol.keys import pubkey_to_base58

    return pubkey_to_base58(dev_keypair(name).public_key)
