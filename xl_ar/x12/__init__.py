"""X12 files in and out: a generic reader and writer, and one mapper per transaction set.

    from xl_ar.x12 import read_835, summarize
    rem = read_835(path.read_bytes(), path.name)   # Remittance: six DataFrames + findings
    figures = summarize(rem)                       # counts, totals, balancing flags

Modules (no X12 library is used to parse or write):

- `tokens`: delimiters, the columnar segment tokenizer, segment codes per transaction set, and
  vectorized value parsers (exact decimals, dates, composites);
- `envelope`: ISA/GS/ST/SE/GE/IEA, the transactions of a file and the envelope checks;
- `reader`: `read_document`, a file read for one transaction set (tokens + envelope + findings +
  positions + typed element access), what every mapper starts from;
- `hierarchy`: HL loops (837, 270/271, 276/277) as a parent array with ancestor lookups;
- `writer`: segments and envelopes of outgoing files, with exact counts and control numbers;
- `era`: the 835 mapper (remittances into the canonical tables); `summary`: its per-file figures;
- `claims_out`: the 837P writer (`write_837p`) and the secondary claims with COB (`secondary_claims`);
  `claims_in`: the 837P reader (`read_837p`), docs/claims-out.md;
- `eligibility`: 271 responses in (`read_271`, the `eligibility` table) and 270 requests out (`write_270`),
  docs/eligibility.md;
- `status`: 999 acknowledgements, 277CA claim acknowledgements and 277 status responses in (`read_999`,
  `read_277`, the `claim_status` table) and 276 status requests out (`write_276`), docs/claim-status.md.

Errors: `xl_ar.errors.X12Error` when a file has no readable X12 at all; everything else is a finding.
"""

from xl_ar.errors import X12Error
from xl_ar.x12.claims_in import read_837p
from xl_ar.x12.claims_out import secondary_claims, write_837p
from xl_ar.x12.eligibility import read_271, write_270
from xl_ar.x12.era import REMITTANCE, Remittance, read_835
from xl_ar.x12.hierarchy import Hierarchy, read_hierarchy
from xl_ar.x12.reader import Document, TransactionSet, read_document
from xl_ar.x12.status import read_277, read_999, write_276
from xl_ar.x12.summary import SUMMARY_KEYS, format_summaries, summarize
from xl_ar.x12.tokens import Delimiters
from xl_ar.x12.writer import ControlNumbers, Party, X12Writer

__all__ = [
    "REMITTANCE", "SUMMARY_KEYS", "ControlNumbers", "Delimiters", "Document", "Hierarchy", "Party", "Remittance",
    "TransactionSet", "X12Error", "X12Writer", "format_summaries", "read_271", "read_277", "read_835", "read_837p",
    "read_999", "read_document", "read_hierarchy", "secondary_claims", "summarize", "write_270", "write_276",
    "write_837p",
]
