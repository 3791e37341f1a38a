"""Every exception xl-ar raises on purpose, in one hierarchy.

Errors are data first (`xl_ar.findings`): a reader reports what is wrong with an input as findings
and returns what it could read. An exception is for what cannot go on at all, and its text is for
people: it names the file, setting or argument and says what to do, never a patient identifier.

```
XlArError                       anything xl-ar raises on purpose (the CLI prints it, no traceback)
├── InputError                  an input cannot be used; `findings` lists every problem found
│   ├── X12Error                a file with no readable X12 at all (empty, not text, no ISA or ST)
│   │   └── TokenError          ... found by the tokenizer, before any segment was read
│   └── SettingsError           a setting has a value xl-ar cannot use (names where it was set)
├── ArgumentError (ValueError)  a core function was given an argument it cannot use (bad buckets,
│   ├── AgingError              an as-of date before the period, ...); an Excel cell shows the text
│   └── KpiError
├── StoreError (RuntimeError)   the store cannot be opened or migrated (newer schema, no driver)
└── ToolError (RuntimeError)    an outside program (LibreOffice) failed or is missing
```

The CLI exits with status 2 on an `InputError` (bad input: nothing was written) and 1 on other
`XlArError`s; Excel functions show any of them as the cell's text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the findings module imports nothing from here at run time either
    from xl_ar.findings import Finding


def first_line(error: BaseException, limit: int | None = None, default: str = "") -> str:
    """An error's first line, at most `limit` characters (`default` when it has no text): a database error's
    further lines (PostgreSQL's DETAIL and HINT: `Key (claim_id)=(...)`) and the statement may name values."""
    return (str(error).strip().splitlines() or [default])[0][:limit]


class XlArError(Exception):
    """Anything xl-ar raises on purpose; the message says what went wrong and what to do."""


class InputError(XlArError):
    """An input that cannot be used: the message says which one and what is wrong.

    Raised when a file cannot be read at all, and by commands that refuse to write anything
    because their input has errors (then `findings` lists them all). `source` is the file (or
    table, or setting) the problem is in, when there is one; `reason` is the message without it.
    """

    def __init__(self, reason: str, findings: Iterable[Finding] = (), source: str = ""):
        super().__init__(f"{source}: {reason}" if source else reason)
        self.reason = reason
        self.source = source
        self.findings = list(findings)

    def report(self, limit: int = 20) -> str:
        """The message followed by the first `limit` findings, one per line (the same problem on many rows
        is one line with a count)."""
        from xl_ar.findings import condense  # findings imports nothing from here; keep it that way

        listed = condense(self.findings)
        lines = [str(self)]
        lines += [f"  {f}" for f in listed[:limit]]
        if len(listed) > limit:
            lines.append(f"  ... and {len(listed) - limit} more")
        return "\n".join(lines)


class X12Error(InputError):
    """An X12 file that cannot be read at all (empty, not text, no ISA or ST); the message names
    the file and says why. Anything readable gives its tables and findings instead."""


class TokenError(X12Error):
    """The tokenizer found no readable X12 start (no ISA and no ST) in a file."""


class SettingsError(InputError):
    """A setting whose value cannot be used; `source` says where it was set (flag, sheet, file, environment)."""


class ArgumentError(XlArError, ValueError):
    """A core function was given an argument it cannot use; the message is what a cell shows."""


class AgingError(ArgumentError):
    """A bad aging request (unknown basis or grouping, bad bucket edges); the message says what to fix."""


class KpiError(ArgumentError):
    """A KPI that cannot be computed from the arguments given; the message says what is missing."""


class StoreError(XlArError, RuntimeError):
    """The store cannot be opened, migrated or written (a newer schema, a missing database driver)."""


class ToolError(XlArError, RuntimeError):
    """An outside program xl-ar relies on (LibreOffice, pdftoppm) is missing or failed."""
