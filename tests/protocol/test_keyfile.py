"""Encrypted key files: seal and open, wrong passphrase, damage, foreign and hostile files."""

import contextlib
import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.keyfile import KeyfileError, open_keyfile, public_key_of, seal
from protocol.keys import Keypair, pubkey_display

SALT = bytes(range(16))
NONCE = bytes(range(24))


def sealed(keypair: Keypair, passphrase: str = "correct horse") -> str:
    return seal(keypair, passphrase, salt=SALT, nonce=NONCE, n=2**10)


def test_seal_and_open(keys: list[Keypair]) -> None:
    text = sealed(keys[0])
    assert open_keyfile(text, "correct horse").seed == keys[0].seed
    assert public_key_of(text) == pubkey_display(keys[0].public_key)
    assert keys[0].seed.hex() not in text


def test_wrong_passphrase(keys: list[Keypair]) -> None:
    with pytest.raises(KeyfileError, match="wrong passphrase"):
        open_keyfile(sealed(keys[0]), "wrong horse")


def test_damaged_ciphertext(keys: list[Keypair]) -> None:
    document = json.loads(sealed(keys[0]))
    document["ciphertext"] = document["ciphertext"][:-4] + "AAAA"
    with pytest.raises(KeyfileError, match="wrong passphrase, or the key file is damaged"):
        open_keyfile(json.dumps(document), "correct horse")


def test_swapped_public_key_is_detected(keys: list[Keypair]) -> None:
    document = json.loads(sealed(keys[0]))
    document["pubkey"] = pubkey_display(keys[1].public_key)
    with pytest.raises(KeyfileError, match="does not match"):
        open_keyfile(json.dumps(document), "correct horse")


@pytest.mark.parametrize(
    "text",
    ["", "not json", "[]", '{"june_keyfile": 2}', '{"june_keyfile": 1}', "x" * 5000],
)
def test_foreign_files_are_refused(text: str) -> None:
    with pytest.raises(KeyfileError):
        open_keyfile(text, "anything")


def test_absurd_scrypt_parameters_are_refused(keys: list[Keypair]) -> None:
    document = json.loads(sealed(keys[0]))
    document["kdf"]["n"] = 2**40
    with pytest.raises(KeyfileError, match="scrypt parameter n"):
        open_keyfile(json.dumps(document), "correct horse")


def _with_kdf(keypair: Keypair, **kdf: object) -> str:
    document = json.loads(sealed(keypair))
    document["kdf"].update(kdf)
    return json.dumps(document)


@pytest.mark.parametrize(
    "text",
    ["[" * 4000, "{" * 4000, '{"a":' * 800, '{"june_keyfile": 1, "kdf": [[[[[[]]]]]]}'],
)
def test_deep_nesting_is_refused_before_parsing(text: str) -> None:
    with pytest.raises(KeyfileError, match="nested deeper than"):
        open_keyfile(text, "anything")
    with pytest.raises(KeyfileError, match="nested deeper than"):
        public_key_of(text)


def test_brackets_inside_strings_do_not_count_as_nesting(keys: list[Keypair]) -> None:
    document = json.loads(sealed(keys[0]))
    document["comment"] = '[[[[[[{{{{{{ \\" ]]'
    assert open_keyfile(json.dumps(document), "correct horse").seed == keys[0].seed


def test_a_huge_p_is_refused_instantly(keys: list[Keypair]) -> None:
    text = _with_kdf(keys[0], n=2**15, r=8, p=2**20)
    started = time.monotonic()
    with pytest.raises(KeyfileError, match=r"scrypt parameter p=1048576 .*refused"):
        open_keyfile(text, "correct horse")
    assert time.monotonic() - started < 0.1


@pytest.mark.parametrize(
    ("kdf", "reason"),
    [
        ({"n": 2**15 + 1}, "not a power of two"),
        ({"n": 2**9}, r"scrypt parameter n=512 is not an integer in \[1024, 1048576\]"),
        ({"n": 2**21}, "scrypt parameter n="),
        ({"n": True}, "scrypt parameter n=True"),
        ({"n": 2.0**15}, "scrypt parameter n="),
        ({"r": 0}, "scrypt parameter r="),
        ({"r": 33}, "scrypt parameter r="),
        ({"p": 0}, "scrypt parameter p="),
        ({"p": 17}, "scrypt parameter p="),
        ({"n": 2**20, "r": 8}, "would take 1024 MiB of memory .*: refused"),
        ({"n": 2**17, "r": 8, "p": 16}, "would take 64 times as long to open .*: refused"),
        ({"n": 2**20, "r": 1, "p": 8}, "would take 32 times as long to open .*: refused"),
    ],
)
def test_scrypt_parameters_are_bounded(keys: list[Keypair], kdf: dict[str, object], reason: str) -> None:
    text = _with_kdf(keys[0], **kdf)
    started = time.monotonic()
    with pytest.raises(KeyfileError, match=reason):
        open_keyfile(text, "correct horse")
    assert time.monotonic() - started < 0.1


def test_seal_refuses_what_open_would_refuse(keys: list[Keypair]) -> None:
    with pytest.raises(KeyfileError, match="scrypt parameter n"):
        seal(keys[0], "correct horse", salt=SALT, nonce=NONCE, n=2**21)


@pytest.mark.parametrize(("field", "value"), [("nonce", "AAAA"), ("ciphertext", "AAAA"), ("nonce", "ø")])
def test_bad_nonce_or_ciphertext_is_a_keyfile_error(keys: list[Keypair], field: str, value: str) -> None:
    document = json.loads(sealed(keys[0]))
    document[field] = value
    with pytest.raises(KeyfileError, match="not a June key file"):
        open_keyfile(json.dumps(document), "correct horse")


def _open_or_keyfile_error(text: str) -> None:
    with contextlib.suppress(KeyfileError):
        open_keyfile(text, "correct horse")
    with contextlib.suppress(KeyfileError):
        public_key_of(text)


@given(st.text(max_size=5000) | st.binary(max_size=5000).map(lambda b: b.decode("utf-8", "surrogateescape")))
@settings(max_examples=300, deadline=None)
def test_fuzz_any_text_gives_only_keyfile_error(text: str) -> None:
    _open_or_keyfile_error(text)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
FIELDS = ["june_keyfile", "pubkey", "kdf", "cipher", "nonce", "ciphertext"]
KDF_FIELDS = ["name", "n", "r", "p", "salt"]


@given(
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=3),
    st.dictionaries(st.sampled_from(KDF_FIELDS), json_values, max_size=3),
    st.lists(st.sampled_from(FIELDS + KDF_FIELDS), max_size=2),
)
@settings(max_examples=300, deadline=None)
def test_fuzz_damaged_key_files_give_only_keyfile_error(
    fields: dict[str, object], kdf_fields: dict[str, object], removed: list[str]
) -> None:
    document = json.loads(sealed(Keypair(bytes(32))))
    document.update(fields)
    if isinstance(document["kdf"], dict):
        document["kdf"].update(kdf_fields)
        for name in removed:
            document["kdf"].pop(name, None)
    for name in removed:
        document.pop(name, None)
    _open_or_keyfile_error(json.dumps(document))
