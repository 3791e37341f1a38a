"""The synthetic practice holds issue 10's situations, and truth.json lists them by the agreed rules.

Each situation is found again in the written files with a small independent parse (not the
product's readers) and checked against truth.json: at least three of each in the 5,000-claim
practice, and what the truth says about them follows from the files.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from xl_ar.synth import generate

FORWARDED = {"19", "20", "21", "23"}
PROCESSED = {"1", "2", "3", "19", "20", "21"}
TAKE_BACK = {"WO", "FB", "72"}
DENIAL_GROUPS = {"CO", "PI", "OA"}
DENIAL_REASONS = {"27", "31", "197", "15", "4", "11", "181", "50", "29", "18", "97", "234", "22", "16", "252"}
"""The CARCs the generator denies with (whole-claim and line denials)."""


def cents(text: str) -> int:
    return int(Decimal(text) * 100)


def parse(path: Path) -> dict:
    """One 835 file: envelope, payment (BPR, TRN, payer), CLP loops with their lines and CAS, PLB pairs."""
    data = path.read_bytes()
    segs = [s.strip() for s in data.decode("ascii").split("~") if s.strip()]
    era = {"file": path.name, "sha": hashlib.sha256(data).hexdigest(), "claims": [], "plb": []}
    claim = line = None
    for s in segs:
        e = s.split("*")
        if e[0] == "ISA":
            era["isa13"] = e[13]
        elif e[0] == "BPR":
            era["amount"], era["method"], era["date"] = cents(e[2]), e[4], pd.Timestamp(e[16])
        elif e[0] == "TRN":
            era["trace"], era["payer"] = e[2], e[3]
        elif e[0] == "CLP":
            claim = {"id": e[1], "status": e[2], "charge": cents(e[3]), "paid": cents(e[4]), "pr": cents(e[5]),
                     "payer_claim": e[7], "lines": [], "era": era}
            era["claims"].append(claim)
            line = None
        elif e[0] == "SVC":
            comp = e[1].split(":")
            line = {"code": comp[1], "modifiers": comp[2:], "charge": cents(e[2]), "paid": cents(e[3]), "cas": [],
                    "allowed": None}
            claim["lines"].append(line)
        elif e[0] == "CAS":
            line["cas"] += [(e[1], e[i], cents(e[i + 1])) for i in range(2, len(e) - 1, 3)]
        elif e[0] == "AMT" and e[1] == "B6":
            line["allowed"] = cents(e[2])
        elif e[0] == "PLB":
            for i in range(3, len(e) - 1, 2):
                reason, _, reference = e[i].partition(":")
                era["plb"].append((reason, reference, cents(e[i + 1])))
    return era


@pytest.fixture(scope="module")
def files(practice_5k) -> dict:
    return read_folder(practice_5k)


def read_folder(folder: Path) -> dict:
    eras = [parse(p) for p in sorted((folder / "era").glob("*.835"))]
    seen, unique = set(), []
    for era in sorted(eras, key=lambda x: (x["date"], x["file"])):
        k = (era["payer"], era["trace"], era["amount"])
        if k not in seen:
            seen.add(k)
            unique.append(era)

    def csv(name: str) -> pd.DataFrame:
        return pd.read_csv(folder / name, dtype=str, keep_default_na=False)

    truth = json.loads((folder / "truth.json").read_text(), parse_constant=lambda c: pytest.fail(f"{c} in truth"))
    claims = csv("claims.csv")
    claims["balance"] = claims["Ins Bal"].map(cents) + claims["Pat Bal"].map(cents)
    by_kind = defaultdict(list)
    for e in truth["exceptions"]:
        by_kind[e["kind"]].append(e)
    loops = defaultdict(list)  # every CLP loop of each claim, in payment order then file order
    for era in unique:
        for c in era["claims"]:
            loops[c["id"]].append(c)
    return {"eras": eras, "unique": unique, "loops": loops, "claims": claims.set_index("Claim #", drop=False),
            "postings": csv("postings.csv"), "deposits": csv("deposits.csv"), "lines": csv("claim_lines.csv"),
            "fees": csv("fee_schedule.csv"), "payers": csv("payers.csv").set_index("payer_id"), "truth": by_kind,
            "rules": truth["rules"], "as_of": pd.Timestamp(truth["as_of"]), "situations": truth["situations"]}


def claims_in(files, kind: str) -> set:
    return {e["claim_id"] for e in files["truth"][kind]}


def standing(loops: list[dict]) -> dict | None:
    """The adjudication that stands: the latest loop that is neither a reversal nor reversed by one."""
    reversed_ = [x for x in loops if x["status"] == "22"]
    cancelled = {id(next(o for o in loops if o["status"] != "22" and o["paid"] == -r["paid"]
                         and o["charge"] == -r["charge"])) for r in reversed_}
    left = [x for x in loops if x["status"] != "22" and id(x) not in cancelled]
    return left[-1] if left else None


def denied_in_full(loop: dict) -> bool:
    every_line = all(any(g in DENIAL_GROUPS and r in DENIAL_REASONS for g, r, _ in ln["cas"]) for ln in loop["lines"])
    return loop["status"] == "4" or (loop["status"] in PROCESSED and loop["paid"] == 0 and every_line)


# -- 1. secondary claims with OA-23 --------------------------------------------------------------------

def crossovers(files) -> list[tuple[dict, dict]]:
    """(primary loop, secondary loop) of every claim a secondary payer paid after a forwarding primary."""
    out = []
    for loops in files["loops"].values():
        primary = [x for x in loops if x["status"] == "19"]
        secondary = [x for x in loops if x["status"] == "2"]
        if primary and secondary:
            out.append((primary[0], secondary[0]))
    return out


def test_a_secondary_payer_pays_the_patient_share_with_oa23_for_what_the_primary_resolved(files):
    pairs = crossovers(files)
    assert len(pairs) >= 3
    for primary, secondary in pairs:
        assert primary["era"]["payer"] != secondary["era"]["payer"]
        assert primary["era"]["date"] < secondary["era"]["date"]
        assert any(g == "CO" and r == "45" for ln in primary["lines"] for g, r, _ in ln["cas"])
        for p_line, s_line in zip(primary["lines"], secondary["lines"], strict=True):
            pr = sum(a for g, _, a in p_line["cas"] if g == "PR")
            oa23 = sum(a for g, r, a in s_line["cas"] if (g, r) == ("OA", "23"))
            # e.g. charge 120.00 - PR 11.40 = OA-23 108.60; the secondary pays 11.40 or less of the PR
            assert oa23 == p_line["charge"] - pr
            assert 0 <= s_line["paid"] <= pr
            assert not any(g == "CO" for g, _, _ in s_line["cas"])
    assert sum(s["paid"] > 0 for _, s in pairs) >= 3


def test_a_claim_paid_by_both_payers_counts_its_contractual_adjustment_once_and_is_no_exception(files):
    flagged = {e["claim_id"] for es in files["truth"].values() for e in es}
    posted = files["postings"]
    grace = pd.Timedelta(days=files["rules"]["posting_grace_days"])
    paid_in_full = [(p, s) for p, s in crossovers(files)
                    if s["paid"] == p["pr"] > 0 and s["era"]["date"] <= files["as_of"] - grace]
    assert len(paid_in_full) >= 3
    for primary, secondary in paid_in_full:
        row = files["claims"].loc[primary["id"]]
        co = sum(a for ln in primary["lines"] for g, _, a in ln["cas"] if g == "CO")
        # charge 120.00 - paid (44.69 + 11.40) - adjusted (CO-45 63.00 + CO-253 0.91, not OA-23) = 0
        assert cents(row.Adjustments) - cents(row["Write Offs"]) == co
        assert cents(row.Payments) == primary["paid"] + secondary["paid"]
        assert row.balance == 0 and primary["id"] not in flagged
        mine = posted[posted["Claim #"] == primary["id"]]
        # each payer's money posted with its own check or EFT number (a payer that paid 0.00 has no posting)
        assert {x["era"]["trace"] for x in (primary, secondary) if x["paid"]} <= set(mine["Check/EFT #"])


def test_a_supplement_that_leaves_the_deductible_pays_part_and_the_patient_owes_the_rest(files):
    partly = [(p, s) for p, s in crossovers(files) if s["paid"] < p["pr"]]
    assert partly
    for primary, secondary in partly:
        # the secondary's own PR is the deductible it did not cover: PR 31.40 = paid 11.40 + PR-1 20.00
        assert primary["pr"] == secondary["paid"] + secondary["pr"]
        assert {r for ln in secondary["lines"] for g, r, _ in ln["cas"] if g == "PR"} <= {"1"}


# -- 8. crossovers left open ---------------------------------------------------------------------------

def test_forwarded_claims_still_open_30_days_after_the_primary_paid_are_forwarded_unpaid(files):
    days = files["rules"]["forwarded_days"]
    open_forwarded, late = set(), set()
    for claim_id, loops in files["loops"].items():
        stands = standing(loops)
        if stands and stands["status"] in FORWARDED and files["claims"].loc[claim_id].balance > 0:
            open_forwarded.add(claim_id)
            if (files["as_of"] - stands["era"]["date"]).days > days:
                late.add(claim_id)
    assert len(late) >= 3
    assert claims_in(files, "forwarded_unpaid") == late


def test_a_forwarded_claim_leaves_the_balance_with_insurance_until_the_secondary_pays(files):
    waiting = [c for c in files["truth"]["forwarded_unpaid"]]
    for e in waiting:
        row = files["claims"].loc[e["claim_id"]]
        # the primary's PR 11.40 is owed by the secondary: insurance balance 11.40, patient 0.00
        assert cents(row["Pat Bal"]) == 0 and cents(row["Ins Bal"]) == files["loops"][e["claim_id"]][-1]["pr"] > 0


# -- 2. zero-paid CLP02=1 denials ----------------------------------------------------------------------

def test_full_denials_sent_as_clp02_1_with_nothing_paid_are_denied_while_open(files):
    zero_paid = {cid: loops for cid, loops in files["loops"].items()
                 if any(x["status"] == "1" and denied_in_full(x) for x in loops)}
    assert len(zero_paid) >= 3
    open_ = {cid for cid, loops in zero_paid.items()
             if denied_in_full(standing(loops)) and files["claims"].loc[cid].balance > 0}
    assert len(open_) >= 3
    assert open_ <= claims_in(files, "denied")
    # each one is the claim's first adjudication (an initial denial)
    assert all(denied_in_full(loops[0]) for loops in zero_paid.values())


def test_denied_lists_every_open_claim_whose_standing_adjudication_denied_it_in_full(files):
    denied = {cid for cid, loops in files["loops"].items()
              if cid in files["claims"].index and standing(loops) and denied_in_full(standing(loops))
              and files["claims"].loc[cid].balance > 0}
    assert claims_in(files, "denied") == denied


# -- 3. multiple-procedure reductions ------------------------------------------------------------------

def mpr_claims(files) -> dict[str, list[tuple[int, int, int, bool]]]:
    """Per claim billed with modifier 51: (fee = contract rate x units, capped at the charge, allowed,
    CO-59, billed with 51) of each line, in billed order."""
    fees = {(r.payer_id, r.procedure_code, r.modifier): cents(r.allowed) for r in files["fees"].itertuples()}
    lines = files["lines"]
    out = {}
    for claim_id in set(lines.claim_id[lines.modifiers.str.split(":").map(lambda m: "51" in m)]):
        payer = files["claims"].loc[claim_id]["Ins Code"]
        loop = standing(files["loops"][claim_id])
        billed = lines[lines.claim_id == claim_id]
        rows = []
        for b, ln in zip(billed.itertuples(), loop["lines"], strict=True):
            fee = min(fees[(payer, b.procedure_code, "")] * int(b.units), cents(b.charge))
            co59 = sum(a for g, r, a in ln["cas"] if (g, r) == ("CO", "59"))
            rows.append((fee, ln["allowed"], co59, "51" in b.modifiers.split(":")))
        out[claim_id] = rows
    return out


def test_procedures_billed_with_51_mark_every_line_but_the_highest_fee(files):
    claims = mpr_claims(files)
    assert len(claims) >= 6
    for rows in claims.values():
        top = max(range(len(rows)), key=lambda i: rows[i][0])
        assert [r[3] for r in rows] == [i != top for i in range(len(rows))]


def test_a_correct_reduction_pays_the_highest_fee_in_full_and_halves_the_others_with_co59(files):
    correct = {cid: rows for cid, rows in mpr_claims(files).items()
               if all(r[2] == 0 for r in rows if not r[3])}
    assert len(correct) >= 3
    for rows in correct.values():
        for fee, allowed, co59, reduced in rows:
            # e.g. 17110 at 70.00: allowed 35.00 = 70.00 x 50%, CO-59 35.00; the primary at 100%
            assert allowed == (round(fee * 0.5) if reduced else fee)
            assert co59 == fee - allowed
    flagged = claims_in(files, "underpaid") | claims_in(files, "overpaid")
    assert not set(correct) & flagged


def test_a_reduction_applied_to_the_highest_fee_line_is_underpaid(files):
    wrong = {cid for cid, rows in mpr_claims(files).items() if any(r[2] > 0 for r in rows if not r[3])}
    assert len(wrong) >= 3
    # e.g. 11042 150.00 and 12002 130.00: paid 75.00 + 130.00 = 205.00 instead of 150.00 + 65.00 = 215.00
    assert wrong <= claims_in(files, "underpaid")


# -- 4. recoupments ------------------------------------------------------------------------------------

def recoupments(files) -> list[tuple[str, dict, int]]:
    """(claim id, recouping payment, amount) of every PLB take-back whose reference names a claim:
    the CLP07 of an earlier loop, or the claim id itself."""
    by_payer_claim = {c["payer_claim"]: c["id"] for era in files["unique"] for c in era["claims"]}
    out = []
    for era in files["unique"]:
        for reason, reference, amount in era["plb"]:
            if reason in TAKE_BACK:
                claim_id = by_payer_claim.get(reference, reference if reference in files["claims"].index else None)
                assert claim_id is not None, reference
                out.append((claim_id, era, amount))
    return out


def test_a_claim_paid_twice_is_recouped_later_through_plb_naming_it(files):
    twice = {cid for cid, loops in files["loops"].items()
             if len([x for x in loops if x["status"] == "1" and x["paid"] > 0]) == 2 and len(loops) == 2}
    recouped = recoupments(files)
    assert len(twice) >= 3
    for claim_id, era, amount in recouped:
        if claim_id in twice:
            second = files["loops"][claim_id][1]
            assert era["date"] > second["era"]["date"] and amount == second["paid"]
    references = {ref for era in files["unique"] for r, ref, _ in era["plb"] if r in TAKE_BACK}
    assert references & set(files["claims"].index)  # some by patient control number, some by CLP07
    assert references - set(files["claims"].index)


def test_a_posted_take_back_leaves_no_credit_and_an_unposted_one_is_an_unposted_payment(files):
    posted = files["postings"]
    unposted = {(e["claim_id"], e["trace_number"]) for e in files["truth"]["unposted_payment"]}
    done, waiting = 0, 0
    for claim_id, era, amount in recoupments(files):
        mine = posted[(posted["Claim #"] == claim_id) & (posted["Check/EFT #"] == era["trace"])]
        if len(mine):
            assert mine["Pmt Amt"].map(cents).sum() == -amount  # the take-back, e.g. -84.12
            done += 1
        elif (files["as_of"] - era["date"]).days > files["rules"]["posting_grace_days"]:
            assert (claim_id, era["trace"]) in unposted
            # the ledger still shows the credit the payer took back, e.g. -84.12, and it is no credit_balance
            assert files["claims"].loc[claim_id].balance == -amount
            assert claim_id not in claims_in(files, "credit_balance")
            waiting += 1
    assert done >= 3 and waiting >= 3


def test_a_claim_paid_twice_and_recouped_and_posted_has_a_zero_balance(files):
    recouped = {claim_id for claim_id, _, _ in recoupments(files)}
    posted = files["postings"]
    twice = [cid for cid in recouped if [x["status"] for x in files["loops"][cid]] == ["1", "1"]
             and (posted["Pmt Amt"].map(cents)[posted["Claim #"] == cid] < 0).any()]
    assert len(twice) >= 3
    # paid 84.12 twice, 84.12 taken back: charge - 84.12 - adjustments = 0
    assert all(files["claims"].loc[cid].balance == 0 for cid in twice)


def test_the_recouping_payment_is_net_of_its_plb_and_deposited_at_that_amount(files):
    deposits = files["deposits"]
    amounts = dict(zip(deposits.Description.str.extract(r"TRN\*1\*(\d+)")[0], deposits.Amount.map(cents),
                       strict=True))
    injected = {e["trace_number"] for k in ("deposit_variance", "era_without_deposit") for e in files["truth"][k]}
    checked = 0
    for _, era, _ in recoupments(files):
        # BPR02 = claims paid - PLB, e.g. 1,204.50 - 84.12 = 1,120.38
        assert era["amount"] == sum(c["paid"] for c in era["claims"]) - sum(a for _, _, a in era["plb"])
        if era["trace"] in amounts and era["trace"] not in injected:
            assert amounts[era["trace"]] == era["amount"]
            checked += 1
    assert checked >= 3


# -- 5. re-sent ERAs -----------------------------------------------------------------------------------

def test_byte_identical_copies_are_duplicate_eras_by_trace(files):
    by_sha = defaultdict(list)
    for era in files["eras"]:
        by_sha[era["sha"]].append(era)
    copies = [group for group in by_sha.values() if len(group) > 1]
    assert len(copies) >= 3
    traces = {e["trace_number"] for e in files["truth"]["duplicate_era"]}
    for group in copies:
        assert len({e["file"] for e in group}) == len(group) == 2
        assert group[0]["trace"] in traces


def test_a_traceless_check_is_sent_twice_and_listed_once_by_its_amount(files):
    traceless = [era for era in files["eras"] if era["trace"] == ""]
    by_amount = defaultdict(list)
    for era in traceless:
        by_amount[era["amount"]].append(era)
    assert len(by_amount) >= 3
    listed = [e for e in files["truth"]["duplicate_era"] if e["trace_number"] is None]
    assert sorted(e["amount"] for e in listed) == sorted(by_amount)
    for copies in by_amount.values():
        assert len(copies) == 2 and copies[0]["isa13"] != copies[1]["isa13"]  # a new interchange
        assert copies[0]["method"] == "CHK"


def test_the_practice_posts_a_traceless_check_without_a_number_and_it_matches(files):
    posted = files["postings"]
    flagged = {(e["claim_id"], e["trace_number"]) for k in ("unposted_payment", "posting_variance",
                                                           "posted_without_era") for e in files["truth"][k]}
    for era in [e for e in files["unique"] if e["trace"] == ""]:
        for c in era["claims"]:
            mine = posted[(posted["Claim #"] == c["id"]) & (posted["Ins Code"] != "SELF")]
            if c["paid"]:
                assert mine["Check/EFT #"].eq("").sum() == 1  # posted once, no check number
                assert cents(mine[mine["Check/EFT #"] == ""]["Pmt Amt"].iloc[0]) == c["paid"]
                assert (c["id"], None) not in flagged


def test_a_traceless_checks_deposit_shows_no_number_and_its_amount_is_unique_in_the_window(files):
    deposits = files["deposits"].assign(date=pd.to_datetime(files["deposits"]["Posting Date"], format="%m/%d/%Y"),
                                        cents=files["deposits"].Amount.map(cents))
    window = files["rules"].get("deposit_window_days", 10)
    for era in [e for e in files["unique"] if e["trace"] == ""]:
        near = deposits[(deposits.date >= era["date"] - pd.Timedelta(days=2))
                        & (deposits.date <= era["date"] + pd.Timedelta(days=window))]
        same = near[near.cents == era["amount"]]
        assert len(same) == 1 and same.Description.iloc[0] == "REMOTE DEPOSIT"
        others = [e for e in files["unique"] if e is not era and e["amount"] == era["amount"]]
        assert others == []


# -- 6. bank credits -----------------------------------------------------------------------------------

KNOWN = re.compile(r"HCCLAIMPMT|TRN\*1\*|\bDEPOSIT\b|\bCHECK\b|\bCHK\b|CARD|MERCHANT|TRANSFER|INTEREST")


def test_credits_no_rule_recognises_are_unidentified_deposits_by_amount(files):
    deposits = files["deposits"]
    unknown = deposits[~deposits.Description.str.upper().str.contains(KNOWN)]
    paid = {era["amount"] for era in files["eras"]}
    assert len(unknown) >= 3
    assert all(a not in paid for a in unknown.Amount.map(cents))
    grace = pd.Timedelta(days=files["rules"]["deposit_grace_days"])
    dates = pd.to_datetime(unknown["Posting Date"], format="%m/%d/%Y")
    assert (dates <= files["as_of"] - grace).all()
    assert sorted(e["amount"] for e in files["truth"]["unidentified_deposit"]) == sorted(unknown.Amount.map(cents))
    assert all(e["trace_number"] is None for e in files["truth"]["unidentified_deposit"])


def test_a_credit_with_a_payments_trace_but_an_unusual_description_carries_that_payment(files):
    deposits = files["deposits"]
    unusual = deposits[deposits.Description.str.contains("TRN*1*", regex=False)
                       & ~deposits.Description.str.contains("HCCLAIMPMT", regex=False)]
    assert len(unusual) >= 3
    amount_of = {era["trace"]: era["amount"] for era in files["eras"]}
    bank = {e["trace_number"] for k in ("deposit_variance", "deposit_without_era", "era_without_deposit")
            for e in files["truth"][k]}
    for description, amount in zip(unusual.Description, unusual.Amount.map(cents), strict=True):
        trace = re.search(r"TRN\*1\*(\d+)", description).group(1)
        assert amount_of[trace] == amount and trace not in bank


def test_card_transfer_and_interest_credits_are_other_money_and_no_exception(files):
    other = files["deposits"][files["deposits"].Description.str.contains("CARD|TRANSFER|INTEREST")]
    assert {"CARD", "TRANSFER", "INTEREST"} <= {w for d in other.Description for w in d.split()}
    listed = {e.get("amount") for k in files["truth"] for e in files["truth"][k]}
    paid = {era["amount"] for era in files["eras"]}
    amounts = set(other.Amount.map(cents)[~other.Description.str.contains("CARD")])
    assert not amounts & listed and not amounts & paid


# -- 7. reversals before their originals ---------------------------------------------------------------

def test_a_take_back_835_writes_the_correction_before_or_after_the_reversal(files):
    order = {}
    for claim_id in claims_in(files, "reversal"):
        loops = files["loops"][claim_id]
        reversal = next(x for x in loops if x["status"] == "22")
        same_payment = [x["status"] for x in reversal["era"]["claims"] if x["id"] == claim_id]
        order[claim_id] = same_payment
    assert sum(o == ["1", "22"] for o in order.values()) >= 3
    assert sum(o == ["22", "1"] for o in order.values()) >= 3
    # the correction decides the outcome whatever the order: paid at contract, so not under- or overpaid
    flagged = claims_in(files, "underpaid") | claims_in(files, "overpaid") | claims_in(files, "denied")
    assert not set(order) & flagged


# -- 9. unbilled claims near the filing limit, 10. future-dated balances --------------------------------

def never_billed(files) -> pd.DataFrame:
    c = files["claims"]
    return c[(c["Billed Date"] == "") & (c["Ins Code"] != "SELF") & (c.balance > 0)
             & ~c["Claim #"].isin(list(files["loops"]))]


def test_unbilled_claims_within_30_days_of_the_filing_limit_or_past_it_are_unbilled_claims(files):
    c = never_billed(files)
    days = c["Ins Code"].map(files["payers"].timely_filing_days).astype(int)
    # e.g. DOS 2026-06-01 + 90 filing days = 2026-08-30, before 2026-09-30 + 30 days: unbilled
    limit = pd.to_datetime(c.DOS, format="%m/%d/%Y") + pd.to_timedelta(days, unit="D")
    near = set(c["Claim #"][limit <= files["as_of"] + pd.Timedelta(days=files["rules"]["unbilled_warning_days"])])
    assert len(near) >= 3
    assert claims_in(files, "unbilled_claim") == near
    dos = pd.to_datetime(c.DOS, format="%m/%d/%Y")
    far_and_old = c[(limit > files["as_of"] + pd.Timedelta(days=30)) & (dos < files["as_of"] - pd.Timedelta(days=30))]
    assert len(far_and_old) >= 2  # held charges not yet near their limit: no exception


def test_future_dated_claims_are_open_unbilled_and_no_exception(files):
    c = files["claims"]
    future = c[pd.to_datetime(c.DOS, format="%m/%d/%Y") > files["as_of"]]
    assert len(future) >= 3
    assert (future["Billed Date"] == "").all() and (future["Claim Status"] == "unbilled").all()
    # nothing paid on them: balance = charge
    assert (future.balance == future.Charges.map(cents)).all() and (future.balance > 0).all()
    flagged = {e["claim_id"] for es in files["truth"].values() for e in es}
    assert not set(future["Claim #"]) & flagged
    assert not set(future["Claim #"]) & set(files["postings"]["Claim #"])


# -- truth.json --------------------------------------------------------------------------------------

def test_bank_and_payment_entries_without_a_trace_carry_their_amount(files):
    for kind in ("duplicate_era", "era_without_deposit", "deposit_variance", "deposit_without_era",
                 "unidentified_deposit"):
        for e in files["truth"][kind]:
            assert ("amount" in e) == (e["trace_number"] is None), e
            assert e.get("amount", 1) > 0


def test_the_835s_read_with_no_error_but_the_empty_trace_numbers(practice_5k):
    from xl_ar.practice import load_practice

    _, findings = load_practice(practice_5k).remittances()
    errors = [f for f in findings if f.severity == "error"]
    assert all("TRN02" in f.message for f in errors)
    assert {f.source for f in errors} <= {p.name for p in (practice_5k / "era").glob("*NOTRACE*")}


def test_truth_lists_where_each_situation_is_exception_or_not(files):
    listed = files["situations"]
    assert set(listed["secondary_paid"]) == {p["id"] for p, _ in crossovers(files)}
    mpr = mpr_claims(files)
    wrong = {cid for cid, rows in mpr.items() if any(r[2] > 0 for r in rows if not r[3])}
    assert set(listed["multiple_procedures_wrong_line"]) == wrong
    assert set(listed["multiple_procedures_correct"]) == set(mpr) - wrong
    by_sha = defaultdict(list)
    for era in files["eras"]:
        by_sha[era["sha"]].append(era)
    assert sorted(listed["resent_byte_identical"]) == sorted(g[0]["trace"] for g in by_sha.values() if len(g) > 1)
    assert sorted(listed["resent_without_trace"]) == sorted({e["amount"] for e in files["eras"] if e["trace"] == ""})
    assert listed["unidentified_credits"] == sorted(e["amount"] for e in files["truth"]["unidentified_deposit"])
    recouped = {(c, era["trace"], a) for c, era, a in recoupments(files)}
    both = listed["recoupments_posted"] + listed["recoupments_not_posted"]
    assert {(r["claim_id"], r["trace_number"], r["amount"]) for r in both} == recouped
    c = files["claims"]
    assert listed["future_dated"] == sorted(c["Claim #"][pd.to_datetime(c.DOS, format="%m/%d/%Y") > files["as_of"]])
    assert set(listed["unbilled_near_filing_limit"]) <= claims_in(files, "unbilled_claim")
    assert not set(listed["unbilled_far_from_filing_limit"]) & claims_in(files, "unbilled_claim")
    assert set(listed["forwarded_open"]) >= claims_in(files, "forwarded_unpaid")
    assert set(listed["zero_paid_denials"]) >= {e for e in claims_in(files, "denied")
                                                if standing(files["loops"][e])["status"] == "1"}


@pytest.mark.parametrize("seed", [13, 29])
def test_every_situation_is_in_the_practices_of_the_test_seeds(seed, tmp_path):
    generate(tmp_path / "p", claims=5000, months=12, seed=seed)
    files = read_folder(tmp_path / "p")
    counts = {kind: len(files["truth"][kind]) for kind in ("forwarded_unpaid", "unbilled_claim",
                                                          "unidentified_deposit", "denied", "underpaid")}
    assert min(counts.values()) >= 3, counts
    assert len(crossovers(files)) >= 3
    assert len([e for e in files["truth"]["duplicate_era"] if e["trace_number"] is None]) >= 3
    by_sha = defaultdict(int)
    for era in files["eras"]:
        by_sha[era["sha"]] += 1
    assert sum(n > 1 for n in by_sha.values()) >= 3
    assert len(recoupments(files)) >= 6
    c = files["claims"]
    assert (pd.to_datetime(c.DOS, format="%m/%d/%Y") > files["as_of"]).sum() >= 3
