"""The synthetic practice: deterministic, realistic, and its truth.json agrees with its own files.

The checks here re-derive each kind of exception from the written files with a few lines of
independent parsing (not the product's readers), so a bug in the generator's bookkeeping shows.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from xl_ar.kinds import CODES as EXCEPTION_KINDS
from xl_ar.synth import generate

D = Decimal


def cents(text: str) -> int:
    return int(D(text) * 100)


def parse_era(path: Path) -> dict:
    """A deliberately small 835 parse: payment, claims (with lines) and PLB of a one-ST file."""
    segs = [s.strip() for s in path.read_text().split("~") if s.strip()]
    pay = {"file": path.name, "claims": [], "plb": 0}
    claim = line = None
    for s in segs:
        e = s.split("*")
        if e[0] == "BPR":
            pay["amount"], pay["method"], pay["date"] = cents(e[2]), e[4], e[16]
        elif e[0] == "TRN":
            pay["trace"], pay["payer"] = e[2], e[3]
        elif e[0] == "CLP":
            claim = {"id": e[1], "status": e[2], "charge": cents(e[3]), "paid": cents(e[4]), "cas": [],
                     "lines": [], "payer_claim": e[7]}
            pay["claims"].append(claim)
            line = None
        elif e[0] == "SVC":
            comp = e[1].split(":")
            line = {"code": comp[1], "charge": cents(e[2]), "paid": cents(e[3]), "cas": [], "ref": None,
                    "allowed": None, "date": None}
            claim["lines"].append(line)
        elif e[0] == "CAS":
            triplets = [(e[0 + i], e[1 + i]) for i in range(2, len(e), 3) if i + 1 < len(e)]
            target = line["cas"] if line is not None else claim["cas"]
            target += [(e[1], reason, cents(amount)) for reason, amount in triplets]
        elif e[0] == "REF" and e[1] == "6R" and line is not None:
            line["ref"] = e[2]
        elif e[0] == "AMT" and e[1] == "B6" and line is not None:
            line["allowed"] = cents(e[2])
        elif e[0] == "DTM" and e[1] == "472" and line is not None:
            line["date"] = e[2]
        elif e[0] == "PLB":
            for i in range(3, len(e), 2):
                pay["plb"] += cents(e[i + 1])
                reason, _, reference = e[i].partition(":")
                pay.setdefault("plb_pairs", []).append((reason, reference, cents(e[i + 1])))
        elif e[0] == "SE":
            pay["se"] = int(e[1])
            pay["segments"] = segs.index(s) - next(i for i, x in enumerate(segs) if x.startswith("ST*")) + 1
    return pay


@pytest.fixture(scope="module")
def files(practice_5k):
    truth = json.loads((practice_5k / "truth.json").read_text())
    eras = [parse_era(p) for p in sorted((practice_5k / "era").glob("*.835"))]
    claims = pd.read_csv(practice_5k / "claims.csv", dtype=str, keep_default_na=False)
    postings = pd.read_csv(practice_5k / "postings.csv", dtype=str, keep_default_na=False)
    deposits = pd.read_csv(practice_5k / "deposits.csv", dtype=str, keep_default_na=False)
    lines = pd.read_csv(practice_5k / "claim_lines.csv", dtype=str, keep_default_na=False)
    fees = pd.read_csv(practice_5k / "fee_schedule.csv", dtype=str, keep_default_na=False)
    payers = pd.read_csv(practice_5k / "payers.csv", dtype=str, keep_default_na=False)
    return {"truth": truth, "eras": eras, "claims": claims, "postings": postings, "deposits": deposits,
            "lines": lines, "fees": fees, "payers": payers, "as_of": pd.Timestamp(truth["as_of"])}


def truth_of(files, kind: str, key: str = "claim_id") -> set:
    return {e[key] for e in files["truth"]["exceptions"] if e["kind"] == kind}


def unique_eras(files) -> list[dict]:
    seen, out = set(), []
    for p in sorted(files["eras"], key=lambda p: p["file"]):
        k = (p["payer"], p["trace"], p["amount"])
        if k not in seen:
            seen.add(k)
            out.append(p)
    return out


# -- determinism and shape ------------------------------------------------------------------------

def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files(tmp_path, practice_5k):
    generate(tmp_path / "again", claims=5000, months=12, seed=7)
    assert digest(tmp_path / "again") == digest(practice_5k)


def test_another_seed_gives_another_practice(tmp_path, practice_5k):
    generate(tmp_path / "other", claims=5000, months=12, seed=8)
    assert (tmp_path / "other" / "claims.csv").read_bytes() != (practice_5k / "claims.csv").read_bytes()


def test_the_folder_holds_every_export(practice_5k):
    names = {p.name for p in practice_5k.iterdir()}
    assert {"payers.csv", "claims.csv", "claim_lines.csv", "postings.csv", "deposits.csv", "fee_schedule.csv",
            "era", "practice.json", "truth.json"} <= names
    info = json.loads((practice_5k / "practice.json").read_text())
    assert info["as_of"] == "2026-09-30" and info["npi"] == "1234567893"


def test_truth_uses_only_the_reconciliation_kinds_and_has_every_kind(files):
    kinds = {e["kind"] for e in files["truth"]["exceptions"]}
    assert kinds == set(EXCEPTION_KINDS)


def test_payer_mix_and_identifiers_are_present(files):
    mix = files["claims"]["Ins Code"].value_counts(normalize=True)
    assert set(mix.index) == {"MCR", "MCD", "SMH", "KCA", "HVI", "SELF"}
    assert 0.25 < mix["MCR"] < 0.35  # Medicare about 30% of claims
    for col in ("Patient Name", "DOB", "Member ID", "Patient Address"):
        assert (files["claims"][col] != "").mean() > 0.85, col


def test_procedure_codes_are_code_numbers_only(files):
    malformed = {(e["claim_id"], e["line_no"]) for e in files["truth"]["scrub"] if e["rule_id"] == "SCR-PROC-FORMAT"}
    lines = files["lines"]
    injected = pd.Series(list(zip(lines.claim_id, lines.line_no.astype(int), strict=True))).isin(malformed).to_numpy()
    assert injected.sum() == len(malformed)  # the scrubber's injected bad codes, nothing else
    codes = set(lines.procedure_code[~injected])
    assert all(re.fullmatch(r"\d{5}|[A-V]\d{4}", c) for c in codes)
    text = (Path(files["truth"]["as_of"]).name)  # no descriptions anywhere: the lines file has no text column
    assert text and list(files["lines"].columns) == ["claim_id", "line_no", "line_control", "procedure_code",
                                                     "modifiers", "units", "charge", "service_date",
                                                     "diagnosis_pointers"]


# -- 835 files balance --------------------------------------------------------------------------------

def test_every_835_balances_at_line_claim_and_payment_level(files):
    for p in files["eras"]:
        assert p["se"] == p["segments"], p["file"]
        for c in p["claims"]:
            for ln in c["lines"]:
                assert ln["charge"] - sum(a for _, _, a in ln["cas"]) == ln["paid"], p["file"]
            all_cas = sum(a for _, _, a in c["cas"]) + sum(a for ln in c["lines"] for _, _, a in ln["cas"])
            assert c["charge"] - all_cas == c["paid"], p["file"]
        assert p["amount"] == sum(c["paid"] for c in p["claims"]) - p["plb"], p["file"]


def test_reversals_negate_their_original(files):
    paid_by_claim = defaultdict(list)
    for p in unique_eras(files):
        for c in p["claims"]:
            paid_by_claim[c["id"]].append((c["status"], c["paid"]))
    reversed_ids = truth_of(files, "reversal")
    assert reversed_ids
    for claim_id in reversed_ids:
        statuses = [s for s, _ in paid_by_claim[claim_id]]
        # the correction may come before or after the reversal in the take-back 835
        assert statuses[:3] in (["1", "22", "1"], ["1", "1", "22"]), claim_id
        reversal = next(p for s, p in paid_by_claim[claim_id] if s == "22")
        assert reversal == -paid_by_claim[claim_id][0][1]


# -- truth.json agrees with the files ---------------------------------------------------------------

def test_duplicate_eras_are_the_resent_files(files):
    count = defaultdict(int)
    for p in files["eras"]:
        count[(p["payer"], p["trace"], p["amount"])] += 1
    sent_twice = {k for k, n in count.items() if n > 1}
    assert {k[1] for k in sent_twice if k[1]} == truth_of(files, "duplicate_era", "trace_number") - {None}
    # a check sent twice without a trace number is identified by its amount
    no_trace = [e["amount"] for e in files["truth"]["exceptions"] if e["kind"] == "duplicate_era"
                and e["trace_number"] is None]
    assert sorted(k[2] for k in sent_twice if not k[1]) == sorted(no_trace)


def test_unmatched_remits_are_the_claims_unknown_to_the_ledger(files):
    known = set(files["claims"]["Claim #"])
    remitted = {c["id"] for p in files["eras"] for c in p["claims"]}
    assert remitted - known == truth_of(files, "unmatched_remit")


def recoupments(files) -> dict[str, int]:
    """Per claim, what the payers took back through PLB WO, FB or 72 naming it (its CLP07 or claim id)."""
    by_payer_claim = {c["payer_claim"]: c["id"] for p in unique_eras(files) for c in p["claims"]}
    out = defaultdict(int)
    for p in unique_eras(files):
        for reason, reference, amount in p.get("plb_pairs", []):
            if reason in ("WO", "FB", "72"):
                out[by_payer_claim.get(reference, reference)] += amount
    return out


def test_credit_balances_are_the_credits_due_back_the_payer_has_not_taken_back(files):
    c = files["claims"]
    ins, pat = c["Ins Bal"].map(cents), c["Pat Bal"].map(cents)
    # due back: an insurance part below 0 always; a patient part below 0 once insurance has nothing open
    # (insurance 100.00 / patient -50.00 waits; insurance 0.00 / patient -50.00 is 50.00 to refund)
    owed = ins.clip(upper=0) + pat.clip(upper=0).where(ins <= 0, 0)
    taken = c["Claim #"].map(recoupments(files)).fillna(0)
    # a credit of 84.12 on a claim the payer recouped 84.12 from is no credit balance to refund
    assert set(c["Claim #"][(owed < 0) & (taken < -owed)]) == truth_of(files, "credit_balance")


def test_posting_exceptions_follow_from_postings_and_remittances(files):
    era = defaultdict(int)
    era_date = {}
    by_payer_claim = {c["payer_claim"]: c["id"] for p in unique_eras(files) for c in p["claims"]}
    for p in unique_eras(files):
        for c in p["claims"]:
            era[(c["id"], p["trace"])] += c["paid"]
            era_date[(c["id"], p["trace"])] = pd.Timestamp(p["date"])
        for reason, reference, amount in p.get("plb_pairs", []):
            if reason in ("WO", "FB", "72"):  # a recoupment: -84.12 on the claim it names, on this check
                k = (by_payer_claim.get(reference, reference), p["trace"])
                era[k] -= amount
                era_date[k] = pd.Timestamp(p["date"])
    known = set(files["claims"]["Claim #"])
    posts = files["postings"][files["postings"]["Ins Code"] != "SELF"]
    posted = defaultdict(int)
    for claim_id, trace, amount in zip(posts["Claim #"], posts["Check/EFT #"], posts["Pmt Amt"], strict=True):
        posted[(claim_id, trace)] += cents(amount)
    grace = pd.Timedelta(days=files["truth"]["rules"]["posting_grace_days"])
    unposted = {k for k, v in era.items() if k[0] in known and k not in posted and v != 0
                and era_date[k] <= files["as_of"] - grace}
    variance = {k for k, v in posted.items() if k in era and era[k] != v}
    without = {k for k in posted if k not in era}

    def listed(kind: str) -> set:
        return {(e["claim_id"], e["trace_number"] or "") for e in files["truth"]["exceptions"] if e["kind"] == kind}

    # a check without a trace number is "" on both sides: its posting has no check number
    assert unposted == listed("unposted_payment")
    assert variance == listed("posting_variance")
    assert without == listed("posted_without_era")


def test_deposit_exceptions_follow_from_the_bank_lines(files):
    dep = files["deposits"]
    traces = dep.Description.str.extract(r"TRN\*1\*(\d+)|CHECK (\d+)").bfill(axis=1)[0]
    amounts = dict(zip(traces, dep.Amount.map(cents), strict=True))
    era_traces = {p["trace"] for p in files["eras"]}
    # every payer EFT with a trace that no ERA carries is money with no remittance
    eft_traces = set(traces[dep.Description.str.startswith("HCCLAIMPMT")].dropna())
    assert eft_traces - era_traces == truth_of(files, "deposit_without_era", "trace_number")
    for t in truth_of(files, "deposit_variance", "trace_number"):
        era_amount = next(p["amount"] for p in files["eras"] if p["trace"] == t)
        assert t in amounts and amounts[t] != era_amount and era_amount not in set(amounts.values())
    payer_money = dep.Description.str.startswith(("HCCLAIMPMT", "REMOTE DEPOSIT"))
    no_trace_amounts = set(dep.Amount[payer_money & traces.isna()].map(cents))
    for t in truth_of(files, "era_without_deposit", "trace_number"):
        era_amount = next(p["amount"] for p in files["eras"] if p["trace"] == t)
        assert t not in amounts and era_amount not in no_trace_amounts
    bank_amounts = set(dep.Amount.map(cents))
    # and every other payment older than the grace period is in the bank, by trace or by amount
    grace = pd.Timedelta(days=files["truth"]["rules"]["deposit_grace_days"])
    missing = truth_of(files, "era_without_deposit", "trace_number")
    for p in unique_eras(files):
        if p["amount"] > 0 and pd.Timestamp(p["date"]) <= files["as_of"] - grace and p["trace"] not in missing:
            assert p["trace"] in amounts or p["amount"] in bank_amounts, p["file"]


def latest_adjudication(files) -> dict[str, dict]:
    """Per claim, the adjudication that stands: the latest loop that is not a reversal (CLP02=22) and
    not the loop a reversal cancels (the one whose amounts it negates)."""
    loops = defaultdict(list)
    for p in sorted(unique_eras(files), key=lambda p: p["date"]):
        for c in p["claims"]:
            loops[c["id"]].append(c)
    latest = {}
    for claim_id, found in loops.items():
        cancelled = [next(x for x in found if x["status"] != "22" and x["paid"] == -r["paid"])
                     for r in found if r["status"] == "22"]
        left = [x for x in found if x["status"] != "22" and not any(x is y for y in cancelled)]
        if left:
            latest[claim_id] = left[-1]
    return latest


DENIAL_REASONS = {"27", "31", "197", "15", "4", "11", "181", "50", "29", "18", "97", "234", "22", "16", "252"}
PROCESSED = {"1", "2", "3", "19", "20", "21"}


def denied_in_full(cl: dict) -> bool:
    """CLP02=4, or processed with nothing paid and every line denied (e.g. CLP02=1, CO-197 on each line)."""
    every_line = all(any(r in DENIAL_REASONS for _, r, _ in ln["cas"]) for ln in cl["lines"])
    return cl["status"] == "4" or (cl["status"] in PROCESSED and cl["paid"] == 0 and every_line)


def test_open_denials_follow_from_the_latest_adjudication(files):
    latest = latest_adjudication(files)
    c = files["claims"]
    balance = dict(zip(c["Claim #"], c["Ins Bal"].map(cents) + c["Pat Bal"].map(cents), strict=True))
    # a denial is an exception while the claim still has a balance (not written off)
    open_ = {k for k, b in balance.items() if b > 0}
    denied = {k for k, cl in latest.items() if k in open_ and denied_in_full(cl)}
    partial = {k for k, cl in latest.items() if k in open_ and cl["status"] in PROCESSED and not denied_in_full(cl)
               and any(r in DENIAL_REASONS and g in ("CO", "OA") for ln in cl["lines"] for g, r, _ in ln["cas"])}
    assert denied == truth_of(files, "denied")
    assert partial == truth_of(files, "partially_denied")


def test_under_and_overpayments_follow_from_the_fee_schedule(files):
    fees = {(r.payer_id, r.procedure_code, r.modifier): cents(r.allowed) for r in files["fees"].itertuples()}
    payer_of = dict(zip(files["claims"]["Claim #"], files["claims"]["Ins Code"], strict=True))
    billed = {(r.claim_id, r.procedure_code): r for r in files["lines"].itertuples()}
    under, over = set(), set()
    multiple = set(files["lines"].claim_id[files["lines"].modifiers.str.split(":").map(lambda m: "51" in m)])
    for claim_id, c in latest_adjudication(files).items():
        if claim_id not in payer_of or c["status"] not in PROCESSED or denied_in_full(c):
            continue
        line_fees, allowed = [], 0
        for ln in c["lines"]:
            if any(r in DENIAL_REASONS for _, r, _ in ln["cas"]):
                continue
            b = billed[(claim_id, ln["code"])]  # billed modifiers, whatever the payer echoed
            first_mod = b.modifiers.split(":")[0]
            rate = fees.get((payer_of[claim_id], ln["code"], first_mod), fees[(payer_of[claim_id], ln["code"], "")])
            line_fees.append(min(rate * int(b.units), cents(b.charge)))  # the lesser of contract and charge
            allowed += ln["allowed"]
        # multiple procedures (billed with 51): the highest fee at 100%, the others at 50%
        ranked = sorted(line_fees, reverse=True)
        expected = (ranked[0] + sum(round(f * 0.5) for f in ranked[1:]) if claim_id in multiple and ranked
                    else sum(line_fees))
        # flagged beyond $5 and 2% of the expected allowed amount
        if expected - allowed > max(500, expected * 0.02):
            under.add(claim_id)
        if allowed - expected > max(500, expected * 0.02):
            over.add(claim_id)
    assert under == truth_of(files, "underpaid")
    assert over == truth_of(files, "overpaid")


def test_no_response_claims_were_billed_long_ago_and_never_answered(files):
    c = files["claims"]
    answered = {cl["id"] for p in files["eras"] for cl in p["claims"]}
    billed = pd.to_datetime(c["Billed Date"], format="%m/%d/%Y", errors="coerce")
    balance = c["Ins Bal"].map(cents) + c["Pat Bal"].map(cents)
    waiting = ((c["Ins Code"] != "SELF") & (billed <= files["as_of"] - pd.Timedelta(days=30))
               & ~c["Claim #"].isin(answered) & (balance > 0))
    # a claim the payer rejected (277CA) or never acknowledged is reported as that, not as no response
    told = truth_of(files, "rejected") | truth_of(files, "unacknowledged")
    assert set(c["Claim #"][waiting]) - told == truth_of(files, "no_response")


# -- validity in an independent X12 validator -----------------------------------------------------------

def test_every_835_of_a_practice_passes_pyx12(practice_small):
    import pyx12.params
    import pyx12.x12n_document

    logging.disable(logging.CRITICAL)
    try:
        failures = []
        paths = sorted((practice_small / "era").glob("*.835"))
        assert paths
        for path in paths:
            html = io.StringIO()
            ok = pyx12.x12n_document.x12n_document(param=pyx12.params.params(), src_file=str(path), fd_997=None,
                                                   fd_html=html, fd_xmldoc=None)
            errors = re.findall(r'<span class="error">(.*?)</span>', html.getvalue())
            if "TRN*1**" in path.read_text():
                # a check re-sent without its trace number breaks exactly one rule, on purpose
                assert len(errors) == 1 and "(TRN02) is missing" in errors[0], path.name
            elif not ok or errors:
                failures.append((path.name, errors[:3]))
        assert failures == []
    finally:
        logging.disable(logging.NOTSET)
