"""`xl-ar`: the command line (the imperative shell around the core).

Each command reads its inputs, calls core functions and writes or prints the result. Input
problems print one line each (file, row, column or segment) and exit with status 2 before
anything is written; no traceback unless `--debug`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

from xl_ar import __version__
from xl_ar.findings import Finding, InputError

EXIT_INPUT = 2


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date (use YYYY-MM-DD)") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"'{text}' must be at least 1")
    return value


def _print_findings(findings: Sequence[Finding], limit: int = 50, stream=sys.stderr) -> None:
    for f in findings[:limit]:
        print(f"{f.severity}: {f}", file=stream)
    if len(findings) > limit:
        print(f"... and {len(findings) - limit} more", file=stream)


# -- commands ------------------------------------------------------------------------------------

def cmd_synth(args: argparse.Namespace) -> int:
    from xl_ar.synth import DEFAULT_AS_OF, generate

    result = generate(Path(args.out), claims=args.claims, months=args.months, seed=args.seed,
                      as_of=args.as_of or DEFAULT_AS_OF, show_progress=not args.quiet)
    c = result.counts
    print(f"Wrote a synthetic practice to {args.out}: {c['claims']:,} claims, {c['claim_lines']:,} lines, "
          f"{c['era_files']:,} ERA files, {c['postings']:,} postings, {c['deposits']:,} bank lines "
          f"(as of {result.as_of}).")
    print("truth.json exceptions: " + ", ".join(f"{k} {v}" for k, v in result.truth_counts.items() if v))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from xl_ar.practice import read_practice

    practice = read_practice(Path(args.practice))
    errors = [f for f in practice.findings if f.severity == "error"]
    warnings = [f for f in practice.findings if f.severity == "warning"]
    for name, frame in practice.tables.items():
        print(f"{practice.files[name]}: {len(frame):,} rows as {name}")
    print(f"era/: {len(practice.era_files):,} files")
    if practice.findings:
        _print_findings(errors + warnings, limit=args.limit, stream=sys.stdout)
    print(f"{len(errors)} errors, {len(warnings)} warnings")
    return EXIT_INPUT if errors else 0


def cmd_demo(args: argparse.Namespace) -> int:
    from xl_ar import demo

    summary = demo.run(Path(args.out), claims=args.claims, seed=args.seed, show_progress=not args.quiet)
    print(summary.text())
    return 0


# -- parser ----------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xl-ar", description="Medical accounts receivable: remittances, aging, "
                                     "reconciliation and reports.")
    parser.add_argument("--version", action="version", version=f"xl-ar {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", help="generate a practice and run every step on it (the main job)")
    p.add_argument("--out", default="xl-ar-demo", help="output folder (default: ./xl-ar-demo)")
    p.add_argument("--claims", type=_positive, default=5000, help="claims to generate (default 5000)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("synth", help="write a synthetic practice folder (deterministic for a seed)")
    p.add_argument("--out", required=True, help="folder to write")
    p.add_argument("--claims", type=_positive, default=5000)
    p.add_argument("--months", type=_positive, default=12)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--as-of", type=_date, default=None, help="as-of date (default 2026-09-30)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("check", help="read a practice folder and report every problem in its files")
    p.add_argument("--practice", required=True, help="practice folder")
    p.add_argument("--limit", type=int, default=200, help="findings to print at most")
    p.set_defaults(func=cmd_check)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        _print_findings(e.findings)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # an unexpected failure: short message, traceback on request
        if args.debug:
            raise
        print(f"xl-ar: unexpected error: {type(e).__name__}: {e} (run with --debug for details)", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

