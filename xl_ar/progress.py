"""Progress of long work, shown on stderr once a step has taken more than a second.

Quiet for quick steps (tests, small practices); a line that updates in place on a terminal, a
line every few seconds in a log. The core reports progress through the `Progress` protocol so a
ribbon macro can show it in Excel's status bar instead.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol, TextIO

log = logging.getLogger(__name__)


class Progress(Protocol):
    def __call__(self, done: int, total: int | None = None) -> None: ...


def quiet(done: int, total: int | None = None) -> None:
    """A progress callback that shows nothing."""


class Reporter:
    """Prints `label: 45% (4,500/10,000)` after `delay` seconds, at most every `interval` seconds."""

    def __init__(self, label: str, stream: TextIO | None = None, delay: float = 1.0, interval: float | None = None):
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.delay = delay
        self.interval = interval if interval is not None else (0.2 if self.tty else 5.0)
        self.start = time.perf_counter()
        self.last = 0.0
        self.shown = False

    def __call__(self, done: int, total: int | None = None) -> None:
        now = time.perf_counter()
        if now - self.start < self.delay or now - self.last < self.interval:
            return
        self.last = now
        self.shown = True
        text = f"{self.label}: {done:,}" if not total else f"{self.label}: {100 * done // total}% ({done:,}/{total:,})"
        self.stream.write(("\r" + text + "   ") if self.tty else text + "\n")
        self.stream.flush()

    def finish(self) -> float:
        elapsed = time.perf_counter() - self.start
        if self.shown or elapsed >= self.delay:
            end = "\r" if self.tty else ""
            self.stream.write(f"{end}{self.label}: done in {elapsed:.1f} s          \n")
            self.stream.flush()
        return elapsed


@contextmanager
def step(label: str, enabled: bool = True, stream: TextIO | None = None) -> Iterator[Callable[..., None]]:
    """`with step("Writing 835 files") as tick: ... tick(i, n)`: progress for one step of a command (and, shown
    or not, an INFO log line with its time)."""
    started = time.perf_counter()
    log.debug("%s ...", label)
    try:
        if not enabled:
            yield quiet
            return
        reporter = Reporter(label, stream)
        try:
            yield reporter
        finally:
            reporter.finish()
    finally:
        log.info("%s: %.2f s", label, time.perf_counter() - started)
