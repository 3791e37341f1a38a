"""Appeal letters and refund letters: which claims get one, the facts of each, the letters rendered from templates.

Appeal letters go to the reconciliation's `denied`, `partially_denied` and `underpaid` exceptions an appeal can
fix: not a denial whose category needs a new or corrected claim (`kinds.NEW_CLAIM_CATEGORIES`, or remark MA130
on the claim: no appeal rights), and not one whose appeal deadline has passed. Both are counted, never dropped
silently (`AppealBatch.not_eligible`).

Each letter's facts are computed from the canonical tables in column operations (the remitted lines with their
billed modifiers and units, the expected allowed amount from the contract, the CARC/RARC codes with OUR labels,
never the official texts) and handed to the template of the claim's category, `appeal_<category>.txt` (or
`appeal_underpaid.txt`); a practice's `letters/<name>` replaces the shipped one (`documents.find`). Every field a
template can use is listed in docs/letters.md. Letters carry PHI by nature: the shell writes them only where the
user asks, owner-only, under names without identifiers (`documents.file_stem`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from xl_ar import codes, denials, documents, outputs
from xl_ar.appeals import APPEALABLE_KINDS
from xl_ar.kinds import needs_new_claim
from xl_ar.practice import PracticeInfo, us_phone
from xl_ar.remittances import REVERSAL

UNDERPAID = "underpaid"
"""The template suffix of an underpayment (`appeal_underpaid.txt`)."""
NEW_CLAIM = "new or corrected claim needed"
"""Not eligible: the category (or remark MA130) asks for a new or corrected claim, not an appeal."""
DEADLINE_PASSED = "appeal deadline passed"
"""Not eligible: the payer's appeal limit is over."""
NOT_ASKED = "not asked for"
"""Not eligible: --claim was given and named other claims."""
INDEX = "index.csv"
"""The index of a batch of letters, in the letters' folder."""

CATEGORY_WORDS = {
    "eligibility": "eligibility / coverage", "authorization": "authorization / precertification",
    "coding": "coding", "medical_necessity": "medical necessity", "timely_filing": "timely filing",
    "duplicate": "duplicate claim", "bundling": "bundling / inclusive service",
    "coordination_of_benefits": "coordination of benefits", "missing_information": "missing information",
    UNDERPAID: "underpayment against the contracted rate",
}
"""The category in words (the `category_words` fact)."""


def appeal_template(category: str) -> str:
    """The template name of a category: `appeal_<category>.txt`."""
    return f"appeal_{category}.txt"


@dataclass(frozen=True)
class Letter:
    """One rendered letter: its file stem (no identifiers), the template, the text, what the index lists."""

    stem: str
    template: str
    text: str
    claim_id: str
    payer_id: str
    category: str
    amount: int
    """Cents: the amount in dispute (appeal) or to refund (refund)."""


@dataclass(frozen=True)
class AppealBatch:
    """The appeal letters of a reconciliation: their facts (one dict per letter) and the counts left out."""

    facts: list[dict[str, object]]
    not_eligible: dict[str, int]


# -- which claims -------------------------------------------------------------------------------------------------

def eligible(exceptions: pd.DataFrame, remarks: pd.DataFrame, as_of: dt.date,
             claim_ids: Iterable[str] | None = None) -> tuple[pd.DataFrame, dict[str, int]]:
    """The exceptions that get an appeal letter (one per claim, the first by priority), and the counts of those
    that do not by reason (`NEW_CLAIM`, `DEADLINE_PASSED`, `NOT_ASKED`)."""
    ex = exceptions[exceptions["kind"].isin(APPEALABLE_KINDS) & exceptions["claim_id"].notna()]
    ex = ex.sort_values(["priority", "claim_id"], ascending=[False, True], kind="stable").drop_duplicates("claim_id")
    counts = {NEW_CLAIM: 0, DEADLINE_PASSED: 0}
    if claim_ids is not None:
        asked = ex["claim_id"].isin(list(claim_ids)).to_numpy()
        counts[NOT_ASKED] = int((~asked).sum())
        ex = ex[asked]
    new_claim = needs_new_claim(ex, remarks) & (ex["kind"] != UNDERPAID).to_numpy()
    deadline = pd.to_datetime(ex["deadline"])
    passed = (deadline.notna() & (deadline < pd.Timestamp(as_of))).to_numpy(dtype=bool) & ~new_claim
    counts[NEW_CLAIM] = int(new_claim.sum())
    counts[DEADLINE_PASSED] = int(passed.sum())
    return ex[~new_claim & ~passed].reset_index(drop=True), counts


