"""X12 amounts with more than two decimals (issue 10, section 10).

The R type allows any number of decimals (`CLP05 135.821`). Such an amount is read rounded to the
cent, half away from zero, in exact integer arithmetic, with a warning naming the file, the segment
and the element; it never reads as 0. Trailing zeros (`12.500`) are exact and say nothing.
"""

from __future__ import annotations

import time
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.era_builder import Claim, Line, era
from xl_ar.findings import FINDING_LIMIT
from xl_ar.money import x12_cents
from xl_ar.x12.era import read_835
from xl_ar.x12.summary import summarize
from xl_ar.x12.tokens import parse_decimal, to_cents


def exact_cents(text: str) -> int:
    """The reference: Decimal arithmetic, ROUND_HALF_UP (which is half away from zero for Decimal)."""
    return int((Decimal(text) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def vectorised(texts: list[str]) -> tuple[list[int], list[bool], list[bool]]:
    raw = "".join(texts).encode()
    lengths = np.array([len(t) for t in texts], dtype=np.int64)
    b = np.cumsum(lengths)
    cents, ok, rounded = to_cents(*parse_decimal(np.frombuffer(raw, dtype=np.uint8), b - lengths, b))
    return cents.tolist(), ok.tolist(), rounded.tolist()


# at most 10 digits of dollars: below MAX_CENTS (100 billion dollars) even after rounding up
r_values = st.builds(lambda neg, whole, frac: ("-" if neg else "") + whole + "." + frac, st.booleans(),
                     st.text("0123456789", min_size=1, max_size=10), st.text("0123456789", max_size=6))


# -- the rule, on values ------------------------------------------------------------------------------

@settings(max_examples=400, deadline=None)
@given(st.lists(r_values, min_size=1, max_size=30))
def test_any_amount_reads_as_its_exact_rounding_to_the_cent(texts):
    cents, ok, rounded = vectorised(texts)
    assert ok == [True] * len(texts)
    assert cents == [exact_cents(t) for t in texts]
    # rounded exactly when something non-zero lies beyond the cent
    assert rounded == [Decimal(t) * 100 != exact_cents(t) for t in texts]


@settings(max_examples=300, deadline=None)
@given(r_values)
def test_the_scalar_reader_agrees(text):
    assert x12_cents(text) == exact_cents(text)


@pytest.mark.parametrize(("text", "cents"), [
    ("135.821", 13582),  # 13582.1 cents -> 13582
    ("135.825", 13583),  # 13582.5: half a cent rounds up
    ("-135.825", -13583),  # and away from zero when negative
    ("2.675", 268),  # a float holds 2.67499999..., which round() takes to 2.67: no float here
    ("0.0049999", 0),  # 0.49999 cents: below the half
    ("-0.004", 0),  # nothing left: 0, not -0
    ("9999999999.995", 1000000000000),  # the carry crosses every digit
    (".125", 13),  # no digit before the point
])
def test_rounding_half_away_from_zero(text, cents):
    assert vectorised([text])[0] == [cents]
    assert x12_cents(text) == cents


def test_trailing_zeros_are_exact_not_rounded():
    cents, ok, rounded = vectorised(["12.500", "12.5000000", "-3.000"])
    assert cents == [1250, 1250, -300] and all(ok) and not any(rounded)


def test_more_than_eighteen_digits_is_still_refused():
    # the R type has at most 18 digits; a longer value is not an amount (an error, read as 0)
    cents, ok, rounded = vectorised(["0.1234567890123456789", "1" * 5000 + ".125"])
    assert cents == [0, 0] and ok == [False, False] and rounded == [False, False]


# -- the rule, in the 835 reader ----------------------------------------------------------------------

def one_claim(**amounts: str) -> str:
    """An 835 of one claim with one line; every amount the mapper reads can be replaced by text."""
    v = {"bpr": "100", "clp03": "135.82", "clp04": "100", "clp05": "35.82", "svc02": "135.82", "svc03": "100",
         "cas": "35.82", "amt": "135.82", **amounts}
    line = Line("99213", v["svc02"], v["svc03"], cas=[("PR", "1", v["cas"])], allowed=v["amt"])
    return era("T1", v["bpr"], [Claim("C1", "1", v["clp03"], v["clp04"], patient_resp=v["clp05"], lines=[line])],
               plb=[("WO:R1", v["plb"])] if "plb" in v else ())


def warnings_of(rem, code: str = "rounded amount") -> list:
    return [f for f in rem.findings if f.code == code]


@pytest.mark.parametrize(("element", "key", "segment", "table", "column"), [
    ("bpr", "BPR02", "BPR", "payments", "amount"),
    ("clp03", "CLP03", "CLP", "claim_payments", "charge"),
    ("clp04", "CLP04", "CLP", "claim_payments", "paid"),
    ("clp05", "CLP05", "CLP", "claim_payments", "patient_resp"),
    ("svc02", "SVC02", "SVC", "line_payments", "charge"),
    ("svc03", "SVC03", "SVC", "line_payments", "paid"),
    ("cas", "CAS03", "CAS", "adjustments", "amount"),
    ("amt", "AMT02", "AMT", "line_payments", "allowed"),
    ("plb", "PLB04", "PLB", "provider_adjustments", "amount"),
])
def test_every_amount_element_is_rounded_with_a_warning(element, key, segment, table, column):
    rem = read_835(one_claim(**{element: "-12.345"}), "remit.835")
    # -1234.5 cents: half away from zero -> -1235
    assert int(getattr(rem, table)[column].iloc[0]) == -1235
    found = warnings_of(rem)
    assert len(found) == 1
    assert found[0].severity == "warning" and found[0].source == "remit.835"
    assert found[0].where.segment_id == segment and found[0].where.transaction == "ST 0001"
    assert found[0].message.startswith(key + " ") and "-12.345 has more than two decimals; read as -12.35" \
        in found[0].message
    assert not [f for f in rem.findings if f.code == "bad number"]


def test_the_warning_names_the_element_the_value_and_the_cents_kept():
    rem = read_835(one_claim(clp05="135.821"), "remit.835")
    (found,) = warnings_of(rem)
    assert str(found) == ("remit.835 ST 0001, segment 14 (CLP): CLP05 (patient responsibility) 135.821 has more "
                          "than two decimals; read as 135.82")


def test_a_claim_written_with_three_decimals_still_balances():
    # 135.821 -> 135.82 charge, 35.821 -> 35.82 adjustment: 135.82 - 35.82 = 100.00 paid
    rem = read_835(one_claim(clp03="135.821", svc02="135.821", cas="35.821", clp05="35.821"), "remit.835")
    assert not [f for f in rem.findings if f.severity == "error"]
    figures = summarize(rem)
    assert figures["balanced_claims"] and figures["balanced_service_lines"]


def test_totals_of_rounded_amounts_are_written_with_two_decimals():
    # the figure kept is 135.82 (two decimals), not 135.820
    rem = read_835(one_claim(clp03="135.821", svc02="135.821", cas="35.821"), "remit.835")
    assert summarize(rem)["sum_clp03"] == "135.82"
    assert summarize(rem)["cas_by_group"] == {"PR": "35.82"}


def test_trailing_zero_decimals_give_no_warning():
    rem = read_835(one_claim(clp03="135.8200", svc02="135.820"), "remit.835")
    assert warnings_of(rem) == []
    assert summarize(rem)["sum_clp03"] == "135.8200"  # written the way the payer wrote it


def test_a_five_thousand_digit_amount_is_refused_not_rounded():
    rem = read_835(one_claim(clp05="9" * 5000 + ".125"), "remit.835")
    assert warnings_of(rem) == []
    (bad,) = warnings_of(rem, "bad number")
    assert bad.severity == "error" and "CLP05 (patient responsibility) is not a valid amount; read as 0" in bad.message
    assert int(rem.claim_payments.patient_resp.iloc[0]) == 0


def test_many_rounded_amounts_stay_linear_and_their_warnings_capped():
    n = 20_000
    claims = [Claim(f"C{i}", "1", "10.005", "10.005") for i in range(n)]  # 1000.5 cents -> 1001 each
    text = era("T1", f"{n * 10.01:.2f}", claims)
    start = time.perf_counter()
    rem = read_835(text, "big.835")
    elapsed = time.perf_counter() - start
    assert rem.claim_payments.charge.tolist() == [1001] * n
    found = warnings_of(rem)
    # two rounded elements per claim (CLP03 and CLP04): the first FINDING_LIMIT listed, the rest counted once
    assert len(found) == FINDING_LIMIT + 1
    assert found[-1].message == f"{2 * n - FINDING_LIMIT} more findings of the kind 'rounded amount' not listed"
    assert elapsed < 20  # about a second here: no per-amount Python work beyond the listed messages
