"""The node's web pages in a real headless Chromium, against one `juned devnet` process (issue 18):
every page loads without console errors and without anything from outside the node, shows the
figures the JSON API gives, speaks French when asked or chosen, and the donation page's QR code
decodes to the URI it shows, which `protocol.payment_uri` reads and `june pay` pays."""

import io
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import quote

import pytest
import zxingcpp
from PIL import Image
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from protocol.keys import parse_pubkey
from protocol.payment_uri import parse_payment_uri
from tests.browser.harness import (
    JUNE,
    NEWCOMER,
    PAYMENT_CENTS,
    PAYMENT_COMMENT,
    DevnetProcess,
    dev_key,
    severe_entries,
    wait_for,
)

A = TypeVar("A")
P = TypeVar("P")

DONATION_COMMENT = "Don pour l'atelier vélo"
DONATION_CENTS = 350


def load(driver: Chrome, url: str) -> None:
    """Open `url` and wait until the page and what it loads are there."""
    driver.get(url)
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")


def text_of(driver: Chrome, element_id: str) -> str:
    return str(driver.find_element(By.ID, element_id).text).strip()


def cents(shown: str, language: str = "en") -> int:
    """The cents of an amount as a page writes it (`1,234.50` in English, `1 234,50` in French)."""
    digits = shown.replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    digits = digits.replace(",", "") if language == "en" else digits.replace(",", ".")
    return int(Decimal(digits) * 100)


def number(shown: str, language: str = "en") -> Decimal:
    return Decimal(cents(shown, language)) / 100


def consistent(read_api: Callable[[], A], read_page: Callable[[], P], timeout: float = 30) -> tuple[A, P]:
    """The API's answer and the page's figures read while the API did not change (the devnet's
    chain moves on: a figure read between two equal answers is the figure of that answer)."""

    def attempt() -> tuple[A, P] | None:
        before = read_api()
        page = read_page()
        return (before, page) if read_api() == before else None

    return wait_for(attempt, timeout, "two equal API answers around a page load")


def english_time(moment: int) -> str:
    """A chain time as the English pages write it: `Nov 26, 2026 22:45 UTC`."""
    at = datetime.fromtimestamp(moment, UTC)
    return f"{at:%b} {at.day}, {at.year} {at:%H:%M} UTC"


def head_number(devnet: DevnetProcess) -> int:
    return int(devnet.api("/node")["head"]["number"])


def payment_block(devnet: DevnetProcess) -> int:
    """The number of the block that holds alice's payment to bob."""
    for block in devnet.api(f"/blocks?from=0&count={head_number(devnet) + 1}"):
        if any(tx["comment"] == PAYMENT_COMMENT for tx in block["transactions"]):
            return int(block["number"])
    raise AssertionError("the payment is in no block")


def donation_path(key: str, **params: str) -> str:
    return f"/pay/{key}?" + "&".join(f"{name}={quote(value, safe='')}" for name, value in params.items())


def every_page(devnet: DevnetProcess) -> list[str]:
    bob = dev_key("bob")
    return [
        "/",
        "/chain",
        "/chain/0",
        f"/chain/{payment_block(devnet)}",
        "/members",
        "/members?q=a",
        "/members/@bob",
        f"/members/{dev_key(NEWCOMER)}",
        f"/accounts/{bob}",
        f"/accounts/{dev_key('alice')}",
        "/operator/pending",
        "/operator/peers",
        f"/pay/{bob}",
        donation_path(dev_key("carol"), amount="3.50", comment=DONATION_COMMENT),
        donation_path(bob, ud="0.5"),
    ]


