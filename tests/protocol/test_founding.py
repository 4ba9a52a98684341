"""Founding a currency: parameter presets and overrides, founders' files, and block 0's assembly."""

import random
from dataclasses import replace

import pytest

from protocol.forge import build_genesis, prove
from protocol.founding import (
    FounderCertifications,
    FounderIdentity,
    FoundingError,
    FoundingFile,
    assemble_genesis,
    check_currency_name,
    check_uid,
    parameters_for,
    read_founding_file,
    read_parameters_toml,
)
from protocol.params import G1, dev_parameters
from protocol.rules.block import validate_block
from protocol.state import MemoryState
from tests.conftest import KEYS

TIME = 1_800_000_000
CURRENCY = "tiers-lieux"
UIDS = ("ana", "ben", "cleo", "dan", "eli", "fay")
FOUNDER_KEYS = dict(zip(UIDS, KEYS, strict=False))


@pytest.fixture(scope="module")
def identities() -> dict[str, FounderIdentity]:
    return {uid: FounderIdentity.create(key, CURRENCY, uid) for uid, key in FOUNDER_KEYS.items()}


@pytest.fixture(scope="module")
def certifications(identities: dict[str, FounderIdentity]) -> dict[str, FounderCertifications]:
    """Every founder certifies every other one."""
    return {
        uid: FounderCertifications.create(key, [f for other, f in identities.items() if other != uid])
        for uid, key in FOUNDER_KEYS.items()
    }


def every_file(
    identities: dict[str, FounderIdentity], certifications: dict[str, FounderCertifications]
) -> list[FoundingFile]:
    return [*identities.values(), *certifications.values()]


# --- parameters -------------------------------------------------------------------------------


def test_g1_preset_keeps_g1_rules_from_the_genesis_time() -> None:
    parameters = parameters_for("g1", TIME)
    assert parameters == replace(G1, ud_time0=TIME + G1.dt, ud_reeval_time0=TIME + G1.dt_reeval)
    assert parameters.sig_qty == 5


def test_dev_preset_is_the_dev_profile() -> None:
    assert parameters_for("dev", TIME) == dev_parameters(TIME)


def test_overrides_in_either_spelling_over_a_preset() -> None:
    parameters = parameters_for(
        {"preset": "dev", "sigQty": 4, "ud0": 500, "c": 0.1, "dt_reeval": 864000}, TIME
    )
    assert (parameters.sig_qty, parameters.ud0, parameters.c) == (4, 500, 0.1)
    assert parameters.ud_reeval_time0 == TIME + 864000
    assert parameters_for({"sig_qty": 3}, TIME) == replace(parameters_for("g1", TIME), sig_qty=3)


def test_explicit_first_ud_time_is_kept() -> None:
    parameters = parameters_for({"ud_time0": TIME + 3600}, TIME)
    assert parameters.ud_time0 == TIME + 3600


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("euro", "unknown parameters preset 'euro'"),
        ({"preset": "euro"}, "unknown parameters preset 'euro'"),
        ({"preset": 3}, "preset: expected a preset name"),
        ({"sigqty": 3}, "unknown parameter 'sigqty' (did you mean sig_qty?)"),
        ({"sig_qty": "5"}, "sig_qty: expected a whole number"),
        ({"sig_qty": True}, "sig_qty: expected a whole number"),
        ({"sig_qty": -1}, "sig_qty: expected a whole number"),
        ({"sig_qty": 0}, "sig_qty: must be at least 1"),
        ({"c": 1.5}, "c: expected a number in (0, 1]"),
        ({"x_percent": "high"}, "x_percent: expected a number in (0, 1]"),
        ({"preset": "dev", "dt": 0}, "dt: must be at least 1"),
        ({"ud_time0": TIME}, "ud_time0: 1800000000 is not after the genesis time"),
        ({"sig_qty": 3, "sigQty": 4}, "given twice"),
    ],
)
def test_bad_parameters_are_named(spec: object, message: str) -> None:
    with pytest.raises(FoundingError) as refused:
        parameters_for(spec, TIME)  # type: ignore[arg-type]
    assert message in str(refused.value)


