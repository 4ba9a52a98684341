"""Screenshots of the node's main web pages for the documentation (docs/screenshots/), made with the
browser tests' own tooling: a `juned devnet` process given two weeks of history (dividends, a
newcomer who joins, payments with comments, a pending identity) and a headless Chromium.

    .venv/bin/python -m tests.browser.screenshots [--out docs/screenshots]

The test suite never runs this: it writes files under docs/.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from PIL import Image
from selenium.webdriver import Chrome
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.harness import (
    NEWCOMER,
    PAYMENT_COMMENT,
    WINDOW,
    DevnetProcess,
    dev_key,
    missing_browser,
    severe_entries,
    start_browser,
    wait_for,
)

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
#: Taller pages are shot whole up to this height.
MAX_HEIGHT = 2200
#: Days of history made after the newcomer joins (one dividend and a payment each).
DAYS = 12
#: Payments made along the days: payer, recipient, amount, comment.
PAYMENTS = [
    ("bob", "carol", "4.20", "Pain du fournil"),
    ("carol", "dave", "1.50", "Café"),
    ("dave", "alice", "6.00", "Atelier vélo"),
    ("eve", "bob", "3.00", "Cotisation hacklab"),
    (NEWCOMER, "alice", "2.00", "Merci pour l'accueil"),
]
#: Who publishes an identity at the end and waits for certifications (the pending page's row).
LATE_NEWCOMER = "heidi"


def ok(devnet: DevnetProcess, *args: str, secret: str | None = None) -> None:
    done = devnet.june("--yes", *args, secret=secret)
    if done.returncode != 0:
        raise SystemExit(f"june {' '.join(args)} failed:\n{done.stderr}{done.stdout}")


def make_history(devnet: DevnetProcess) -> None:
    """Dividends, a payment, a newcomer certified by four founders who joins, then `DAYS` days of
    dividends and payments, and one more identity left pending."""
    devnet.jump("+2d")
    wait_for(lambda: devnet.api("/currency")["money"]["monetary_mass"] > 0, 60, "the first dividend")
    ok(devnet, "send", "bob", "2.50", "--comment", PAYMENT_COMMENT, secret="alice")
    ok(devnet, "wot", "publish", NEWCOMER, secret=NEWCOMER)
    for member in ("alice", "bob", "carol", "dave"):
        ok(devnet, "wot", "certify", NEWCOMER, secret=member)
    ok(devnet, "wot", "join", secret=NEWCOMER)
    devnet.settle()

    def joined() -> bool:
        if devnet.api(f"/wot/{NEWCOMER}/requirements")["status"] == "member":
            return True
        devnet.jump("+1h")
        return False

    wait_for(joined, 120, f"{NEWCOMER} to become a member", every=0.5)
    for day in range(DAYS):
        devnet.jump("+1d")
        payer, recipient, amount, comment = PAYMENTS[day % len(PAYMENTS)]
        ok(devnet, "send", recipient, amount, "--comment", comment, secret=payer)
        devnet.settle()
    ok(devnet, "wot", "publish", LATE_NEWCOMER, secret=LATE_NEWCOMER)
    ok(devnet, "wot", "certify", LATE_NEWCOMER, secret="eve")


def payment_block(devnet: DevnetProcess) -> int:
    head = int(devnet.api("/node")["head"]["number"])
    for block in devnet.api(f"/blocks?from=0&count={min(head + 1, 100)}"):
        if any(tx["comment"] == PAYMENT_COMMENT for tx in block["transactions"]):
            return int(block["number"])
    raise SystemExit("the first payment is in no block")


def viewport(driver: Chrome, width: int, height: int) -> None:
    """Make the page's viewport exactly `width`×`height` CSS pixels (a screenshot's size)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


def shoot(driver: Chrome, url: str, path: Path) -> None:
    """The page at `url`, whole up to `MAX_HEIGHT` pixels high, as a small PNG."""
    width, least = WINDOW
    viewport(driver, width, least)
    driver.get(url)
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    viewport(driver, width, min(max(height, least), MAX_HEIGHT))
    driver.save_screenshot(str(path))
    errors = severe_entries(driver)
    if errors:
        print(f"  console errors on {url}: {errors}", file=sys.stderr)
    with Image.open(path) as image:  # 256 colours hold a page's flat colours and keep files small
        shot = image.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    shot.save(path, optimize=True)


def pages(devnet: DevnetProcess) -> list[tuple[str, str, str]]:
    """(file name, language, path) of each screenshot."""
    donation = f"/pay/{dev_key('carol')}?amount=5&comment={quote('Don pour le hacklab', safe='')}"
    return [
        ("currency.png", "en", "/"),
        ("currency-fr.png", "fr", "/"),
        ("chain.png", "en", "/chain"),
        ("block.png", "en", f"/chain/{payment_block(devnet)}"),
        ("members.png", "en", "/members?q=e"),
        ("member.png", "en", f"/members/@{NEWCOMER}"),
        ("member-fr.png", "fr", "/members/@alice"),
        ("account.png", "en", f"/accounts/{dev_key('alice')}"),
        ("pending.png", "en", "/operator/pending"),
        ("peers.png", "en", "/operator/peers"),
        ("pay.png", "en", donation),
        ("pay-fr.png", "fr", donation),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the PNG files")
    out: Path = parser.parse_args().out
    reason = missing_browser()
    if reason is not None:
        raise SystemExit(reason)
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="june-screenshots-") as scratch:
        devnet = DevnetProcess(Path(scratch) / "devnet", nodes=2)
        try:
            make_history(devnet)
            print(f"history made in {time.monotonic() - started:.0f} s")
            browsers = {language: start_browser(language) for language in ("en", "fr")}
            try:
                for name, language, path in pages(devnet):
                    shoot(browsers[language], devnet.url + path, out / name)
                    print(f"  {out / name}")
            finally:
                for browser in browsers.values():
                    browser.quit()
        finally:
            devnet.stop()
    print(f"done in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