def test_every_page_loads_without_console_errors_or_outside_resources(
    devnet: DevnetProcess, clean_browser: Chrome
) -> None:
    for path in every_page(devnet):
        load(clean_browser, devnet.url + path)
        assert severe_entries(clean_browser) == [], path
        assert clean_browser.find_elements(By.ID, "error-reason") == [], (path, clean_browser.page_source)
        assert clean_browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en", path
        assert clean_browser.title.endswith("June"), path
        loaded: list[str] = clean_browser.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
        )
        outside = [url for url in loaded if not url.startswith((devnet.url + "/", "data:"))]
        assert outside == [], path
        # pages read without JavaScript: they hold none
        assert clean_browser.execute_script("return document.scripts.length") == 0, path
        # the page's own stylesheet is there (served by the node, not missing)
        rules = clean_browser.execute_script(
            "return Array.from(document.styleSheets).reduce((n, s) => n + s.cssRules.length, 0)"
        )
        assert rules > 10, path


def test_no_page_is_wider_than_the_window(devnet: DevnetProcess, clean_browser: Chrome) -> None:
    """Nothing runs off the right of a 1280-pixel window: long keys and URIs wrap."""
    too_wide = []
    for path in every_page(devnet):
        load(clean_browser, devnet.url + path)
        widest, window = clean_browser.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]"
        )
        if widest > window:
            too_wide.append(f"{path} is {widest} px wide in a {window} px window")
    assert too_wide == []


def test_an_unknown_member_is_a_404_page_without_console_errors(
    devnet: DevnetProcess, clean_browser: Chrome
) -> None:
    load(clean_browser, devnet.url + "/members/nobody-here")
    assert text_of(clean_browser, "error-reason")
    # the browser logs the 404 status of the page itself; nothing else may fail
    assert all("404" in entry["message"] for entry in severe_entries(clean_browser))


def test_currency_page_shows_the_api_s_money(devnet: DevnetProcess, clean_browser: Chrome) -> None:
    figures = ("members-count", "dividend", "monetary-mass", "mass-per-member", "mass-per-member-ud")

    def page() -> dict[str, str]:
        load(clean_browser, devnet.url + "/")
        return {name: text_of(clean_browser, name) for name in (*figures, "currency-name")}

    currency, shown = consistent(lambda: devnet.api("/currency"), page)
    money = currency["money"]
    assert money["monetary_mass"] > 0 and money["members"] == 5
    assert shown["currency-name"] == currency["currency"]
    assert int(shown["members-count"]) == money["members"]
    assert cents(shown["dividend"]) == money["dividend_cents"]
    assert cents(shown["monetary-mass"]) == money["monetary_mass"]
    assert cents(shown["mass-per-member"]) == money["mass_per_member"]
    assert number(shown["mass-per-member-ud"]) == round(Decimal(str(money["mass_per_member_in_ud"])), 2)
    assert text_of(clean_browser, "next-reevaluation-date") == english_time(money["next_reevaluation_time"])
    # the charts are drawn: five of them, each with a line
    charts = clean_browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert len(charts) == 5
    for chart in charts:
        assert chart.size["width"] > 200 and chart.size["height"] > 100
        assert chart.find_elements(By.CSS_SELECTOR, ".line"), chart.get_attribute("id")


def test_chain_and_block_pages_show_the_api_s_blocks(devnet: DevnetProcess, clean_browser: Chrome) -> None:
    def chain_page() -> str:
        load(clean_browser, devnet.url + "/chain")
        return text_of(clean_browser, "head-number")

    head, shown = consistent(lambda: head_number(devnet), chain_page)
    assert shown == f"#{head}"

    number_ = payment_block(devnet)
    block: dict[str, Any] = devnet.api(f"/blocks/{number_}")
    load(clean_browser, f"{devnet.url}/chain/{number_}")
    assert text_of(clean_browser, "block-number") == f"#{number_}"
    assert text_of(clean_browser, "block-hash") == block["hash"]
    assert text_of(clean_browser, "block-members") == str(block["members_count"])
    assert text_of(clean_browser, "block-issuer") == "alice"  # the only forger, by name
    transactions = text_of(clean_browser, "block-transactions")
    assert PAYMENT_COMMENT in transactions and dev_key("bob") in transactions

    # the block with the first dividend shows it; clicking "previous" walks the chain
    blocks = devnet.api(f"/blocks?from=0&count={number_ + 1}")
    first_ud = next(b for b in blocks if b["dividend"] is not None)
    load(clean_browser, f"{devnet.url}/chain/{first_ud['number'] + 1}")
    clean_browser.find_element(By.ID, "previous-block").click()
    WebDriverWait(clean_browser, 10).until(lambda d: d.current_url.endswith(f"/chain/{first_ud['number']}"))
    dividend = first_ud["dividend"] * 10 ** first_ud["unit_base"]
    assert cents(text_of(clean_browser, "block-dividend")) == dividend