def test_parameters_file_is_toml() -> None:
    mapping = read_parameters_toml('preset = "dev"\nsigQty = 2\nc = 0.05\n')
    assert parameters_for(mapping, TIME).sig_qty == 2
    with pytest.raises(FoundingError, match="not a TOML parameters file"):
        read_parameters_toml("sig_qty = = 5")


def test_names_follow_the_document_rules() -> None:
    assert check_currency_name("tiers-lieux") == "tiers-lieux"
    for bad in ("x", "é-monnaie", "a" * 51, "bad!"):
        with pytest.raises(FoundingError, match="currency name"):
            check_currency_name(bad)
    with pytest.raises(FoundingError, match="uid 'a b'"):
        check_uid("a b")
    with pytest.raises(FoundingError, match="uid"):
        FounderIdentity.create(KEYS[0], CURRENCY, "no spaces")


# --- files ------------------------------------------------------------------------------------


def test_identity_file_round_trips_and_reads_like_its_documents(
    identities: dict[str, FounderIdentity],
) -> None:
    ana = identities["ana"]
    text = ana.text()
    assert text.startswith("June founding identity")
    assert f"Currency: {CURRENCY}\nUid: ana\n" in text
    assert "-----BEGIN JUNE FOUNDING IDENTITY-----" in text
    assert all(len(line) <= 64 for line in text.split("-----BEGIN")[1].splitlines()[1:-1])
    assert read_founding_file(text) == ana
    assert read_founding_file(text.replace("\n", "\r\n")) == ana


def test_certification_file_round_trips(
    identities: dict[str, FounderIdentity], certifications: dict[str, FounderCertifications]
) -> None:
    ana = certifications["ana"]
    text = ana.text({f.key: f.uid for f in identities.values()})
    assert "(ben)" in text and "(ana)" not in text
    assert text.count("Certifies: ") == 5
    assert read_founding_file(text) == ana


