"""Ğ1 key formats (protocol/keyformats.py): known vectors, round trips, and every refusal a `KeyFormatError`.

Vectors:
- WIF and EWIF: written by DuniterPy 1.2.1 (`SigningKey.from_credentials("alice", "password")`,
  `save_wif_file`, `save_ewif_file(path, "password")`), run for these tests; EWIF is deterministic.
- DEWIF: the Ed25519 example of Duniter's RFC 13 (seed = scrypt("user password", "user salt",
  4096, 16, 1), passphrase "toto titi tata", Ğ1-Test, log N 12, nonce 0x013194f1286512cf094295cb).
"""

import base64
import contextlib
import hashlib
import os

import base58
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.keyfile import seal
from protocol.keyformats import (
    DEWIF_SIZE,
    MAX_KEY_TEXT_SIZE,
    detect,
    dewif_currency,
    dewif_text,
    ewif_text,
    parse_dewif,
    parse_ewif,
    parse_seed_hex,
    parse_wif,
    public_key_without_passphrase,
    pubsec_text,
    read_key,
    seed_hex_text,
    wif_text,
)
from protocol.keyformats import KeyFormatError as InputError
from protocol.keys import Keypair

ALICE = Keypair.from_scrypt("alice", "password")
ALICE_SEED = "a248933da06eea1752ac83dfb1bc5dd28bf577e483acb648809531d138177f2e"
ALICE_PUBKEY = "DFvALJFMGU54N2AA1VEBwUrAV6qbxnkcZCWPsoAiREw9"
ALICE_WIF = "Type: WIF\nVersion: 1\nData: ATSaMkAKuTnComhJmnHCqDsCPpoQhkf2nU3gubWJjdoyK3r"
ALICE_EWIF = "Type: EWIF\nVersion: 1\nData: 2tmFE8xg2EVLPaKTkzE3zkUnH8w1J4qm7AZfJr3J7hBxXZyrcTHGX"
ALICE_PUBSEC = (
    "Type: PubSec\nVersion: 1\npub: DFvALJFMGU54N2AA1VEBwUrAV6qbxnkcZCWPsoAiREw9\n"
    "sec: 4FBiwC9cvZavGM36nkA31W1sh9Pkt37pvLP4A8Qxwu8MMYEjZgZi19GJ2FY7wFxjbz14NfXnq6R7jt9f6CFqd7vF"
)

RFC_SEED = bytes.fromhex("bfa3f6e322cf21d0e652f79a69df9498fdf5347665e5646d9041f756496a1143")
RFC_PUBKEY = bytes.fromhex("17df9d2b059cdd2825955691e3a783e6da403148ddebb1144d1a9b9e545f2371")
RFC_NONCE = bytes.fromhex("013194f1286512cf094295cb")
RFC_PASSPHRASE = "toto titi tata"
RFC_DEWIF = (
    "AAAAARAAAAEMAAExlPEoZRLPCUKVy0iKnn1HUSFcmhwJPQETAghFDvH8ZmX59IuvR9hYV1gnVjCpU+TGOdUzyQmj3+auw3vUpFQYBiRl"
    "h67/I1xAhZM="
)


def _refuse() -> str:
    raise AssertionError("no passphrase should be asked")


# ---------------------------------------------------------------------------------------- vectors


def test_alice_is_the_duniterpy_key() -> None:
    assert ALICE.seed.hex() == ALICE_SEED
    assert base58.b58encode(ALICE.public_key).decode() == ALICE_PUBKEY


def test_wif_vector_both_ways() -> None:
    assert wif_text(ALICE).strip() == ALICE_WIF
    assert parse_wif(ALICE_WIF) == ALICE
    assert parse_wif(ALICE_WIF.rsplit(" ", 1)[1]) == ALICE  # the bare string, as Silkaj asks it


def test_ewif_vector_both_ways() -> None:
    assert ewif_text(ALICE, "password").strip() == ALICE_EWIF
    assert parse_ewif(ALICE_EWIF, "password") == ALICE


def test_pubsec_and_seed_vectors() -> None:
    assert read_key(ALICE_PUBSEC, _refuse) == ALICE
    assert read_key(ALICE_SEED, _refuse) == ALICE  # DuniterPy writes it with no newline
    assert seed_hex_text(ALICE) == ALICE_SEED + "\n"


def test_dewif_rfc_vector_both_ways() -> None:
    keypair = Keypair(RFC_SEED)
    assert keypair.public_key == RFC_PUBKEY
    written = dewif_text(keypair, RFC_PASSPHRASE, nonce=RFC_NONCE, currency="g1-test", log_n=12)
    assert written == RFC_DEWIF + "\n"
    assert parse_dewif(RFC_DEWIF, RFC_PASSPHRASE) == keypair
    assert dewif_currency(RFC_DEWIF) == "g1-test"