# -- the facts ----------------------------------------------------------------------------------------------------

def _standing_loops(ex: pd.DataFrame, claim_payments: pd.DataFrame) -> pd.DataFrame:
    """The CLP loop each exception is about: its payment's last loop of the claim that is not a reversal."""
    cp = claim_payments.merge(ex[["payment_id", "claim_id"]], on=["payment_id", "claim_id"], how="inner")
    cp = cp[cp["status_code"].astype(str).str.strip() != REVERSAL]
    return cp.sort_values("claim_seq", kind="stable").drop_duplicates(["payment_id", "claim_id"], keep="last")


def _cents(values: pd.Series | np.ndarray) -> list[int | None]:
    """Cents as Python ints, None where missing (what a template's `dollars` filter takes)."""
    arr = pd.Series(values).astype("Float64").round()
    return [None if pd.isna(v) else int(v) for v in arr]


def _lines(ex: pd.DataFrame, loops: pd.DataFrame, tables: Mapping[str, pd.DataFrame],
           remittances: Mapping[str, pd.DataFrame], mpr) -> pd.DataFrame:
    """One row per service line of each letter's claim: the remitted lines of its loop (billed modifiers and units
    where the billed line is found), else the billed lines (nothing paid), with allowed, paid and expected."""
    from xl_ar.reconcile import MPR_REASON, match_lines

    claims = tables["claims"].set_index("claim_id")
    claim_lines = tables.get("claim_lines")
    key = ["payment_id", "claim_seq", "line_seq"]
    lp = remittances["line_payments"].merge(loops[["payment_id", "claim_seq"]], on=["payment_id", "claim_seq"])
    lp = lp.assign(line_seq=lp["line_seq"].astype("int64"))
    adj = remittances["adjustments"].merge(loops[["payment_id", "claim_seq"]], on=["payment_id", "claim_seq"])
    line_adj = adj[adj["line_seq"].notna()]
    line_adj = line_adj.assign(line_seq=line_adj["line_seq"].astype("int64"))
    # actual allowed as reconcile reads it: AMT*B6, else charge - CO adjustments (253, sequestration, excepted)
    co = line_adj[(line_adj["group_code"] == "CO") & (line_adj["reason_code"] != "253")]
    co = co.groupby(key, as_index=False)["amount"].sum().rename(columns={"amount": "_co"})
    mpr_lines = line_adj.loc[line_adj["reason_code"] == MPR_REASON, key].drop_duplicates().assign(_reduced=True)
    lp = lp.merge(co, on=key, how="left").merge(mpr_lines, on=key, how="left")
    fallback = lp["charge"].to_numpy(dtype="float64") - lp["_co"].fillna(0).to_numpy(dtype="float64")
    allowed = lp["allowed"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    allowed = np.where(np.isnan(allowed), fallback, allowed)
    reduced = lp["_reduced"].fillna(False).to_numpy(dtype=bool)
    modifiers = lp["modifiers"].astype(object).to_numpy().copy()
    units = lp["units"].astype("float64").fillna(1).to_numpy().copy()
    service = pd.to_datetime(lp["service_date"]).to_numpy().copy()
    if claim_lines is not None and len(lp):
        billed_idx = match_lines(lp, claim_lines)
        has = billed_idx >= 0
        billed = claim_lines.reset_index(drop=True)
        modifiers[has] = billed["modifiers"].astype(object).to_numpy()[billed_idx[has]]
        units[has] = billed["units"].astype("float64").to_numpy()[billed_idx[has]]
        service[has] = pd.to_datetime(billed["service_date"]).to_numpy()[billed_idx[has]]
    remitted = pd.DataFrame({
        "claim_id": lp["claim_id"].to_numpy(), "line": lp["line_seq"].astype("int64").to_numpy(),
        "procedure_code": lp["procedure_code"].astype(object).to_numpy(), "modifiers": modifiers, "units": units,
        "service_date": service, "charge": lp["charge"].to_numpy(dtype="float64"), "allowed": allowed,
        "paid": lp["paid"].to_numpy(dtype="float64"), "reduced": reduced})
    # a claim denied without service lines on the 835: its billed lines, nothing allowed or paid
    without = ex["claim_id"][~ex["claim_id"].isin(remitted["claim_id"])]
    if claim_lines is not None and len(without):
        b = claim_lines[claim_lines["claim_id"].isin(without)]
        remitted = pd.concat([remitted, pd.DataFrame({
            "claim_id": b["claim_id"].to_numpy(), "line": b["line_no"].astype("int64").to_numpy(),
            "procedure_code": b["procedure_code"].to_numpy(), "modifiers": b["modifiers"].astype(object).to_numpy(),
            "units": b["units"].astype("float64").to_numpy(), "service_date": pd.to_datetime(b["service_date"]),
            "charge": b["charge"].to_numpy(dtype="float64"), "allowed": np.zeros(len(b)), "paid": np.zeros(len(b)),
            "reduced": np.zeros(len(b), dtype=bool)})], ignore_index=True)
    remitted["payer_id"] = claims["payer_id"].reindex(remitted["claim_id"]).to_numpy()
    fee_schedule = tables.get("fee_schedule")
    if fee_schedule is not None and len(fee_schedule) and len(remitted):
        remitted["expected"] = denials.expected_allowed(remitted, fee_schedule, mpr, tables.get("payers"))
    else:
        remitted["expected"] = np.nan
    return remitted.sort_values(["claim_id", "line"], kind="stable").reset_index(drop=True)


def appeal_facts(exceptions: pd.DataFrame, tables: Mapping[str, pd.DataFrame],
                 remittances: Mapping[str, pd.DataFrame], info: PracticeInfo, as_of: dt.date,
                 mpr: tuple[float, ...] | None = (1.0, 0.5), claim_ids: Iterable[str] | None = None) -> AppealBatch:
    """The facts of every appeal letter the reconciliation's `exceptions` call for (see `eligible`), from the
    practice's canonical `tables` (claims, claim_lines, payers, fee_schedule) and its `remittances` (the tables of
    `practice.remittances`); `mpr` is the practice's multiple-procedure reduction (`Rules.mpr`)."""
    empty_remarks = pd.DataFrame({"payment_id": [], "claim_id": [], "code": [], "claim_seq": [], "line_seq": []})
    remarks = remittances.get("remarks", empty_remarks)
    ex, not_eligible = eligible(exceptions, remarks, as_of, claim_ids)
    if ex.empty:
        return AppealBatch([], not_eligible)
    claims = tables["claims"].set_index("claim_id")
    payers = tables.get("payers")
    payer_names = payers.set_index("payer_id")["name"] if payers is not None else pd.Series(dtype=object)
    loops = _standing_loops(ex, remittances["claim_payments"])
    payments = remittances["payments"].set_index("payment_id")
    loop_of = loops.set_index("claim_id")
    lines = _lines(ex, loops, tables, remittances, mpr)

    # totals per claim (expected: missing when no line has a contracted rate)
    sums = lines.groupby("claim_id")[["charge", "allowed", "paid"]].sum()
    expected = lines.groupby("claim_id")["expected"].sum(min_count=1)
    dates = lines.groupby("claim_id")["service_date"].agg(["min", "max"])

    adj = remittances["adjustments"].merge(loops[["payment_id", "claim_seq"]], on=["payment_id", "claim_seq"])
    label, _, _ = codes.describe(adj["reason_code"], adj["group_code"])
    adj = adj.assign(label=label, code=adj["group_code"].astype(str) + "-" + adj["reason_code"].astype(str))
    rem = remarks.merge(loops[["payment_id", "claim_seq"]], on=["payment_id", "claim_seq"])
    rarc = codes.rarc_table()["label"]
    rem = rem.assign(label=rem["code"].map(rarc).fillna(codes.UNKNOWN[0]))

    line_records = _records(lines, {"line": "line", "procedure_code": "procedure_code", "modifiers": "modifiers",
                                    "units": "units", "service_date": "service_date", "charge": "billed",
                                    "allowed": "allowed", "paid": "paid", "expected": "expected"})
    adj_records = _records(adj.sort_values(["claim_id", "line_seq", "amount"], ascending=[True, True, False],
                                           kind="stable", na_position="first"),
                           {"code": "code", "group_code": "group_code", "reason_code": "reason_code",
                            "label": "label", "amount": "amount", "line_seq": "line"})
    rem_records = _records(rem.drop_duplicates(["claim_id", "code"]), {"code": "code", "label": "label"})

    practice = _practice(info)
    facts: list[dict[str, object]] = []
    ids = ex["claim_id"].to_numpy()
    frame = pd.DataFrame({
        "claim_id": ids, "kind": ex["kind"].to_numpy(),
        "category": np.where(ex["kind"] == UNDERPAID, UNDERPAID, ex["category"].fillna(codes.UNKNOWN[1]).to_numpy()),
        "payer_id": ex["payer_id"].to_numpy(), "deadline": pd.to_datetime(ex["deadline"]).to_numpy(),
        "in_dispute": -ex["variance"].astype("Int64").to_numpy(dtype="float64", na_value=np.nan),
        "account_id": claims["account_id"].reindex(ids).to_numpy(),
        "patient_name": claims["patient_name"].reindex(ids).to_numpy() if "patient_name" in claims else None,
        "member_id": claims["member_id"].reindex(ids).to_numpy() if "member_id" in claims else None,
        "date_of_birth": pd.to_datetime(claims["date_of_birth"].reindex(ids)).to_numpy()
        if "date_of_birth" in claims else None,
        "billed_date": pd.to_datetime(claims["billed_date"].reindex(ids)).to_numpy(),
        "claim_service_date": pd.to_datetime(claims["service_date"].reindex(ids)).to_numpy(),
        "payer_claim_id": loop_of["payer_claim_id"].reindex(ids).to_numpy(),
        "denial_date": pd.to_datetime(payments["payment_date"].reindex(ex["payment_id"])).to_numpy(),
        "trace_number": ex["trace_number"].to_numpy(),
        "billed": sums["charge"].reindex(ids).to_numpy(), "allowed": sums["allowed"].reindex(ids).to_numpy(),
        "paid": sums["paid"].reindex(ids).to_numpy(), "expected": expected.reindex(ids).to_numpy(),
        "service_from": dates["min"].reindex(ids).to_numpy(), "service_to": dates["max"].reindex(ids).to_numpy(),
    })
    frame["payer_name"] = payer_names.reindex(frame["payer_id"]).to_numpy()
    frame["service_from"] = frame["service_from"].fillna(frame["claim_service_date"])
    frame["service_to"] = frame["service_to"].fillna(frame["claim_service_date"])
    money = {c: _cents(frame[c]) for c in ("billed", "allowed", "paid", "expected", "in_dispute")}
    for i, r in enumerate(frame.to_dict("records")):
        claim_id = r["claim_id"]
        facts.append({
            "practice": practice,
            "payer": {"payer_id": _text(r["payer_id"]), "name": _text(r["payer_name"]) or _text(r["payer_id"])},
            "claim": {"claim_id": claim_id, "payer_claim_id": _text(r["payer_claim_id"]),
                      "account_id": _text(r["account_id"]), "billed_date": _day(r["billed_date"]),
                      "service_from": _day(r["service_from"]), "service_to": _day(r["service_to"]),
                      "trace_number": _text(r["trace_number"])},
            "patient": {"name": _text(r["patient_name"]), "member_id": _text(r["member_id"]),
                        "date_of_birth": _day(r["date_of_birth"])},
            "lines": line_records.get(claim_id, []),
            "totals": {k: money[k][i] for k in money},
            "adjustments": adj_records.get(claim_id, []),
            "remarks": rem_records.get(claim_id, []),
            "kind": r["kind"], "category": r["category"],
            "category_words": CATEGORY_WORDS.get(r["category"], str(r["category"]).replace("_", " ")),
            "denial_date": _day(r["denial_date"]), "deadline": _day(r["deadline"]), "letter_date": as_of,
        })
    return AppealBatch(facts, not_eligible)


def _records(frame: pd.DataFrame, columns: Mapping[str, str]) -> dict[str, list[dict[str, object]]]:
    """Rows of `frame` as plain dicts (renamed `columns`) grouped by claim_id: dates as dates, cents as ints."""
    out: dict[str, list[dict[str, object]]] = {}
    if frame.empty:
        return out
    plain = {}
    for source, name in columns.items():
        col = frame[source]
        if name in ("billed", "allowed", "paid", "expected", "amount"):
            plain[name] = _cents(col.to_numpy(dtype="float64", na_value=np.nan))
        elif pd.api.types.is_datetime64_any_dtype(col):
            plain[name] = [_day(v) for v in col]
        elif name in ("units", "line"):
            plain[name] = [None if pd.isna(v) else (int(v) if float(v).is_integer() else float(v)) for v in col]
        else:
            plain[name] = [_text(v) for v in col]
    names = list(plain)
    for claim_id, *values in zip(frame["claim_id"].to_numpy(), *plain.values(), strict=True):
        out.setdefault(claim_id, []).append(dict(zip(names, values, strict=True)))
    return out


def _text(value: object) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _day(value: object) -> dt.date | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).date()


