"""Findings: problems found in input, kept as data next to the result (errors are data).

A reader reads the whole input, reports every problem it finds as a `Finding`, and returns
its result together with the list. Only an input that cannot be read at all raises
(`InputError`). A finding names where the problem is (file, row, column, or X12 transaction and
segment position) and never carries a patient identifier (see `xl_ar.privacy`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in the input."""

    severity: Severity
    """`error`: the input is wrong and nothing from it should be used; `warning`: read, but look."""
    source: str
    """File name (no folder) or table name the problem is in."""
    location: str
    """Where in the source: `row 17, column 'service_date'` or `ST 0001, segment 42 (CLP)`; may be empty."""
    message: str
    """What is wrong and, where it helps, what to do; no patient identifiers."""

    def __str__(self) -> str:
        where = f" {self.location}" if self.location else ""
        return f"{self.source}{where}: {self.message}"


def errors(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that make an input unusable."""
    return [f for f in findings if f.severity == "error"]


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)


class InputError(Exception):
    """An input that cannot be used: the message says which file and what is wrong.

    Raised when a file cannot be read at all, and by commands that refuse to write anything
    because their input has errors (then `findings` lists them all).
    """

    def __init__(self, message: str, findings: Iterable[Finding] = ()):
        super().__init__(message)
        self.findings = list(findings)

    def report(self, limit: int = 20) -> str:
        """The message followed by the first `limit` findings, one per line."""
        lines = [str(self)]
        lines += [f"  {f}" for f in self.findings[:limit]]
        if len(self.findings) > limit:
            lines.append(f"  ... and {len(self.findings) - limit} more")
        return "\n".join(lines)
