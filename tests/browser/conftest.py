"""Fixtures of the browser tests: a headless Chromium (skipped where it is not installed, unless
the run is CI's, which must run them) and one devnet with history shared by a module."""

import os
from collections.abc import Iterator

import pytest
from selenium import webdriver

from tests.browser.harness import DevnetProcess, devnet_with_history, missing_browser, start_browser


def require_browser() -> None:
    """Skip when Chromium or its driver is absent; fail instead when CI is set."""
    reason = missing_browser()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests, but {reason}", pytrace=False)
    pytest.skip(f"browser tests need Debian's Chromium: {reason}")


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    """A headless Chromium asking for English pages; cookies are cleared after each test that uses
    `clean_browser`."""
    require_browser()
    driver = start_browser("en")
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def clean_browser(browser: webdriver.Chrome) -> Iterator[webdriver.Chrome]:
    """The module's browser, its cookies (the language chosen) and console cleared after the test."""
    browser.get_log("browser")
    yield browser
    browser.delete_all_cookies()


@pytest.fixture
def french_browser() -> Iterator[webdriver.Chrome]:
    """A headless Chromium whose user prefers French (`--lang=fr`, Accept-Language: fr)."""
    require_browser()
    driver = start_browser("fr")
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetProcess]:
    """One `juned devnet` process for the module, past its first dividends, with a payment."""
    require_browser()  # no devnet for tests that will not run
    running = devnet_with_history(tmp_path_factory.mktemp("devnet"))
    try:
        yield running
    finally:
        running.stop()