def test_member_search_and_page_show_the_api_s_web_of_trust(
    devnet: DevnetProcess, clean_browser: Chrome
) -> None:
    load(clean_browser, devnet.url + "/members")
    assert int(text_of(clean_browser, "members-count")) == devnet.api("/currency")["money"]["members"]
    box = clean_browser.find_element(By.ID, "q")
    box.send_keys("bo")
    box.submit()
    WebDriverWait(clean_browser, 10).until(lambda d: d.find_elements(By.ID, "search-results"))
    found = clean_browser.find_element(By.ID, "search-results")
    assert "bob" in found.text and "alice" not in found.text
    found.find_element(By.LINK_TEXT, "bob").click()
    WebDriverWait(clean_browser, 10).until(lambda d: d.find_elements(By.ID, "member-uid"))

    needs = devnet.api("/wot/bob/requirements")
    assert text_of(clean_browser, "member-uid") == "bob"
    assert text_of(clean_browser, "member-key") == needs["pubkey"]
    assert text_of(clean_browser, "member-status") == "member"
    certifications = needs["certifications"]
    assert int(text_of(clean_browser, "certifications-received")) == len(certifications["received"])
    assert int(text_of(clean_browser, "certifications-issued")) == len(certifications["issued"])
    distance = needs["distance"]
    assert f"reached by {distance['reached']} of {distance['sentries']} sentries" in text_of(
        clean_browser, "distance"
    )
    assert text_of(clean_browser, "membership-expires") == english_time(needs["membership"]["expires_on"])
    received = clean_browser.find_element(By.ID, "received").text
    assert all(c["uid"] in received for c in certifications["received"])
    assert clean_browser.find_elements(By.CSS_SELECTOR, "svg.graph circle")  # the neighbourhood

    # the newcomer: found by uid, not a member, certifications missing
    load(clean_browser, f"{devnet.url}/members?q={NEWCOMER}")
    row = clean_browser.find_element(By.ID, "search-results").text
    assert NEWCOMER in row and "member" not in row.replace("not a member", "")
    newcomer = devnet.api(f"/wot/{NEWCOMER}/requirements")
    load(clean_browser, f"{devnet.url}/members/{dev_key(NEWCOMER)}")
    assert text_of(clean_browser, "member-uid") == NEWCOMER
    assert int(text_of(clean_browser, "certifications-received")) == 0
    assert len(clean_browser.find_elements(By.CSS_SELECTOR, "#missing li")) == len(newcomer["missing"]) > 0


def test_account_page_shows_the_api_s_balance_and_history(
    devnet: DevnetProcess, clean_browser: Chrome
) -> None:
    for name in ("bob", "alice"):
        key = dev_key(name)

        def page(key: str = key) -> str:
            load(clean_browser, f"{devnet.url}/accounts/{key}")
            return text_of(clean_browser, "balance")

        sources, balance = consistent(lambda key=key: devnet.api(f"/sources/{key}"), page)
        assert cents(balance) == sources["balance"] > 0, name
        assert text_of(clean_browser, "account-uid") == name
        assert text_of(clean_browser, "account-key") == sources["pubkey"]
        dividend = devnet.api("/currency")["money"]["dividend_cents"]
        in_ud = round(Decimal(sources["balance"]) / dividend, 2)
        assert number(text_of(clean_browser, "balance-ud")) == in_ud
        rows = clean_browser.find_elements(By.CSS_SELECTOR, "#history tbody tr")
        paid = [row.text for row in rows if PAYMENT_COMMENT in row.text]
        assert len(paid) == 1, [row.text for row in rows]
        other = "alice" if name == "bob" else "bob"
        shown = f"{PAYMENT_CENTS // 100}.{PAYMENT_CENTS % 100:02d}"
        assert other in paid[0] and shown in paid[0], paid


