"""xlwings Lite: the Medical A/R worksheet functions (=AR_AGING, =AR_KPIS, ...) in Excel on the web, Mac or Windows.

Paste this file into the xlwings Lite editor as `main.py` and add xl-ar to the workbook's `requirements.txt`
(docs/xlwings-lite.md). The functions are the same objects as in the desktop add-in: `udfs.functions` is
written for both runtimes (positional parameters, no side effects, Office.js argument shapes handled by
`udfs.args`), and under Lite its `@xw.func` decorators are Lite's. Lite registers the decorated functions
it finds in this module, so importing them here is all it takes.

Not available under Lite: the ribbon macros (no custom ribbon tab), SFTP mailboxes (no sockets) and the
store (an in-memory file system that is gone when the workbook closes).
"""

from udfs.functions import (
    ar_aging,
    ar_bucket,
    ar_carc,
    ar_days_in_ar,
    ar_deadline,
    ar_denial_rate,
    ar_eligible,
    ar_expected,
    ar_gcr,
    ar_kpis,
    ar_ncr,
    ar_next_followup,
    ar_pct_over,
)

__all__ = [
    "ar_aging",
    "ar_bucket",
    "ar_carc",
    "ar_days_in_ar",
    "ar_deadline",
    "ar_denial_rate",
    "ar_eligible",
    "ar_expected",
    "ar_gcr",
    "ar_kpis",
    "ar_ncr",
    "ar_next_followup",
    "ar_pct_over",
]