def _flip_document_byte(text: str) -> str:
    """The same file with one character of its Base64 block changed: another signed document."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("-----BEGIN"))
    line = lines[start + 2]
    lines[start + 2] = line[:20] + ("A" if line[20] != "A" else "B") + line[21:]
    return "\n".join(lines) + "\n"


def test_tampered_files_are_refused(
    identities: dict[str, FounderIdentity], certifications: dict[str, FounderCertifications]
) -> None:
    identity_text = identities["ana"].text()
    certification_text = certifications["ana"].text({})
    for tampered in (_flip_document_byte(identity_text), _flip_document_byte(certification_text)):
        with pytest.raises(FoundingError, match=r"signature does not verify|damaged"):
            read_founding_file(tampered)
    with pytest.raises(FoundingError, match="'Uid' line says mallory"):
        read_founding_file(identity_text.replace("Uid: ana", "Uid: mallory"))
    with pytest.raises(FoundingError, match="'Currency' line"):
        read_founding_file(identity_text.replace(f"Currency: {CURRENCY}", "Currency: g1"))
    ben = identities["ben"].text()
    key_line = next(line for line in ben.splitlines() if line.startswith("Public key"))
    with pytest.raises(FoundingError, match="'Public key' line"):
        read_founding_file(identity_text.replace(identity_text.splitlines()[3], key_line))
    one_fewer = "\n".join(
        line for line in certification_text.splitlines() if not line.startswith("Certifies: ")
    )
    with pytest.raises(FoundingError, match="'Certifies' line"):
        read_founding_file(one_fewer)
    with pytest.raises(FoundingError, match="BEGIN and END markers differ"):
        read_founding_file(
            identity_text.replace("END JUNE FOUNDING IDENTITY", "END JUNE FOUNDING CERTIFICATIONS")
        )
    for junk in ("", "hello", identity_text.split("-----BEGIN")[0]):
        with pytest.raises(FoundingError, match="not a founding file"):
            read_founding_file(junk)


def test_swapped_membership_is_refused(identities: dict[str, FounderIdentity]) -> None:
    mixed = FounderIdentity(identities["ana"].identity, identities["ben"].membership)
    with pytest.raises(FoundingError, match="not an IN for the same key"):
        mixed.check()


def test_certifying_refuses_oneself_mixed_currencies_and_doubles(
    identities: dict[str, FounderIdentity],
) -> None:
    ana, ben = identities["ana"], identities["ben"]
    with pytest.raises(FoundingError, match="ana is your own identity"):
        FounderCertifications.create(FOUNDER_KEYS["ana"], [ben, ana])
    stranger = FounderIdentity.create(KEYS[7], "other-money", "zoe")
    with pytest.raises(FoundingError, match="several currencies"):
        FounderCertifications.create(FOUNDER_KEYS["ana"], [ben, stranger])
    with pytest.raises(FoundingError, match="same key is given twice"):
        FounderCertifications.create(FOUNDER_KEYS["ana"], [ben, ben])
    with pytest.raises(FoundingError, match="no identity to certify"):
        FounderCertifications.create(FOUNDER_KEYS["ana"], [])


# --- assembly ---------------------------------------------------------------------------------


def test_six_founders_found_a_g1_currency_in_any_order(
    identities: dict[str, FounderIdentity], certifications: dict[str, FounderCertifications]
) -> None:
    files = every_file(identities, certifications)
    parameters = parameters_for("g1", TIME)
    description = assemble_genesis(CURRENCY, parameters, TIME, files)
    assert [i.uid for i in description.identities] == sorted(UIDS)
    assert len(description.certifications) == 30
    random.Random(7).shuffle(files)
    assert assemble_genesis(CURRENCY, parameters, TIME, files).hash == description.hash
    issuer = FOUNDER_KEYS["cleo"]
    draft = build_genesis(description, issuer.public_key)
    nonce = prove(draft, draft.pow_min)
    assert nonce is not None
    validate_block(MemoryState(), draft.signed(issuer, nonce))


def _refusal(files: list[FoundingFile], parameters: str = "g1") -> str:
    with pytest.raises(FoundingError) as refused:
        assemble_genesis(CURRENCY, parameters_for(parameters, TIME), TIME, files)
    return str(refused.value)


def test_a_founder_without_certification_file_is_named(
    identities: dict[str, FounderIdentity], certifications: dict[str, FounderCertifications]
) -> None:
    files = [*identities.values(), *(c for uid, c in certifications.items() if uid != "dan")]
    assert (
        _refusal(files)
        == "dan has an identity file but no certification file (6 founders, 5 certification files)"
    )


def test_too_few_certifications_received_says_who_and_how_many(
    identities: dict[str, FounderIdentity], certifications: dict[str, FounderCertifications]
) -> None:
    others = [f for uid, f in identities.items() if uid not in ("ana", "eli")]
    files = [
        *identities.values(),
        *(c for uid, c in certifications.items() if uid != "ana"),
        FounderCertifications.create(FOUNDER_KEYS["ana"], others),  # ana forgets eli
    ]
    assert _refusal(files) == "eli is certified by 4 of the 5 other founders, the parameters need 5 (sig_qty)"


def test_other_currency_duplicates_and_strangers_are_refused(
    identities: dict[str, FounderIdentity], certifications: dict[str, FounderCertifications]
) -> None:
    files = every_file(identities, certifications)
    foreign = FounderCertifications.create(
        FOUNDER_KEYS["ana"], [FounderIdentity.create(KEYS[1], "other-money", "ben")]
    )
    assert "is for currency 'other-money', not 'tiers-lieux'" in _refusal([*files, foreign])
    twin = FounderIdentity.create(KEYS[7], CURRENCY, "ben")
    assert _refusal([*files, twin]) == "two founders use the uid ben: a uid names one founder"
    assert _refusal([*files, identities["ben"]]) == "two identity files for the key of ben"
    assert "twice" in _refusal([*files, certifications["ben"]])
    outsider = FounderCertifications.create(KEYS[7], [identities["ana"]])
    assert "who has no identity file here" in _refusal([*files, outsider])
    assert "at least 6 founders" in _refusal(
        [*(identities[u] for u in UIDS[:4]), *(certifications[u] for u in UIDS[:4])]
    )


def test_a_certification_of_a_former_identity_is_named(
    identities: dict[str, FounderIdentity], certifications: dict[str, FounderCertifications]
) -> None:
    renamed = {**identities, "ben": FounderIdentity.create(FOUNDER_KEYS["ben"], CURRENCY, "benjamin")}
    message = _refusal(every_file(renamed, certifications))
    assert "names another identity of benjamin (made from an older identity file?)" in message
