"""Aging: hand-computed tables, including credit balances, future and missing dates, custom buckets."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from xl_ar import tables
from xl_ar.aging import (
    AR,
    FUTURE,
    NO_SERVICE_DATE,
    NOT_AGED,
    AgingError,
    aging,
    bucket_edges,
    bucket_label_of,
    bucket_labels,
)

AS_OF = dt.date(2026, 9, 30)


def claims(*rows) -> pd.DataFrame:
    """rows: (claim_id, payer_id, days before as-of or None, balance in dollars, responsibility)."""
    out = []
    for claim_id, payer, days, balance, resp in rows:
        service = None if days is None else AS_OF - dt.timedelta(days=days)
        out.append({"claim_id": claim_id, "account_id": "A", "payer_id": payer, "service_date": service,
                    "billed_date": service, "charge": 10000, "paid": 0, "adjusted": 0,
                    "balance": round(balance * 100), "responsibility": resp})
    data = {k: [r[k] for r in out] for k in out[0]}
    return tables.from_columns("claims", data)


def test_default_buckets_are_0_30_to_121_plus():
    assert bucket_labels(bucket_edges(None)) == ["0-30", "31-60", "61-90", "91-120", "121+"]


def test_custom_bucket_edges():
    assert bucket_labels(bucket_edges([0, 30, 60, 90, 120, 150, 180])) == [
        "0-30", "31-60", "61-90", "91-120", "121-150", "151-180", "181+"]
    assert bucket_edges([30, 60]) == (0, 30, 60)  # 0 is implied
    with pytest.raises(AgingError, match="increase"):
        bucket_edges([0, 60, 30])


def test_bucket_boundaries_are_inclusive_upper_bounds():
    dates = pd.Series(pd.to_datetime([AS_OF - dt.timedelta(days=d) for d in (0, 30, 31, 90, 91, 121)]))
    assert bucket_label_of(dates, AS_OF) == ["0-30", "0-30", "31-60", "61-90", "91-120", "121+"]


def test_aging_by_payer_hand_computed():
    c = claims(("1", "MCR", 10, 100.00, "insurance"), ("2", "MCR", 45, 50.00, "insurance"),
               ("3", "SMH", 95, 80.00, "insurance"), ("4", "SMH", 200, 20.00, "patient"),
               ("5", "SMH", 5, 30.00, "insurance"))
    a = aging(c, AS_OF, group_by="payer")
    t = a.table.set_index("group")
    # MCR: 100 in 0-30, 50 in 31-60; total 150, nothing over 90
    assert t.loc["MCR", ["0-30", "31-60", "total"]].tolist() == [10000, 5000, 15000]
    assert t.loc["MCR", "pct_over_90"] == 0
    # SMH: 30 in 0-30, 80 in 91-120, 20 in 121+; total 130; over 90 = 100 -> 100/130
    assert t.loc["SMH", ["0-30", "91-120", "121+", "total"]].tolist() == [3000, 8000, 2000, 13000]
    assert t.loc["SMH", "pct_over_90"] == pytest.approx(100 / 130)
    total = a.extra.set_index("group").loc["Total"]
    # 150 + 130 = 280; over 90 = 100
    assert total.total == 28000 and total.pct_over_90 == pytest.approx(100 / 280) and total.claims == 5


def test_credit_balances_are_aged_on_their_own_row_not_netted():
    c = claims(("1", "MCR", 10, 100.00, "insurance"), ("2", "MCR", 40, -25.00, "patient"))
    a = aging(c, AS_OF)
    assert a.table.total.tolist() == [10000]  # the -25 is not netted into 100
    credit = a.extra.set_index("group").loc["Credit balances"]
    assert credit["31-60"] == -2500 and credit.total == -2500 and credit.claims == 1


def test_future_missing_and_zero_are_counted_not_dropped():
    c = claims(("1", "MCR", 10, 100.00, "insurance"), ("2", "MCR", -3, 40.00, "insurance"),
               ("3", "MCR", None, 60.00, "insurance"), ("4", "MCR", 20, 0.00, "patient"))
    extra = aging(c, AS_OF).extra.set_index("group")
    assert extra.loc[FUTURE, ["claims", "total"]].tolist() == [1, 4000]
    assert extra.loc[NO_SERVICE_DATE, ["claims", "total"]].tolist() == [1, 6000]
    assert extra.loc["Zero balance", "claims"] == 1
    # every claim is somewhere: 1 aged + 1 future + 1 no date + 1 zero
    assert extra.loc["Total", "claims"] + extra.loc[[FUTURE, NO_SERVICE_DATE, "Zero balance"], "claims"].sum() == 4


def test_empty_input_gives_a_total_row_of_zeros():
    a = aging(tables.empty("claims"), AS_OF)
    assert a.extra.group.tolist() == ["Total", AR] and a.extra.total.tolist() == [0, 0]
    assert np.isnan(a.extra.pct_over_90.iloc[0])


def test_one_row_input():
    a = aging(claims(("1", "MCR", 150, 12.34, "insurance")), AS_OF, group_by="payer")
    assert a.table[["group", "121+", "total", "pct_over_90"]].values.tolist() == [["MCR", 1234, 1234, 1.0]]


def test_basis_billed_and_last_activity():
    c = claims(("1", "MCR", 100, 10.00, "insurance"))
    c["billed_date"] = pd.Timestamp(AS_OF - dt.timedelta(days=20))
    c["last_activity_date"] = pd.Timestamp(AS_OF - dt.timedelta(days=5))
    assert aging(c, AS_OF, basis="billed_date").table["0-30"].tolist() == [1000]
    assert aging(c, AS_OF, basis="service_date").table["91-120"].tolist() == [1000]
    # no last activity date on a claim: counted on the "Not aged" row
    c["last_activity_date"] = pd.NaT
    assert aging(c, AS_OF, basis="last_activity_date").extra.set_index("group").loc[NOT_AGED, "total"] == 1000


def test_group_by_responsibility_and_payer_class():
    c = claims(("1", "MCR", 10, 10.00, "insurance"), ("2", "SELF", 10, 5.00, "patient"))
    assert aging(c, AS_OF, group_by="responsibility").table.group.tolist() == ["insurance", "patient"]
    payers = pd.DataFrame({"payer_id": ["MCR", "SELF"], "payer_class": ["medicare", "self_pay"]})
    assert aging(c, AS_OF, group_by="payer_class", payers=payers).table.group.tolist() == ["medicare", "self_pay"]
    with pytest.raises(AgingError, match="payer_class"):
        aging(c, AS_OF, group_by="payer_class")


def test_custom_buckets_keep_pct_over_90_exact():
    c = claims(("1", "MCR", 100, 10.00, "insurance"), ("2", "MCR", 80, 30.00, "insurance"))
    a = aging(c, AS_OF, edges=[0, 60, 120])
    # buckets 0-60, 61-120, 121+: both claims are in 61-120, but only the 10.00 one is over 90
    assert a.table["61-120"].tolist() == [4000] and a.table.pct_over_90.tolist() == [0.25]