def test_dewif_layout() -> None:
    raw = base64.b64decode(dewif_text(ALICE, "a passphrase", nonce=bytes(range(12)), log_n=10))
    assert len(raw) == DEWIF_SIZE == 86
    assert raw[:4] == b"\x00\x00\x00\x01"  # version 1, big-endian
    assert raw[4:8] == b"\x00\x00\x00\x01"  # Ğ1
    assert raw[8] == 10 and raw[9] == 0  # log N, Ed25519
    assert raw[10:22] == bytes(range(12))


def test_wif_and_ewif_layouts() -> None:
    raw = base58.b58decode(ALICE_WIF.rsplit(" ", 1)[1])
    assert len(raw) == 35 and raw[0] == 1 and raw[1:33] == ALICE.seed
    assert raw[33:] == hashlib.sha256(hashlib.sha256(raw[:33]).digest()).digest()[:2]
    raw = base58.b58decode(ALICE_EWIF.rsplit(" ", 1)[1])
    assert len(raw) == 39 and raw[0] == 2
    assert raw[1:5] == hashlib.sha256(hashlib.sha256(ALICE.public_key).digest()).digest()[:4]
    assert ALICE.seed not in raw


# ------------------------------------------------------------------------------------ round trips

SEEDS = [bytes(32), bytes(range(32)), bytes([255]) * 32, os.urandom(32)]


@pytest.mark.parametrize("seed", SEEDS)
def test_round_trip_every_format(seed: bytes) -> None:
    keypair = Keypair(seed)
    texts = {
        "pubsec": pubsec_text(keypair),
        "wif": wif_text(keypair),
        "seed": seed_hex_text(keypair),
        "ewif": ewif_text(keypair, "a passphrase"),
        "dewif": dewif_text(keypair, "a passphrase", nonce=os.urandom(12), currency="g1", log_n=10),
        "june": seal(keypair, "a passphrase", salt=os.urandom(16), nonce=os.urandom(24), n=2**10),
    }
    for kind, text in texts.items():
        assert detect(text) == kind
        asked: list[str] = []

        def ask() -> str:
            asked.append("asked")  # noqa: B023 - called within this iteration
            return "a passphrase"

        assert read_key(text, ask) == keypair, kind
        assert len(asked) == (1 if kind in ("ewif", "dewif", "june") else 0), kind
        shown = public_key_without_passphrase(text)
        assert shown == (None if kind in ("ewif", "dewif") else keypair.public_key), kind


def test_dewif_passphrase_is_nfkd_normalised() -> None:
    composed, decomposed = "caf\u00e9 au lait", "cafe\u0301 au lait"
    text = dewif_text(ALICE, composed, nonce=bytes(12), log_n=10)
    assert parse_dewif(text, composed) == ALICE
    assert parse_dewif(text, decomposed) == ALICE


def test_dewif_under_a_header_is_read() -> None:
    text = dewif_text(ALICE, "a passphrase", nonce=bytes(12), log_n=10)
    wrapped = f"Type: DEWIF\nVersion: 1\nData: {text.strip()}\n"
    assert detect(wrapped) == "dewif"
    assert parse_dewif(wrapped, "a passphrase") == ALICE


# ---------------------------------------------------------------------------------------- refusals


def test_wrong_passphrase() -> None:
    with pytest.raises(InputError, match="wrong passphrase for this EWIF"):
        parse_ewif(ALICE_EWIF, "not the password")
    with pytest.raises(InputError, match="wrong passphrase for this DEWIF"):
        parse_dewif(RFC_DEWIF, "toto titi tutu")
    june = seal(ALICE, "right", salt=bytes(16), nonce=bytes(24), n=2**10)
    with pytest.raises(InputError, match="wrong passphrase"):
        read_key(june, lambda: "wrong")


def _flip_last_data_character(text: str) -> str:
    head, data = text.rsplit(" ", 1)
    last = "2" if data[-1] != "2" else "3"
    return f"{head} {data[:-1]}{last}"


def test_bad_checksum() -> None:
    with pytest.raises(InputError, match="wrong checksum: the WIF"):
        parse_wif(_flip_last_data_character(ALICE_WIF))
    with pytest.raises(InputError, match="wrong checksum: the EWIF"):
        read_key(_flip_last_data_character(ALICE_EWIF), _refuse)  # refused before the passphrase


def test_damaged_dewif_is_refused_by_its_public_key() -> None:
    raw = bytearray(base64.b64decode(RFC_DEWIF))
    raw[30] ^= 1
    with pytest.raises(InputError, match="or the DEWIF is damaged"):
        parse_dewif(base64.b64encode(bytes(raw)).decode(), RFC_PASSPHRASE)