def _practice(info: PracticeInfo) -> dict[str, str]:
    """The practice's facts (practice.json): name, NPI, address lines, contact."""
    return {"name": info.name, "npi": info.npi, "address": info.address, "city": info.city, "state": info.state,
            "zip": info.zip_code, "city_line": info.city_line, "contact_name": info.contact_name,
            "contact_phone": us_phone(info.contact_phone)}


# -- rendering ----------------------------------------------------------------------------------------------------

def _render(batch: list[dict[str, object]], kind: str, template_of: Callable[[dict[str, object]], str],
            about: Callable[[dict[str, object]], tuple[str, str, str, int]],
            practice_folder: Path | None) -> list[Letter]:
    """Each facts dict of `batch` rendered with its template (`template_of`; each template found and compiled
    once, the practice's own when it has one) as a `Letter` named `documents.file_stem(n, kind)`; `about` gives
    what the index lists: claim, payer, category (or party), cents."""
    templates: dict[str, tuple[documents.Template, object]] = {}
    out: list[Letter] = []
    for n, facts in enumerate(batch, start=1):
        name = template_of(facts)
        if name not in templates:
            template = documents.find(name, practice_folder)
            templates[name] = (template, documents.compile_template(template))
        template, compiled = templates[name]
        out.append(Letter(documents.file_stem(n, kind), name, documents.render(template, facts, compiled),
                          *about(facts)))
    return out