def test_operator_pages_show_the_api_s_pending_documents_and_peers(
    devnet: DevnetProcess, clean_browser: Chrome
) -> None:
    def pending_page() -> tuple[str, str]:
        load(clean_browser, devnet.url + "/operator/pending")
        table = clean_browser.find_elements(By.ID, "pending")
        return text_of(clean_browser, "pending-count"), table[0].text if table else ""

    pending, (count, table) = consistent(lambda: devnet.api("/pending"), pending_page)
    assert int(count) == len(pending) > 0
    newcomer = next(p for p in pending if p["kind"] == "identity")
    assert newcomer["hash"][:12] in table or newcomer["hash"] in table

    def peers_page() -> str:
        load(clean_browser, devnet.url + "/operator/peers")
        return text_of(clean_browser, "peers-count")

    peers, count = consistent(lambda: devnet.api("/peers"), peers_page)
    assert int(count) == len(peers["peers"])


def test_the_language_switch_gives_french_pages_and_back(
    devnet: DevnetProcess, clean_browser: Chrome
) -> None:
    load(clean_browser, devnet.url + "/members/@bob")
    clean_browser.find_element(By.ID, "lang-fr").click()
    WebDriverWait(clean_browser, 10).until(
        lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
    )
    assert clean_browser.current_url.endswith("/members/@bob")  # back where the reader was
    assert text_of(clean_browser, "member-status") == "membre", (
        "the status word is not translated (a macro imported without context uses the environment's "
        "null translations)"
    )
    nav = clean_browser.find_element(By.TAG_NAME, "nav").text
    assert "Blocs" in nav and "Membres" in nav
    # the choice is kept: the next page is French too, its figures written the French way
    load(clean_browser, devnet.url + "/")
    assert clean_browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
    money = devnet.api("/currency")["money"]
    assert cents(text_of(clean_browser, "dividend"), "fr") == money["dividend_cents"]
    assert "," in text_of(clean_browser, "dividend")
    assert severe_entries(clean_browser) == []
    clean_browser.find_element(By.ID, "lang-en").click()
    WebDriverWait(clean_browser, 10).until(
        lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    )
    assert "Blocks" in clean_browser.find_element(By.TAG_NAME, "nav").text


def test_a_browser_that_asks_for_french_gets_french_pages(
    devnet: DevnetProcess, french_browser: Chrome
) -> None:
    asked = french_browser.execute_script("return navigator.languages")
    assert asked[0].startswith("fr")

    def page() -> dict[str, str]:
        load(french_browser, devnet.url + "/")
        return {name: text_of(french_browser, name) for name in ("monetary-mass", "mass-per-member")}

    currency, shown = consistent(lambda: devnet.api("/currency"), page)
    assert french_browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
    assert "Dividende universel" in french_browser.find_element(By.TAG_NAME, "main").text
    assert cents(shown["monetary-mass"], "fr") == currency["money"]["monetary_mass"]
    assert cents(shown["mass-per-member"], "fr") == currency["money"]["mass_per_member"]
    assert severe_entries(french_browser) == []