def test_truncated() -> None:
    wif = base58.b58decode(ALICE_WIF.rsplit(" ", 1)[1])
    with pytest.raises(InputError, match="truncated"):
        parse_wif("Type: WIF\nVersion: 1\nData: " + base58.b58encode(wif[:-1]).decode())
    ewif = base58.b58decode(ALICE_EWIF.rsplit(" ", 1)[1])
    with pytest.raises(InputError, match="truncated"):
        parse_ewif("Type: EWIF\nData: " + base58.b58encode(ewif[:-3]).decode(), "password")
    with pytest.raises(InputError, match="a DEWIF v1 Ed25519 has 86"):
        parse_dewif(base64.b64encode(base64.b64decode(RFC_DEWIF)[:-1]).decode(), RFC_PASSPHRASE)
    with pytest.raises(InputError, match="64 hexadecimal characters"):
        parse_seed_hex(ALICE_SEED[:-1])
    with pytest.raises(InputError, match="unknown key format"):
        detect(ALICE_SEED[:-1])


def test_oversized_text_is_refused_before_parsing() -> None:
    for text in (ALICE_WIF + "\n" + "#" * MAX_KEY_TEXT_SIZE, "A" * (MAX_KEY_TEXT_SIZE + 1)):
        with pytest.raises(InputError, match=r"not a key file: \d+ characters \(at most 4096\)"):
            read_key(text, _refuse)


def test_hostile_dewif_scrypt_cost_is_refused_before_the_passphrase() -> None:
    raw = bytearray(base64.b64decode(RFC_DEWIF))
    raw[8] = 40  # N = 2^40: hours and terabytes
    with pytest.raises(InputError, match="DEWIF log N = 40"):
        read_key(base64.b64encode(bytes(raw)).decode(), _refuse)


def test_unsupported_dewif_version_and_algorithm() -> None:
    raw = bytearray(base64.b64decode(RFC_DEWIF))
    raw[9] = 1  # BIP32-Ed25519 mnemonic
    with pytest.raises(InputError, match="only Ed25519 seeds"):
        parse_dewif(base64.b64encode(bytes(raw)).decode(), RFC_PASSPHRASE)
    raw = bytearray(base64.b64decode(RFC_DEWIF))
    raw[3] = 2
    with pytest.raises(InputError, match="DEWIF version 2 is not supported"):
        parse_dewif("Type: DEWIF\nData: " + base64.b64encode(bytes(raw)).decode(), RFC_PASSPHRASE)


def test_wif_and_ewif_are_not_confused() -> None:
    with pytest.raises(InputError, match="this is an EWIF"):
        parse_wif(ALICE_EWIF.rsplit(" ", 1)[1])
    with pytest.raises(InputError, match="this is a WIF"):
        parse_ewif(ALICE_WIF.rsplit(" ", 1)[1], "password")
    with pytest.raises(InputError, match="the file says Type: WIF"):
        parse_ewif(ALICE_WIF, "password")


# --------------------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (ALICE_PUBSEC, "pubsec"),
        (ALICE_WIF, "wif"),
        (ALICE_WIF.rsplit(" ", 1)[1], "wif"),
        (ALICE_EWIF, "ewif"),
        (ALICE_EWIF.rsplit(" ", 1)[1] + "\n", "ewif"),
        (ALICE_SEED, "seed"),
        ("  " + ALICE_SEED.upper() + "\n", "seed"),
        (RFC_DEWIF, "dewif"),
        ('{"june_keyfile": 1}', "june"),
        ("[[[[[", "june"),  # JSON-looking: the June key file reader refuses it in its own words
    ],
)
def test_detect(text: str, kind: str) -> None:
    assert detect(text) == kind


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "the text is empty"),
        ("Type: SSB\nData: x", "unknown key type 'SSB'"),
        ("hello world", "unknown key format"),
        ("0" * 63, "unknown key format"),
        ("2" * 50, "unknown key format"),
    ],
)
def test_detect_refuses(text: str, reason: str) -> None:
    with pytest.raises(InputError, match=reason):
        detect(text)


def test_a_damaged_june_key_file_is_refused_before_the_passphrase() -> None:
    with pytest.raises(InputError, match="nested deeper than 4 levels"):
        read_key("[" * 100, _refuse)


lines = st.sampled_from(
    ["Type: WIF", "Type: EWIF", "Type: DEWIF", "Type: PubSec", "Version: 1", "Data: ", "sec: ", "pub: ", ""]
).flatmap(
    lambda head: st.text(
        alphabet="123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz+/=", max_size=120
    ).map(lambda tail: head + tail)
)


@given(
    st.text(max_size=300)
    | st.binary(min_size=1, max_size=120).map(lambda b: base58.b58encode(b).decode())
    | st.binary(min_size=1, max_size=120).map(lambda b: base64.b64encode(b).decode())
    | st.binary(max_size=90).map(lambda b: base64.b64encode(b"\x00\x00\x00\x01" + b).decode())
    | st.lists(lines, max_size=4).map("\n".join)
)
@settings(max_examples=300, deadline=None)
def test_fuzz_any_text_gives_only_input_error(text: str) -> None:
    with contextlib.suppress(InputError):
        read_key(text, lambda: "a passphrase")