def render_appeals(batch: AppealBatch, practice_folder: Path | None = None) -> list[Letter]:
    """Every letter of `batch` rendered with its category's template (the practice's own when it has one). A
    template error (`documents.TemplateError`, naming the template and line) stops the whole batch."""
    return _render(batch.facts, "appeal", lambda f: appeal_template(str(f["category"])),
                   lambda f: (str(f["claim"]["claim_id"]), str(f["payer"]["payer_id"]), str(f["category"]),
                              int(f["totals"]["in_dispute"] or 0)),
                   practice_folder)


def refund_facts(refunds: pd.DataFrame, claims: pd.DataFrame, payers: pd.DataFrame | None, info: PracticeInfo,
                 as_of: dt.date, claim_payments: pd.DataFrame | None = None, method: str = "check",
                 ) -> list[dict[str, object]]:
    """The facts of a refund letter for each row of a `refunds` table (`tables.Refund`) with an amount to give back
    (a credit wholly applied to the account's other balances gets none): the practice, the payer (payer refunds),
    the patient, the claim with its payer claim number (the latest CLP07 of `claim_payments` when given) and dates
    of service, the amount, identified date, deadline and how it is returned (`method`: check or offset)."""
    todo = refunds[refunds["amount"].astype("int64") > 0].reset_index(drop=True)
    ids = todo["claim_id"].to_numpy()
    c = claims.set_index("claim_id")
    names = payers.set_index("payer_id")["name"] if payers is not None else pd.Series(dtype=object)
    payer_claim = pd.Series(dtype=object)
    if claim_payments is not None and len(claim_payments):
        known = claim_payments[claim_payments["payer_claim_id"].notna()]
        payer_claim = known.drop_duplicates("claim_id", keep="last").set_index("claim_id")["payer_claim_id"]

    def col(name: str) -> np.ndarray:
        return c[name].reindex(ids).to_numpy() if name in c else np.full(len(ids), None, dtype=object)

    frame = pd.DataFrame({
        "claim_id": ids, "account_id": todo["account_id"].to_numpy(), "party": todo["party"].to_numpy(),
        "payer_id": todo["payer_id"].to_numpy() if "payer_id" in todo else None,
        "amount": todo["amount"].to_numpy(dtype="int64"), "identified": pd.to_datetime(todo["identified_date"]),
        "deadline": pd.to_datetime(todo["deadline"]), "patient_name": col("patient_name"),
        "patient_address": col("patient_address"), "member_id": col("member_id"),
        "service_date": pd.to_datetime(col("service_date")), "charge": col("charge"), "paid": col("paid"),
        "payer_claim_id": payer_claim.reindex(ids).to_numpy(),
        "applied": todo["applied"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
        if "applied" in todo else np.nan})
    frame["payer_name"] = names.reindex(frame["payer_id"]).to_numpy()
    practice = _practice(info)
    out: list[dict[str, object]] = []
    for r in frame.to_dict("records"):
        out.append({
            "practice": practice, "party": r["party"], "method": method, "letter_date": as_of,
            "payer": {"payer_id": _text(r["payer_id"]), "name": _text(r["payer_name"]) or _text(r["payer_id"])},
            "patient": {"name": _text(r["patient_name"]), "address": _text(r["patient_address"]),
                        "member_id": _text(r["member_id"])},
            "claim": {"claim_id": r["claim_id"], "account_id": _text(r["account_id"]),
                      "payer_claim_id": _text(r["payer_claim_id"]), "service_date": _day(r["service_date"]),
                      "charge": None if pd.isna(r["charge"]) else int(r["charge"]),
                      "paid": None if pd.isna(r["paid"]) else int(r["paid"])},
            "refund": {"amount": int(r["amount"]), "identified_date": _day(r["identified"]),
                       "deadline": _day(r["deadline"]),
                       "applied": None if pd.isna(r["applied"]) else int(r["applied"])},
        })
    return out


def refund_letters(refunds: pd.DataFrame, claims: pd.DataFrame, payers: pd.DataFrame | None, info: PracticeInfo,
                   as_of: dt.date, claim_payments: pd.DataFrame | None = None, method: str = "check",
                   practice_folder: Path | None = None) -> list[Letter]:
    """A refund letter per refund with an amount (`refund_facts`), from `refund_payer.txt` or `refund_patient.txt`
    (the practice's own when it has one); a template error stops the whole batch."""
    facts = refund_facts(refunds, claims, payers, info, as_of, claim_payments, method)
    return _render(facts, "refund", lambda f: f"refund_{f['party']}.txt",
                   lambda f: (str(f["claim"]["claim_id"]), f["payer"]["payer_id"], str(f["party"]),
                              int(f["refund"]["amount"])),
                   practice_folder)


def index_csv(letters: list[Letter], kind: str = "appeal") -> str:
    """The index of a batch (letter file -> claim, payer, category, amount as dollars), CSV text. It names claims:
    it belongs in the user's letters folder with the letters, nowhere else."""
    from xl_ar.money import format_cents

    frame = pd.DataFrame({"file": [f"{x.stem}.docx" for x in letters], "claim_id": [x.claim_id for x in letters],
                          "payer_id": [x.payer_id for x in letters],
                          ("category" if kind == "appeal" else "party"): [x.category for x in letters],
                          "amount": [format_cents(x.amount) for x in letters],
                          "template": [x.template for x in letters]})
    return frame.to_csv(index=False, lineterminator="\n")


def write(folder: Path, written: list[Letter], kind: str = "appeal") -> list[Path]:
    """Write a batch into `folder`: each letter as `<stem>.docx` and the batch's `INDEX`, owner-only (letters
    hold PHI), in one flush to disk (`outputs.write_many`). The paths written, the index last."""
    files = [(folder / f"{x.stem}.docx", documents.docx_bytes(x.text, kind.title())) for x in written]
    files.append((folder / INDEX, index_csv(written, kind=kind).encode("utf-8")))
    outputs.write_many(files, private=True)
    return [path for path, _ in files]
