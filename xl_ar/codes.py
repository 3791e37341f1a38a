"""Claim adjustment reason codes (CARC) and remark codes (RARC): our labels, categories, actions.

The official CARC and RARC texts are copyrighted by X12, so xl-ar ships only the code values with
its own short labels, a denial category and a suggested next action (`xl_ar/data/carc.csv`,
`rarc.csv`). A practice that has the official lists can load them (`xl-ar codes load FILE`); the
official descriptions are then shown next to ours. They are kept in the user's xl-ar folder,
never in the package.

The group code decides first (`categorize`, `describe` with groups):
- PR (patient responsibility) is the patient's to pay whatever the reason: bill the patient (or
  their secondary coverage);
- CO and PI are the provider's contractual obligation: the patient is never billed, so the action
  is to correct and resubmit, appeal or write off (the CSV's `provider_action` where its `action`
  would bill someone), and a patient-share reason (CO-1, CO-2, CO-3) is contractual;
- OA (and CR in 4010) follow the reason code's category and action.
"""

from __future__ import annotations

import csv
import functools
import io
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from xl_ar import outputs, settings
from xl_ar.errors import InputError

CATEGORIES = (
    "eligibility", "authorization", "coding", "medical_necessity", "timely_filing", "duplicate", "bundling",
    "coordination_of_benefits", "missing_information", "contractual", "patient_responsibility", "prior_payer",
)
"""Every category a CARC maps to. `prior_payer` (CARC 23) is what an earlier payer already paid or
adjusted: neither a contractual adjustment nor a denial, so it is never counted as an adjustment twice."""

DENIAL_CATEGORIES = frozenset(CATEGORIES) - {"contractual", "patient_responsibility", "prior_payer"}
"""Categories that make an adjustment a denial (money the practice may still recover)."""

ACTIONS = ("correct and resubmit", "appeal", "bill patient or secondary", "write off", "no action")

UNKNOWN = ("(no label)", "missing_information", "correct and resubmit")
"""What an unknown code maps to: read the payer's remark codes and correct what they ask for."""

PATIENT_GROUPS = frozenset({"PR"})
"""Group codes whose amount the patient owes: billed to the patient (or their secondary coverage)."""
PROVIDER_GROUPS = frozenset({"CO", "PI"})
"""Group codes whose amount is the provider's obligation: never billed to the patient."""
BILL_PATIENT = "bill patient or secondary"
"""The action of a patient's share."""


def _user_folder() -> Path:
    return settings.home()


@functools.cache
def carc_table() -> pd.DataFrame:
    """Our CARC table: code, label, category, action, provider_action (the action under CO or PI;
    `action` when empty), plus `official` when a list was loaded."""
    text = resources.files("xl_ar").joinpath("data/carc.csv").read_text(encoding="utf-8")
    table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    table["provider_action"] = table.provider_action.where(table.provider_action != "", table.action)
    official = _user_folder() / "codes" / "carc_official.csv"
    table["official"] = ""
    if official.exists():
        loaded = pd.read_csv(official, dtype=str, keep_default_na=False)
        table["official"] = table.code.map(dict(zip(loaded.code, loaded.description, strict=True))).fillna("")
    return table.set_index("code", drop=False)


@functools.cache
def rarc_table() -> pd.DataFrame:
    text = resources.files("xl_ar").joinpath("data/rarc.csv").read_text(encoding="utf-8")
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False).set_index("code", drop=False)


def carc(code: str, group: str | None = None) -> tuple[str, str, str]:
    """(label, category, next action) of one CARC, under its group code when given (`describe`);
    unknown codes get `UNKNOWN`."""
    groups = None if group is None else pd.Series([group])
    label, category, action = describe(pd.Series([code]), groups)
    return label[0], category[0], action[0]


def describe(reason_codes: pd.Series, group_codes: pd.Series | None = None,
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Label, category and next action of each CARC (vectorised), the group deciding first when
    `group_codes` is given: PR is the patient's (category patient_responsibility, bill the patient or
    secondary); CO and PI are the provider's (never billed to the patient: the code's
    `provider_action`, and a patient-share reason is contractual); OA and CR follow the reason."""
    table = carc_table()
    codes_, uniques = pd.factorize(reason_codes.astype("str"), use_na_sentinel=True)
    keys = pd.Index(uniques).str.strip().str.upper()
    out = []
    for column, default in zip(("label", "category", "action", "provider_action"), (*UNKNOWN, UNKNOWN[2]),
                               strict=True):
        values = np.append(keys.map(table[column]).fillna(default).to_numpy(dtype=object), default)
        out.append(values[codes_])  # -1 (missing code) takes the appended default
    label, category, action, provider_action = out
    if group_codes is None:
        return label, category, action
    # a handful of distinct groups: look each up once, then index (no string work per adjustment)
    group_of, groups = pd.factorize(group_codes.astype("str"), use_na_sentinel=True)
    groups = pd.Index(groups).str.strip().str.upper()
    patient = np.append(groups.isin(list(PATIENT_GROUPS)), False)[group_of]
    provider = np.append(groups.isin(list(PROVIDER_GROUPS)), False)[group_of]
    category = np.where(patient, "patient_responsibility",
                        np.where(provider & (category == "patient_responsibility"), "contractual", category))
    action = np.where(patient, BILL_PATIENT, np.where(provider, provider_action, action))
    return label, category.astype(object), action.astype(object)


def categorize(group_codes: pd.Series, reason_codes: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Category and next action of each adjustment (vectorised `describe` under its group): PR is
    the patient's; CO and PI never bill the patient; otherwise the reason code's category (unknown
    codes: missing information, correct and resubmit)."""
    _, category, action = describe(reason_codes, group_codes)
    return category, action


def load_official(path: Path) -> int:
    """Keep an official CARC list the user downloaded (CSV with a code and a description column).

    Returns how many codes it holds. The file must have a header with `code` (or `CARC`) and
    `description` (or `text`, `definition`) columns; anything else is refused with the reason.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise InputError(f"not a readable CSV file ({e})", source=path.name) from None
    columns = {c.strip().lower(): c for c in frame.columns}
    code = next((columns[c] for c in ("code", "carc", "reason code", "code value") if c in columns), None)
    text = next((columns[c] for c in ("description", "text", "definition", "reason") if c in columns), None)
    if code is None or text is None:
        raise InputError(f"needs a 'code' and a 'description' column; found: {', '.join(frame.columns)}",
                         source=path.name)
    out = pd.DataFrame({"code": frame[code].str.strip().str.upper(), "description": frame[text].str.strip()})
    out = out[out.code != ""]
    folder = _user_folder() / "codes"
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, quoting=csv.QUOTE_MINIMAL)
    outputs.write_text(folder / "carc_official.csv", buffer.getvalue())  # whole or not at all
    carc_table.cache_clear()
    return len(out)
