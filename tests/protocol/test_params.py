"""Currency parameters: the exact Ğ1 values and derived figures of rules.md §2, and their encoding."""

import dataclasses
import math

import pytest

from protocol.encoding import decode, encode
from protocol.errors import SchemaError
from protocol.params import G1, CurrencyParameters, dev_parameters

G1_PARAMETERS_LINE = (
    "0.0488:86400:1000:432000:100:5259600:63115200:5:5259600:5259600:0.8:31557600:5:24:300:12:0.67:"
    "1488970800:1490094000:15778800"
)


def test_g1_values_match_block_zero_parameters_line() -> None:
    written = [float(v) if "." in v else int(v) for v in G1_PARAMETERS_LINE.split(":")]
    assert G1.to_item()[:20] == written
    assert (G1.ms_period, G1.sig_replay, G1.tx_window, G1.fork_window_size) == (5259600, 5259600, 604800, 100)


def test_g1_derived_values() -> None:
    assert (G1.max_gen_time, G1.min_gen_time, G1.derived_max_acceleration) == (357, 252, 8568)
    assert G1.max_acceleration == G1.derived_max_acceleration
    assert G1.c * G1.c == 0.0023814400000000003
    assert G1.dt_reeval / G1.dt == 182.625


def test_round_trip_through_canonical_cbor() -> None:
    for params in (G1, dev_parameters(1_700_000_000)):
        assert CurrencyParameters.from_item(decode(encode(params.to_item()), max_size=1000)) == params


def test_dev_profile_is_faster_and_starts_with_its_genesis() -> None:
    dev = dev_parameters(1_700_000_000)
    assert dev.ud_time0 == 1_700_000_000 + dev.dt
    assert dev.ms_validity < G1.ms_validity and dev.avg_gen_time < G1.avg_gen_time


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("c", math.nan, "out of range"),
        ("c", 2.0, "out of range"),
        ("c", 1, "expected a float"),
        ("dt", 0, "at least 1"),
        ("dt", 1.0, "expected an integer"),
        ("sig_qty", -1, "out of range"),
        ("sig_qty", True, "expected an integer"),
    ],
)
def test_bad_values_are_refused(field: str, value: object, message: str) -> None:
    item = G1.to_item()
    item[[f.name for f in dataclasses.fields(G1)].index(field)] = value
    with pytest.raises(SchemaError, match=message):
        CurrencyParameters.from_item(item)


def test_wrong_field_count_is_refused() -> None:
    with pytest.raises(SchemaError, match="missing fields"):
        CurrencyParameters.from_item(G1.to_item()[:-1])
    with pytest.raises(SchemaError, match="unknown extra fields"):
        CurrencyParameters.from_item([*G1.to_item(), 1])