def decode_qr(driver: Chrome) -> str:
    """The text of the page's QR code, read from a screenshot of it by zxing-cpp."""
    code = driver.find_element(By.CSS_SELECTOR, "#payment-qr svg")
    assert code.size["width"] >= 150  # shown big enough for a phone
    image = Image.open(io.BytesIO(code.screenshot_as_png))
    grey = image.convert("L")
    width, height = grey.size
    edges = [(0, 0, width, 1), (0, height - 1, width, height)]  # top, bottom
    edges += [(0, 0, 1, height), (width - 1, 0, width, height)]  # left, right
    darkest = min(grey.crop(edge).getextrema()[0] for edge in edges)
    assert darkest > 200, (
        "the QR code is cut at its edges, its quiet zone lost (an SVG shown at another size than its "
        "width attribute, without a viewBox, is cropped, not scaled): "
        + str(code.get_attribute("outerHTML"))[:120]
    )
    found = zxingcpp.read_barcodes(image)
    assert len(found) == 1, f"{len(found)} codes found"
    assert found[0].format == zxingcpp.BarcodeFormat.QRCode
    return str(found[0].text)


def test_the_donation_page_s_qr_code_decodes_to_its_payment_uri(
    devnet: DevnetProcess, clean_browser: Chrome
) -> None:
    carol = dev_key("carol")
    load(clean_browser, devnet.url + donation_path(carol, amount="3.50", comment=DONATION_COMMENT))
    assert text_of(clean_browser, "pay-uid") == "carol"
    assert text_of(clean_browser, "pay-comment") == DONATION_COMMENT
    assert cents(text_of(clean_browser, "pay-amount").split("(")[0]) == DONATION_CENTS
    uri = decode_qr(clean_browser)
    assert uri == text_of(clean_browser, "payment-uri")
    request = parse_payment_uri(uri)
    assert request.recipient == parse_pubkey(carol)
    assert request.amount_cents == DONATION_CENTS and request.amount_ud is None
    assert request.comment == DONATION_COMMENT
    assert request.currency == devnet.api("/node")["currency"]

    # a request in UD, made with the page's own form
    form = clean_browser.find_element(By.TAG_NAME, "form")
    form.find_element(By.NAME, "amount").clear()
    form.find_element(By.NAME, "comment").clear()
    form.find_element(By.NAME, "ud").send_keys("0.5")
    form.submit()
    WebDriverWait(clean_browser, 10).until(lambda d: d.find_elements(By.ID, "pay-amount-ud"))
    uri = decode_qr(clean_browser)
    assert uri == text_of(clean_browser, "payment-uri")
    request = parse_payment_uri(uri)
    assert request.recipient == parse_pubkey(carol)
    assert request.amount_ud == Decimal("0.5") and request.amount_cents is None and request.comment == ""
    assert severe_entries(clean_browser) == []


def june_pay_exists() -> bool:
    answer = subprocess.run([JUNE, "pay", "--help"], capture_output=True, timeout=30, check=False)
    return answer.returncode == 0


def test_june_pays_what_the_donation_page_s_qr_code_says(
    devnet: DevnetProcess, clean_browser: Chrome
) -> None:
    if not june_pay_exists():
        pytest.skip("`june pay` is not there yet")
    eve = dev_key("eve")
    load(clean_browser, devnet.url + donation_path(eve, amount="3.50", comment=DONATION_COMMENT))
    uri = decode_qr(clean_browser)
    before = devnet.api(f"/sources/{eve}")["balance"]
    paid = devnet.june("--yes", "pay", uri, secret="dave")
    assert paid.returncode == 0, paid.stderr + paid.stdout
    devnet.settle()
    assert devnet.api(f"/sources/{eve}")["balance"] == before + DONATION_CENTS
    # the page of eve's account shows the donation with its comment
    load(clean_browser, f"{devnet.url}/accounts/{eve}")
    rows = [row.text for row in clean_browser.find_elements(By.CSS_SELECTOR, "#history tbody tr")]
    assert any(DONATION_COMMENT in row and "dave" in row for row in rows), rows
