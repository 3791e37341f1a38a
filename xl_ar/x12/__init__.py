"""X12 835 remittances into the canonical tables (`payments`, `claim_payments`, `line_payments`,
`adjustments`, `remarks`, `provider_adjustments`), with findings and per-file figures.

    from xl_ar.x12 import read_835, summarize
    rem = read_835(path.read_bytes(), path.name)   # Remittance: six DataFrames + findings
    figures = summarize(rem)                       # counts, totals, balancing flags

Modules: `tokens` (delimiters and a columnar segment tokenizer), `era` (the 835 reader),
`summary` (figures per file and a text table of several files). No X12 library is used to parse.
"""

from xl_ar.findings import InputError


class X12Error(InputError):
    """An X12 file that cannot be read at all (empty, not text, no ISA or ST); the message names
    the file and says why. Anything readable gives a `Remittance` and findings instead."""


from xl_ar.x12.era import Remittance, read_835  # noqa: E402  (X12Error must exist first)
from xl_ar.x12.summary import SUMMARY_KEYS, format_summaries, summarize  # noqa: E402
from xl_ar.x12.tokens import Delimiters  # noqa: E402

__all__ = ["SUMMARY_KEYS", "Delimiters", "Remittance", "X12Error", "format_summaries", "read_835", "summarize"]
