"""`xl-ar`: the command line (the imperative shell around the core).

Each command reads its inputs, calls core functions and writes or prints the result. Input
problems print one line each (file, row, column or segment; the same problem on many rows is one
line with a count) and exit with status 2 before anything is written; no traceback unless `--debug`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from xl_ar import __version__
from xl_ar import ledger as _ledger
from xl_ar.errors import InputError, SettingsError, ToolError, XlArError
from xl_ar.findings import Finding, condense
from xl_ar.money import dollars
from xl_ar.progress import step
from xl_ar.settings import Settings, require_confirmed, resolve

EXIT_INPUT = 2

LOG_LEVEL_ENV = "XL_AR_LOG_LEVEL"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

log = logging.getLogger("xl_ar.cli")  # also when run as `python -m xl_ar.cli`


def _log_level(text: str) -> str:
    level = text.strip().upper()
    if level not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"'{text}' is not a log level (use one of {', '.join(LOG_LEVELS)})")
    return level


def _setup_logging(flag: str | None) -> None:
    """Log records of xl-ar's modules to stderr at the level of --log-level, else XL_AR_LOG_LEVEL, else WARNING,
    through the filter that hides patient identifiers. The one handler xl-ar sets up (library use logs nothing
    unless the caller configures logging); a second call replaces it."""
    env = os.environ.get(LOG_LEVEL_ENV)
    level = flag or "WARNING"
    if flag is None and env and env.strip():
        try:
            level = _log_level(env)
        except argparse.ArgumentTypeError as e:
            raise InputError(f"{e}; unset it or fix it", source=LOG_LEVEL_ENV) from None
    from xl_ar.privacy import IdentifierFilter

    package = logging.getLogger("xl_ar")
    for old in [h for h in package.handlers if getattr(h, "xl_ar_cli", False)]:
        package.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    handler.xl_ar_cli = True  # type: ignore[attr-defined]
    formatter = logging.Formatter(LOG_FORMAT)
    formatter.converter = time.gmtime  # UTC, as the audit trail
    handler.setFormatter(formatter)
    handler.addFilter(IdentifierFilter())
    package.addHandler(handler)
    package.setLevel(level)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date (use YYYY-MM-DD)") from None


def _whole(text: str, minimum: int = 1) -> int:
    """A whole number of at least `minimum`, as an option's value."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"'{text}' must be {'at least 1' if minimum == 1 else f'{minimum} or more'}")
    return value


def _positive(text: str) -> int:
    return _whole(text, 1)


def _version(text: str) -> int:
    """A version a user saw: a whole number, 0 or more (0: nobody had taken the claim)."""
    return _whole(text, 0)


NO_RESPONSIBILITY = _ledger.NO_RESPONSIBILITY
"""What a claims file that does not say who owes its balances is told (the reader's own warning)."""


def _as_shown(findings: Sequence[Finding]) -> list[Finding]:
    """The findings as printed: the same problem on many rows once."""
    return condense(list(findings))


def _print_findings(findings: Sequence[Finding], limit: int = 50, stream=None) -> None:
    stream = stream or sys.stderr  # looked up when printing (a redirected stderr is honoured)
    shown = _as_shown(findings)
    for f in shown[:limit]:
        print(f"{f.severity}: {f}", file=stream)
    if len(shown) > limit:
        print(f"... and {len(shown) - limit} more", file=stream)


def _resolved(args: argparse.Namespace) -> Settings:
    """The settings of a command: its flags first, then the user file, the environment, the defaults."""
    return resolve(flags={k: getattr(args, k, None) for k in ("store", "practice", "as_of")})


def _settings(args: argparse.Namespace) -> Settings:
    """`_resolved`, refused (exit 2) when a store or mailbox set by a workbook's settings is not confirmed: the
    command line cannot ask, so it says how to confirm (`xl_ar.settings.require_confirmed`)."""
    return require_confirmed(_resolved(args))


def _practice_folder(settings: Settings) -> Path:
    """The practice folder: --practice, else the `practice` setting."""
    folder = settings.practice
    if folder is None:
        raise InputError("give --practice DIR (or set practice in xl_ar.conf or XL_AR_PRACTICE; see `xl-ar settings`)")
    return Path(folder)


# -- commands ------------------------------------------------------------------------------------

def cmd_synth(args: argparse.Namespace) -> int:
    from xl_ar.synth import DEFAULT_AS_OF, generate

    result = generate(Path(args.out), claims=args.claims, months=args.months, seed=args.seed,
                      as_of=args.as_of or DEFAULT_AS_OF, show_progress=not args.quiet)
    c = result.counts
    print(f"Wrote a synthetic practice to {args.out}: {c['claims']:,} claims, {c['claim_lines']:,} lines, "
          f"{c['era_files']:,} ERA files, {c['status_files']:,} claim acknowledgement files, {c['postings']:,} "
          f"postings, {c['deposits']:,} bank lines (as of {result.as_of}).")
    print("truth.json exceptions: " + ", ".join(f"{k} {v}" for k, v in result.truth_counts.items() if v))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from xl_ar.practice import read_practice

    if args.file:
        return _check_file(args)
    practice = read_practice(_practice_folder(_settings(args)))
    errors = [f for f in practice.findings if f.severity == "error"]
    warnings = [f for f in practice.findings if f.severity == "warning"]
    for name, frame in practice.tables.items():
        file = practice.files[name]
        layout = f" (recognised: {practice.profiles[file]})" if file in practice.profiles else ""
        print(f"{file}: {len(frame):,} rows as {name}{layout}")
    print(f"era/: {len(practice.era_files):,} files")
    if practice.findings:
        _print_findings(errors + warnings, limit=args.limit, stream=sys.stdout)
    print(f"{len(errors)} errors, {len(warnings)} warnings")
    return EXIT_INPUT if errors else 0


def _check_file(args: argparse.Namespace) -> int:
    """`xl-ar check FILE`: one export read as what it is (its known layout, practice.json's map beside it, its
    name, or the table its headers name best), with every finding."""
    from xl_ar import ledger, mapping
    from xl_ar.practice import EXPORT_TABLES, read_export

    path = Path(args.file)
    if not path.is_file():
        raise InputError("no such file", source=path.name)
    table = path.stem.lower() if path.stem.lower() in EXPORT_TABLES else None
    if table is None:
        table = mapping.guess_table(list(ledger.read_sheet(path).frame.columns))
    export = read_export(path, table)
    errors = [f for f in export.findings if f.severity == "error"]
    warnings = [f for f in export.findings if f.severity == "warning"]
    layout = f" (recognised: {export.profile})" if export.profile else ""
    for name, frame in export.tables.items():
        print(f"{path.name}: {len(frame):,} rows as {name}{layout}")
    if export.findings:
        _print_findings(errors + warnings, limit=args.limit, stream=sys.stdout)
    print(f"{len(errors)} errors, {len(warnings)} warnings")
    return EXIT_INPUT if errors else 0


def cmd_era_summary(args: argparse.Namespace) -> int:
    import json

    from xl_ar.x12 import X12Error, format_summaries, read_835, summarize

    figures: dict[str, dict] = {}
    failed = False
    for name in args.paths:
        path = Path(name)
        try:
            data = path.read_bytes()
        except OSError as e:
            print(f"error: {path.name}: cannot be read ({e.strerror or e})", file=sys.stderr)
            failed = True
            continue
        try:
            rem = read_835(data, path.name)
        except X12Error as e:
            print(f"error: {e}", file=sys.stderr)
            failed = True
            continue
        figures[name] = summarize(rem)
        if args.findings:
            _print_findings(rem.findings, limit=args.findings)
    if args.json:
        print(json.dumps(figures, indent=1))
    elif figures:
        print(format_summaries(figures))
    return EXIT_INPUT if failed else 0


def cmd_import(args: argparse.Namespace) -> int:
    from xl_ar import remittances, sources
    from xl_ar.practice import load_practice
    from xl_ar.store import Store

    settings = _settings(args)
    payers = load_practice(settings.practice).table("payers") if settings.practice else None
    files, skipped = [], []
    for source in args.sources:
        listing = sources.read_source(source)
        files += listing.files
        skipped += listing.skipped
    with Store.open(settings.store) as store, step("Importing remittances", not args.quiet) as tick:
        report = remittances.import_files(files, store, payers=payers, progress=tick)
    report.skipped = skipped
    for f in report.files:
        dup = f" ({len(f.duplicates)} already imported: {', '.join(f.duplicates[:5])})" if f.duplicates else ""
        print(f"{f.name}: {f.status}, {f.payments} payments{dup}")
    for name in skipped[:20]:
        print(f"{name}: not an X12 file, ignored")
    _print_findings(report.findings, limit=args.limit, stream=sys.stdout)
    print(report.summary())
    return EXIT_INPUT if any(f.status == "rejected" for f in report.files) else 0


def _claims_and_date(args: argparse.Namespace):
    """The claims table, as-of date, payers and practice folder (None with --claims) of a command: from
    --claims FILE or --practice DIR."""
    from xl_ar.findings import has_errors
    from xl_ar.practice import load_practice, read_export

    if args.claims and args.practice:
        raise InputError("give either --claims FILE or --practice DIR")
    settings = _settings(args)
    if not args.claims:
        if settings.practice is None:
            raise InputError("give either --claims FILE or --practice DIR (or set practice in xl_ar.conf; "
                             "see `xl-ar settings`)")
        practice = load_practice(settings.practice)
        return practice.table("claims"), practice.as_of(settings.as_of), practice.table("payers"), practice
    export = read_export(Path(args.claims), "claims")
    frame, findings = export.tables["claims"], export.findings
    if has_errors(findings):
        raise InputError(f"{Path(args.claims).name}: the claims file has problems; nothing was computed",
                         [f for f in findings if f.severity == "error"])
    _print_findings([f for f in findings if f.severity == "warning"])  # as `check` shows them (stderr: --json)
    if settings.as_of is None:
        raise InputError("give --as-of YYYY-MM-DD")
    return frame, settings.as_of, None, None


def _ratio(value: float) -> float | None:
    return None if value != value else round(value, 6)


def cmd_aging(args: argparse.Namespace) -> int:
    import json

    from xl_ar.aging import aging
    from xl_ar.money import format_cents

    claims, as_of, payers, _ = _claims_and_date(args)
    result = aging(claims, as_of, group_by=args.by, basis=args.basis, edges=args.buckets, payers=payers)
    rows = result.rows().to_dict("records")
    if args.json:
        def amount(v):
            return None if v != v else format_cents(int(v))

        print(json.dumps({
            "as_of": as_of.isoformat(), "basis": result.basis, "group_by": result.group_by,
            "buckets": result.labels, "ar": format_cents(result.ar),
            "rows": [{"group": r["group"], "claims": int(r["claims"]),
                      "buckets": {label: amount(r[label]) for label in result.labels},
                      "total": amount(r["total"]), "pct_over_90": _ratio(r["pct_over_90"])} for r in rows],
        }, indent=1))
        return 0
    header = ["group", "claims", *result.labels, "total", "% > 90"]
    lines = [header]
    for r in rows:
        lines.append([str(r["group"]), f"{int(r['claims']):,}",
                      *["" if r[label] != r[label] else f"{r[label] / 100:,.2f}" for label in result.labels],
                      f"{r['total'] / 100:,.2f}", "" if r["pct_over_90"] != r["pct_over_90"]
                      else f"{100 * r['pct_over_90']:.1f}%"])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    print(f"A/R aging as of {as_of} by {result.basis} ({result.group_by})")
    for line in lines:
        cells = zip(line, widths, strict=True)
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(cells)))
    return 0


def cmd_kpi(args: argparse.Namespace) -> int:
    """KPIs of the claims ledger. With a practice folder whose export shows no write-offs, the net
    collection rate takes its contractual adjustments from the practice's 835s; otherwise it says it
    is an upper bound."""
    import json

    from xl_ar import balances, kpi
    from xl_ar.money import format_cents

    claims, as_of, _, practice = _claims_and_date(args)
    remitted = None
    if practice is not None and not balances.known(claims, "written_off"):
        with step("Reading remittances", not args.json) as tick:
            remitted, _ = practice.remittances(tick)
    values = kpi.kpis(claims, as_of, args.lookback_months, remittances=remitted)
    if args.json:
        print(json.dumps({"as_of": as_of.isoformat(), "kpis": {
            k: format_cents(v) if k in kpi.MONEY_KPIS else _ratio(v) for k, v in values.items()},
            "notes": values.notes}, indent=1))
        return 0
    print(f"KPIs as of {as_of}")
    for k, v in values.items():
        shown = (f"{v / 100:,.2f}" if k in kpi.MONEY_KPIS else "n/a" if v != v else f"{v:.1f}" if k == "days_in_ar"
                 else f"{100 * v:.1f}%")
        print(f"  {kpi.KPI_NAMES[k]:<36} {shown:>14}")
        if k in values.notes:
            print(f"    {values.notes[k]}")
    return 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    import json

    from xl_ar.kinds import BY_CODE
    from xl_ar.practice import load_practice
    from xl_ar.reconcile import reconcile_tables
    from xl_ar.store import Store

    settings = _settings(args)
    practice = load_practice(_practice_folder(settings))
    as_of = practice.as_of(settings.as_of)
    with step("Reading remittances", not args.quiet and not args.json) as tick:
        remitted, findings = practice.remittances(tick)
    with step("Reconciling", not args.quiet and not args.json):
        result = reconcile_tables(practice.all_tables(), remitted, as_of, settings.rules())
    log.info("reconciled as of %s: %d exceptions (%s)", as_of, len(result.exceptions),
             ", ".join(f"{kind} {n}" for kind, n in result.exceptions["kind"].value_counts().sort_index().items()))
    with Store.open(settings.store) as store:  # once: the takers and notes read, the events recorded
        result, shares = _assigned(settings, practice, result, args.specialist, store.assignments())
        view = _followup_view(result, store.notes(), as_of)
        if args.out:
            from xl_ar.reports import reconciliation

            reconciliation.write(Path(args.out), result, practice.info.name, worklist=view.shown)
        _record_reconcile(store, practice, as_of, result, args.out)
    if args.json:
        print(json.dumps({"exceptions": _exception_rows(result), "summary": result.summary}, indent=1))
        return 0
    _print_findings([f for f in findings if f.severity == "error"], limit=20)
    print(f"Reconciliation as of {as_of}: {len(result.exceptions):,} exceptions")
    for kind, count in result.summary.items():
        if count:
            print(f"  {BY_CODE[kind].label:<24} {count:>7,}  ({kind})")
    for message in view.messages:
        print(f"  Worklist: {message}")
    if shares is not None:
        print("Worklist per specialist:" + (f" (written: {args.specialist}'s rows only)" if args.specialist else ""))
        for r in shares.itertuples():
            print(f"  {r.assigned_to:<24} {r.rows:>7,} rows  {r.dollars / 100:>14,.2f} at stake")
    top = view.shown.head(args.top)
    if len(top):
        print(f"Top {len(top)} of the worklist:")
        for r in top.itertuples():
            who = r.claim_id if isinstance(r.claim_id, str) else r.trace_number
            print(f"  {r.rank:>3}. {BY_CODE[r.kind].label:<24} {who or '':<14} {r.priority:>10,.2f}  {r.next_action}")
    if args.out:
        print(f"Wrote {args.out}")
    return 0


def _followup_view(result, stored_notes, as_of: dt.date):
    """The worklist seen through the store's notes (`xl_ar.notes.followup_view`): last notes, ticklers."""
    from xl_ar.notes import followup_view

    return followup_view(result.worklist(), stored_notes, as_of)


def _assigned(settings: Settings, practice, result, specialist: str | None, stored):
    """The reconciliation with `assigned_to` on every exception: the claim's stored taker (`stored`, the store's
    assignments), else the policy's split (empty when not split), and `assignment_version`; only `specialist`'s
    rows when one is named (`xl_ar.assignments.for_user`); with the worklist's rows and dollars per specialist
    (None when not split and nobody took a claim). Raises `SettingsError` for a bad specialists setting or a name
    that is neither a configured specialist nor someone who took a claim."""
    from xl_ar import assignments
    from xl_ar.errors import SettingsError
    from xl_ar.reconcile import Reconciliation

    policy = settings.policy()
    if policy.assign_by == "off" and stored.empty:
        if specialist:
            raise SettingsError("--specialist needs the worklist split among specialists (setting assign_by: payer, "
                                "alphabet or round_robin) or claims taken with `xl-ar assign`")
        return result, None
    tables_ = practice.all_tables() if policy.assign_by != "off" else {}
    every = assignments.assigned(result.exceptions, stored, tables_.get("claims"), tables_.get("payers"), policy)
    assigned = Reconciliation(every, result.as_of, result.stats)
    shares = assignments.summary(assigned.worklist()[lambda w: w[assignments.COLUMN].notna()])
    if specialist:
        mine, me = assignments.mine(every, stored, policy, specialist)
        if me is None:
            names = ", ".join(s.name for s in assignments.configured(policy)) or "nobody is configured"
            raise SettingsError(f"{specialist[:40]} is not one of the specialists ({names}) and took no claim",
                                source="--specialist")
        assigned = Reconciliation(mine.reset_index(drop=True), result.as_of, result.stats)
    return assigned, shares


def _record_reconcile(store, practice, as_of: dt.date, result, out: str | None) -> None:
    """The audit events of a reconciliation, in the open `store`: `reconcile` (its inputs and counts) and, with
    --out, `export` (the reconciliation workbook's SHA-256)."""
    from xl_ar import audit

    inputs = audit.practice_inputs(practice)
    kinds = {kind: int(n) for kind, n in result.summary.items() if n}
    store.audit("reconcile", as_of=as_of.isoformat(), exceptions=len(result.exceptions), kinds=kinds, inputs=inputs)
    if out:
        store.audit("export", what="reconciliation workbook", as_of=as_of.isoformat(),
                    exceptions=len(result.exceptions), inputs=inputs, outputs=audit.hashes([Path(out)]))


def _exception_rows(result) -> list[dict]:
    """Exceptions as JSON rows (amounts as decimal strings, missing values as null), by priority."""
    import pandas as pd

    from xl_ar.money import format_cents

    def plain(value, money: bool = False):
        if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
            return None
        return format_cents(int(value)) if money else value

    ordered = result.exceptions.sort_values(["priority", "kind"], ascending=[False, True], kind="stable")
    extra = [c for c in ("assigned_to", "assignment_version") if c in ordered.columns]  # who works it, if known
    return [{"kind": r["kind"], "claim_id": plain(r["claim_id"]), "payment_id": plain(r["payment_id"]),
             "trace_number": plain(r["trace_number"]), "expected": plain(r["expected"], True),
             "actual": plain(r["actual"], True), "variance": plain(r["variance"], True),
             "category": plain(r["category"]), "next_action": plain(r["next_action"]),
             "priority": plain(float(r["priority"])), **{c: plain(r[c]) for c in extra}}
            for r in ordered.to_dict("records")]


def cmd_report(args: argparse.Namespace) -> int:
    from xl_ar import report
    from xl_ar.practice import load_practice
    from xl_ar.store import Store

    settings = _settings(args)
    practice = load_practice(_practice_folder(settings))
    practice.as_of(settings.as_of)  # a missing as-of date is said before anything is read
    # read (and refused when an ERA is unreadable) before the store is opened: an error writes nothing
    with step("Reading remittances", not args.quiet) as tick:
        remitted, _ = practice.remittances(tick)
    with Store.open(settings.store) as store:
        built = report.build_report(practice, store, Path(args.out), as_of=settings.as_of, phi=args.phi,
                                    password=args.password, months=args.months, show_progress=not args.quiet,
                                    targets=settings.targets(), rules=settings.rules(), remittances=remitted,
                                    policy=settings.policy())
    print(built.summary())
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from xl_ar.reports import libreoffice

    try:
        pages = libreoffice.render(Path(args.workbook), Path(args.out), dpi=args.dpi)
    except ToolError as e:
        raise InputError(str(e)) from None
    print(f"Wrote {len(pages)} page pictures to {args.out}")
    return 0


def cmd_codes_load(args: argparse.Namespace) -> int:
    from xl_ar import audit, codes

    n = codes.load_official(Path(args.file))
    audit.record("codes-load", _settings(args).store, list="CARC", codes=n, inputs=audit.hashes([Path(args.file)]))
    print(f"Loaded {n:,} official CARC descriptions; they are shown next to xl-ar's labels.")
    return 0


def cmd_settings(args: argparse.Namespace) -> int:
    from xl_ar import settings as config

    if args.action in ("set", "unset"):
        return _change_setting(args)
    if args.action == "confirm":
        return _confirm_setting(args)
    resolved = _resolved(args)  # only shown: a value waiting for confirmation is listed, not refused
    rows = resolved.describe()
    width = max(len(k) for k, _, _ in rows)
    print(f"xl-ar folder: {resolved.home} (XL_AR_HOME moves it); user file: {config.user_file()}")
    for key, value, origin in rows:
        print(f"  {key:<{width}}  {value or '-'}  ({origin})")
        if args.explain:
            print(f"  {'':<{width}}  {config.SETTINGS[key].doc}; environment {config.SETTINGS[key].env}")
    return 0


def _change_setting(args: argparse.Namespace) -> int:
    """`xl-ar settings set KEY VALUE` / `unset KEY`: change the user file, after checking the value."""
    from xl_ar import settings as config

    if args.key is None or (args.action == "set" and args.value is None):
        raise InputError(f"give the setting{' and its value' if args.action == 'set' else ''}: "
                         f"xl-ar settings {args.action} KEY{' VALUE' if args.action == 'set' else ''}")
    key = config.normal_key(args.key)
    try:
        if args.action == "set":
            config.check(key, args.value)
        elif key not in config.SETTINGS:
            config.check(key, "")
    except ValueError as e:
        raise SettingsError(f"{key}: {e}" if key in config.SETTINGS else str(e), source="xl-ar settings") from None
    from xl_ar import audit

    store = _resolved(args).usable_store  # the trail of the store in use before the change (also when it moves)
    path = config.user_file()
    newline = "\r\n" if sys.platform == "win32" else "\n"
    config.update_conf(path, {key: args.value.strip() if args.action == "set" else None}, newline)
    audit.record("setting", store, **_setting_detail(args))
    said = f"{key} = {args.value.strip()}" if args.action == "set" else f"{key} removed"
    print(f"{said} in {path}")
    return 0


def _confirm_setting(args: argparse.Namespace) -> int:
    """`xl-ar settings confirm ADDRESS`: allow a workbook's settings to use a store or mailbox (user file)."""
    from xl_ar import audit
    from xl_ar import settings as config

    if args.key is None or args.value is not None:
        raise InputError("give the one store or mailbox address to allow: xl-ar settings confirm ADDRESS")
    try:
        config.check(config.CONFIRM_KEY, args.key)
    except ValueError as e:
        raise SettingsError(f"{config.CONFIRM_KEY}: {e}", source="xl-ar settings") from None
    store = _resolved(args).usable_store
    path = config.confirm([args.key])
    audit.record("setting", store, **_setting_detail(args))
    print(f"{args.key.strip()} added to {config.CONFIRM_KEY} in {path}")
    return 0


def _setting_detail(args: argparse.Namespace) -> dict[str, object]:
    """What a setting event says: the key, set or unset, and the new value's SHA-256 (not the value)."""
    import hashlib

    from xl_ar import settings as config

    detail: dict[str, object] = {"change": args.action}
    if args.action == "confirm":  # the address is the value: its hash only
        detail["key"] = config.CONFIRM_KEY
        if args.key:
            detail["value_sha256"] = hashlib.sha256(args.key.strip().encode("utf-8")).hexdigest()
        return detail
    if args.key:
        detail["key"] = config.normal_key(args.key)
    if args.action == "set" and args.value is not None:
        detail["value_sha256"] = hashlib.sha256(args.value.strip().encode("utf-8")).hexdigest()
    return detail


def cmd_demo(args: argparse.Namespace) -> int:
    from xl_ar import demo

    summary = demo.run(Path(args.out), claims=args.claims, seed=args.seed, show_progress=not args.quiet)
    print(summary.text())
    return 0


def cmd_addin_build(args: argparse.Namespace) -> int:
    from xl_ar.addin import package

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out.name} is a file: give the folder to write {package.ADDIN_FILE} into "
                         "(e.g. --out dist)")
    path = package.build(out)
    print(f"Built {path} ({path.stat().st_size:,} bytes)")
    return 0


def cmd_addin_install(args: argparse.Namespace) -> int:
    from xl_ar import audit
    from xl_ar.addin import install

    said = install.install(Path(args.addin) if args.addin else None)
    audit.record("addin", _settings(args).store, command="install", done=said.startswith("Installed"),
                 inputs=audit.hashes([Path(args.addin)]) if args.addin else {})
    print(said)
    return 0


def cmd_addin_remove(args: argparse.Namespace) -> int:
    from xl_ar import audit
    from xl_ar.addin import install

    said = install.remove()
    audit.record("addin", _settings(args).store, command="remove", done=said.startswith("Removed"))
    print(said)
    return 0


def cmd_credentials(args: argparse.Namespace) -> int:
    """Keep, check or forget the password of a mailbox or database in the OS keyring (never shown)."""
    import getpass

    from xl_ar import credentials

    if args.action == "set":
        asked = f"Password for {args.address}: "
        secret = sys.stdin.readline().rstrip("\r\n") if args.stdin else getpass.getpass(asked)
        where = credentials.save(args.address, secret)
        print(f"Kept the password of {where} in the OS keyring.")
    elif args.action == "check":
        where = credentials.account(args.address)
        kept = credentials.password(args.address) is not None
        print(f"The OS keyring {'keeps a' if kept else 'keeps no'} password for {where}.")
        return 0 if kept else 1
    else:
        where = credentials.account(args.address)
        print(f"Removed the password of {where} from the OS keyring." if credentials.forget(args.address) else
              f"The OS keyring kept no password for {where}; nothing to remove.")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    """`xl-ar audit verify`: recompute the audit trail's hash chain (exit 1 naming the first bad event);
    `xl-ar audit show`: list the events."""
    from xl_ar import audit
    from xl_ar.store import Store

    with Store.open(_settings(args).store) as store:
        if args.audit_command == "show":
            lines = audit.show_lines(store, args.since)
            for line in lines:
                print(line)
            print(f"{len(lines)} events" + (f" since {args.since}" if args.since else ""))
            return 0
        found = audit.verify(store, head=args.head)
    print(found.text(), file=sys.stdout if found.ok else sys.stderr)
    return 0 if found.ok else 1


def cmd_store(args: argparse.Namespace) -> int:
    """`xl-ar store setup`: make the team store's roles and grants (a superuser, once); `migrate`: bring the store
    to this xl-ar's schema (the admin role); `grants`: print the SQL of the grants (to review or run by hand)."""
    from xl_ar import roles
    from xl_ar.store import SCHEMA_VERSION, Store

    if args.store_command == "grants":
        for sql in [*roles.setup_sql(), *roles.grants_sql(args.schema)]:
            print(sql + ";")
        return 0
    if args.store_command == "copy":
        return _copy_store(args)
    settings = _settings(args)
    setup = args.store_command == "setup"
    if setup and "://" not in str(settings.store):
        raise InputError("roles are a team store's: give --store postgresql://user@host/db (a superuser, or the "
                         "database's owner with CREATEROLE)")
    with Store.open(settings.store, setup_roles=setup) as store:
        store.audit("store", command=args.store_command, schema=SCHEMA_VERSION)
        location = store.location
    if setup:
        print(f"{location}: schema {SCHEMA_VERSION}; roles {', '.join(roles.ROLES.values())} granted "
              "(docs/team-store.md). Give each person a login in one role, e.g. in psql:\n"
              f"  CREATE ROLE ana LOGIN PASSWORD '...' IN ROLE {roles.SPECIALIST};")
    else:
        print(f"{location}: schema {SCHEMA_VERSION}")
    return 0


def _copy_store(args: argparse.Namespace) -> int:
    """`xl-ar store copy SOURCE TARGET`: every row of a store into a new, empty one; the copy audited in the target."""
    from xl_ar.errors import StoreError
    from xl_ar.store import Store

    source, target = (resolve(flags={"store": where}).store for where in (args.source, args.target))
    same = source == target or ("://" not in source and "://" not in target
                                and Path(source).expanduser().resolve() == Path(target).expanduser().resolve())
    if same:
        raise InputError("the source and the target are the same store; nothing was copied")
    if "://" not in source and not Path(source).expanduser().is_file():
        raise InputError(f"{Path(source).name}: no such store file; nothing was copied")
    with Store.open(source) as old, Store.open(target) as new:
        try:
            copied = old.copy_into(new)
        except StoreError as e:
            raise InputError(str(e)) from None
        new.audit("store", command="copy", source=old.location, **{f"rows_{t}": n for t, n in copied.items()})
        where = new.location
    rows = sum(copied.values())
    print(f"{where}: copied {rows:,} rows from {Path(source).name if '://' not in source else source.split('@')[-1]} "
          f"({copied['payments']:,} payments, {copied['notes']:,} notes, {copied['appeals']:,} appeals, "
          f"{copied['audit_events']:,} audit events)")
    return 0


def cmd_map_suggest(args: argparse.Namespace) -> int:
    """Propose a column map for an export (and, with --write, keep it in practice.json beside the file)."""
    import json

    from xl_ar import ledger, mapping, outputs, profiles

    path = Path(args.file)
    frame = ledger.read_sheet(path).frame
    known = profiles.recognize(list(frame.columns))
    if known is not None and not args.table:
        print(f"{path.name}: this is {known.name}, a layout xl-ar knows: nothing to map"
              + (f" (but xl-ar cannot use it: it lacks {known.lacks})" if known.table is None else "."))
        return 0 if known.table else EXIT_INPUT
    found = mapping.suggest(path.name, frame, args.table)
    entry = found.entry()
    print(f"{path.name}: read as {found.table}")
    for header, column in found.known.items():
        print(f"  {header} -> {column} (known)")
    for header, column in found.proposed.items():
        print(f"  {header} -> {column} (proposed: {found.why[header]})")
    if found.unused:
        print(f"  not used: {', '.join(found.unused)}")
    if found.missing:
        print(f"  still missing: {', '.join(found.missing)}: name them in the columns below by hand")
    fragment = {"files": {path.name: entry}}
    if args.write:
        target = path.parent / "practice.json"
        data = json.loads(target.read_text(encoding="utf-8")) if target.exists() else {}
        if not isinstance(data, dict):
            raise InputError("practice.json is not a JSON object; nothing was written", source=target.name)
        data.setdefault("files", {})[path.name] = entry
        outputs.write_text(target, json.dumps(data, indent=2) + "\n")  # whole or not at all
        print(f"Wrote the map for {path.name} into {target}.")
    else:
        print("Put this in practice.json (or run again with --write):")
        print(json.dumps(fragment, indent=2))
    return EXIT_INPUT if found.missing else 0


# -- issue 14: claims out, eligibility, claim status (core in xl_ar.claims; docs/claims-commands.md) -------------

def _practice_and_date(args: argparse.Namespace):
    """The practice folder (read, refused on errors), its settings and as-of date."""
    from xl_ar.practice import load_practice

    settings = _settings(args)
    practice = load_practice(_practice_folder(settings))
    return practice, settings, practice.as_of(settings.as_of)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _refuse_errors(findings: Sequence[Finding], what: str) -> None:
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        raise InputError(f"{what}; nothing was written", errors)


def cmd_claims_scrub(args: argparse.Namespace) -> int:
    """Scrub the claims to send; counts by rule (no identifiers) and, with --out, the findings table."""
    import json

    from xl_ar import audit
    from xl_ar import claims as out

    practice, settings, as_of = _practice_and_date(args)
    rules, rule_findings = out.payer_rules(practice.folder, Path(args.rules) if args.rules else None)
    _refuse_errors(rule_findings, "the payer rules file has problems")
    result = out.scrub_practice(practice, as_of, rules, every=args.all)
    counts = result.counts_by_rule()
    rate = result.clean_claim_rate(practice.claim_status()[0])
    if args.out:
        target = Path(args.out)
        if target.suffix.lower() not in (".xlsx", ".csv"):
            raise InputError("write the findings to a .xlsx or .csv file; nothing was written", source=target.name)
        out.write_findings(target, result.findings)
        audit.record("export", settings.store, what="scrub findings", as_of=as_of.isoformat(),
                     claims=len(result.claims), findings=len(result.findings), outputs=audit.hashes([target]))
    if args.json:
        print(json.dumps({"as_of": as_of.isoformat(), "claims": len(result.claims), "clean": len(result.clean),
                          "held": result.held, "self_pay": result.self_pay, "findings": len(result.findings),
                          "clean_claim_rate": None if rate.claims == 0 else round(rate.rate, 4),
                          "rejected_on_first_acknowledgement": rate.rejected,
                          "rules": [{"rule_id": r.rule_id, "severity": r.severity, "findings": int(r.findings),
                                     "claims": int(r.claims)} for r in counts.itertuples()]}, indent=1))
        return 0
    which = "every claim" if args.all else "claims not yet billed, corrections and voids"
    print(f"Scrubbed {len(result.claims):,} claims ({which}) as of {as_of}: {len(result.clean):,} clean, "
          f"{result.held:,} held back by errors, {result.self_pay:,} self-pay (not sent); "
          f"{len(result.findings):,} findings")
    if rate.claims:
        print(f"Clean claim rate (HFMA): {100 * rate.rate:.1f}% ({rate.clean:,} of {rate.claims:,}: {rate.held:,} held "
              f"by the scrubber, {rate.rejected:,} rejected on their first acknowledgement)")
    for r in counts.itertuples():
        print(f"  {r.rule_id:<28} {r.severity:<8} {int(r.findings):>7,} findings on {int(r.claims):>6,} claims")
    if args.out:
        print(f"Wrote {args.out}")
    return 0


def cmd_claims_export(args: argparse.Namespace) -> int:
    """The 837P of the clean claims (and, with --secondary, the secondary claims with COB in a second file)."""
    from xl_ar import claims as out
    from xl_ar import outputs
    from xl_ar.store import Store
    from xl_ar.x12.claims_out import check_practice, secondary_claims, write_837p
    from xl_ar.x12.writer import ControlNumbers

    practice, settings, as_of = _practice_and_date(args)
    target = Path(args.out)
    _refuse_errors(check_practice(practice.info), "practice.json lacks what an 837P needs (see docs/claims-out.md)")
    rules, rule_findings = out.payer_rules(practice.folder, Path(args.rules) if args.rules else None)
    _refuse_errors(rule_findings, "the payer rules file has problems")
    result = out.scrub_practice(practice, as_of, rules, every=args.all)
    payers = practice.table("payers")
    second = None
    if args.secondary:
        with step("Reading remittances", not args.quiet) as tick:
            remitted, _ = practice.remittances(tick)
        sec, sec_lines, cob, sec_findings = secondary_claims(practice.table("claims"), practice.table("claim_lines"),
                                                             remitted)
        second = (sec, sec_lines, cob, out.at_file_rows(sec_findings, {}, practice.files))
    now = _now()
    with Store.open(settings.store) as store:
        number = out.next_control_number(store)
        clean_lines = result.claim_lines[result.claim_lines["claim_id"].isin(set(result.clean["claim_id"]))]
        text, findings = write_837p(result.clean, clean_lines, payers, practice.info, ControlNumbers(number, number),
                                    now)
        findings = out.at_file_rows(findings, {"claims": result.clean, "claim_lines": clean_lines}, practice.files)
        sec_text, sec_written = "", 0
        if second is not None and len(second[0]):
            sec_text, more = write_837p(second[0], second[1], payers, practice.info,
                                        ControlNumbers(number + 1, number + 1), now, cob=second[2])
            findings = findings + out.at_file_rows(more, {}, practice.files)
        written = _claims_in(text)
        sec_written = _claims_in(sec_text)
        if not text and not sec_text:
            _print_findings(findings)
            raise InputError("no claim could be written; nothing was written", source=target.name)
        sec_target = target.with_name(f"{target.stem}.secondary{target.suffix or '.837'}")
        if text:
            outputs.write_text(target, text, private=True)
            out.record_x12(store, "837P", target, number, claims=written, as_of=as_of.isoformat())
        if sec_text:
            outputs.write_text(sec_target, sec_text, private=True)
            out.record_x12(store, "837P secondary", sec_target, number + 1, claims=sec_written,
                           as_of=as_of.isoformat())
    left_out = len(result.clean) - written
    print(f"Scrubbed {len(result.claims):,} claims as of {as_of}: {len(result.clean):,} clean, "
          f"{result.held:,} held back by the scrubber (`xl-ar claims scrub` lists why), {result.self_pay:,} self-pay")
    if text:
        print(f"Wrote {target}: {written:,} claims (interchange {number})"
              + (f"; {left_out:,} clean claims the 837P format refused" if left_out else ""))
    if args.secondary:
        refused = len(second[3]) if second else 0
        print(f"Secondary claims ready: {len(second[0]) if second else 0:,}"
              + (f", {refused:,} not built (see the warnings)" if refused else "")
              + (f"; wrote {sec_target}: {sec_written:,} claims (interchange {number + 1})" if sec_text else ""))
        findings = findings + (second[3] if second else [])
    _print_findings(findings, limit=20)
    return 0


def _claims_in(text: str) -> int:
    """How many claims (CLM segments) an 837P text holds."""
    import re

    return len(re.findall(r"(?:^|~)\s*CLM\*", text)) if text else 0


def _appointments(path: Path):
    """An appointments file (csv/xlsx) as 270 request rows: appointment id, member id, patient name, date of
    birth, payer, service date (headers in any case and spacing)."""
    import re

    import pandas as pd

    from xl_ar import ledger

    frame = ledger.read_sheet(path).frame
    frame.columns = [re.sub(r"[^a-z0-9]+", "_", str(c).strip().lower()).strip("_") for c in frame.columns]
    aliases = {"appointment_id": "request_id", "appointment": "request_id", "id": "request_id",
               "payer": "payer_id", "dob": "date_of_birth", "date_of_service": "service_date",
               "dos": "service_date", "appointment_date": "service_date", "patient": "patient_name"}
    frame = frame.rename(columns={k: v for k, v in aliases.items() if k in frame.columns and v not in frame.columns})
    missing = [c for c in ("request_id", "member_id", "patient_name", "payer_id", "service_date")
               if c not in frame.columns]
    if missing:
        raise InputError(f"the appointments file lacks {', '.join(missing)}; nothing was written", source=path.name)
    for c in ("date_of_birth", "service_date"):
        if c in frame.columns:
            frame[c] = pd.to_datetime(frame[c], errors="coerce")
    return frame


def cmd_eligibility_request(args: argparse.Namespace) -> int:
    """270 requests for an appointments file, or for the claims not yet billed and those of the next N days."""
    from dataclasses import replace

    import pandas as pd

    from xl_ar import claims as out
    from xl_ar import outputs
    from xl_ar.store import Store
    from xl_ar.x12.eligibility import write_270
    from xl_ar.x12.writer import ControlNumbers

    practice, settings, as_of = _practice_and_date(args)
    target = Path(args.out)
    if args.appointments:
        requests = _appointments(Path(args.appointments))
        source = Path(args.appointments).name
    else:
        claims = practice.table("claims")
        dos = pd.to_datetime(claims["service_date"])
        upcoming = (dos > pd.Timestamp(as_of)) & (dos <= pd.Timestamp(as_of) + pd.Timedelta(days=args.days))
        pick = claims[(claims["billed_date"].isna() | upcoming).to_numpy(dtype=bool)]
        requests = pick.rename(columns={"claim_id": "request_id"})
        source = "claims"
    with Store.open(settings.store) as store:
        number = out.next_control_number(store)
        made = write_270(requests, practice.table("payers"), practice.info, when=_now(),
                         numbers=ControlNumbers(number, number), source=source)
        if not args.appointments:  # rows of the claims file, not of the claims picked
            made = replace(made, findings=out.at_file_rows(made.findings, {"claims": requests}, practice.files))
        if not made.text:
            raise InputError("no eligibility request could be written; nothing was written",
                             [f for f in made.findings if f.severity == "error"], source=target.name)
        outputs.write_text(target, made.text, private=True)
        out.record_x12(store, "270", target, number, requests=len(made.requests), as_of=as_of.isoformat())
    skipped = len(requests) - len(made.requests)
    print(f"Wrote {target}: {len(made.requests):,} eligibility requests (interchange {number})"
          + (f"; {skipped:,} rows could not be asked for" if skipped else ""))
    _print_findings(made.findings, limit=20)
    return 0


def cmd_eligibility_check(args: argparse.Namespace) -> int:
    """The coverage problems of the claims to send (or every claim) against the 271s of eligibility/."""
    import json

    from xl_ar import claims as out
    from xl_ar.eligibility import coverage_problems

    practice, _, _ = _practice_and_date(args)
    eligibility, findings = practice.eligibility()
    claims = practice.table("claims")
    claims = claims[out.to_send(claims, args.all).to_numpy(dtype=bool)]
    lines = practice.table("claim_lines")
    problems = coverage_problems(claims, lines[lines["claim_id"].isin(set(claims["claim_id"]))], eligibility,
                                 practice.table("payers"))
    counts = {kind: int(n) for kind, n in problems["problem"].value_counts().sort_index().items()}
    affected = int(problems["claim_id"].nunique())
    if args.json:
        print(json.dumps({"claims": len(claims), "responses": len(eligibility), "claims_with_problems": affected,
                          "problems": counts}, indent=1))
        return 0
    print(f"Checked {len(claims):,} claims against {len(eligibility):,} eligibility benefit rows: "
          f"{affected:,} claims with coverage problems")
    if eligibility.empty:
        print("  (no 271 response in eligibility/: every claim is unverified; `xl-ar eligibility request` "
              "writes the 270 to send)")
    for kind, n in counts.items():
        print(f"  {kind:<24} {n:>7,}")
    _print_findings([f for f in findings if f.severity == "error"], limit=20)
    return 0


def cmd_claim_status_request(args: argparse.Namespace) -> int:
    """276 status requests for the claims past follow-up (`status_requests_due`)."""
    import pandas as pd

    from xl_ar import claims as out
    from xl_ar import outputs
    from xl_ar.claim_status import status_requests_due
    from xl_ar.store import Store
    from xl_ar.x12.status import write_276
    from xl_ar.x12.writer import ControlNumbers

    practice, settings, as_of = _practice_and_date(args)
    target = Path(args.out)
    status, _ = practice.claim_status()
    claims = practice.table("claims")
    due = status_requests_due(claims, status, as_of, args.days)
    at = pd.Series(claims.index, index=claims["claim_id"].to_numpy()).groupby(level=0).first()
    due.index = at.reindex(due["claim_id"].to_numpy()).to_numpy()  # each claim's row of the claims file
    if due.empty:
        print(f"No claim is past follow-up ({args.days} days) as of {as_of}; nothing was written.")
        return 0
    info = practice.info
    with Store.open(settings.store) as store:
        number = out.next_control_number(store)
        text, findings = write_276(due, practice.table("payers"), info.name, info.npi, info.submitter_id or info.npi,
                                   _now(), numbers=ControlNumbers(number, number),
                                   usage="T" if info.test_files else "P")
        findings = out.at_file_rows(findings, {"claims": due}, practice.files)
        if not text:
            raise InputError("no claim could be put in a 276; nothing was written", findings, source=target.name)
        outputs.write_text(target, text, private=True)
        asked = len(due) - len([f for f in findings if f.severity == "error"])
        out.record_x12(store, "276", target, number, claims=asked, as_of=as_of.isoformat())
    print(f"Wrote {target}: status requests for {asked:,} claims past follow-up ({args.days} days; interchange "
          f"{number})")
    _print_findings(findings, limit=20)
    return 0


def cmd_claim_status_show(args: argparse.Namespace) -> int:
    """Counts of the claims' latest statuses by category, and the rejections."""
    import json

    from xl_ar.claim_status import latest_status, rejections, unacknowledged

    practice, _, as_of = _practice_and_date(args)
    status, _ = practice.claim_status()
    claims = practice.table("claims")
    latest = latest_status(status)
    by_category = {str(k): int(n) for k, n in latest["category_code"].value_counts().sort_index().items()}
    rejected = rejections(claims, status)
    waiting = unacknowledged(claims, status, as_of, args.days)
    figures = {"as_of": as_of.isoformat(), "claims_with_status": len(latest), "by_category": by_category,
               "rejected_claims": int(rejected["claim_id"].notna().sum()),
               "rejected_transactions": int(rejected["claim_id"].isna().sum()), "unacknowledged": len(waiting)}
    if args.json:
        print(json.dumps(figures, indent=1))
        return 0
    print(f"Claim status as of {as_of}: {len(latest):,} claims with a 277CA or 277")
    for code, n in by_category.items():
        print(f"  {code:<4} {n:>7,}")
    print(f"Rejected: {figures['rejected_claims']:,} claims, {figures['rejected_transactions']:,} 837 "
          f"transactions (999); not acknowledged after {args.days} days: {len(waiting):,} claims")
    return 0


# -- issue 15: follow-up notes and ticklers (core in xl_ar.notes; docs/notes.md) -----------------------------------

def cmd_notes_add(args: argparse.Namespace) -> int:
    """Store one note on a claim (the author is the OS user); the audit trail records counts only."""
    from xl_ar import audit, notes
    from xl_ar.store import Store

    settings = _settings(args)
    note, findings = notes.new_note(args.claim_id, args.channel, args.date or dt.date.today(), audit.os_user(),
                                    outcome=args.outcome, reference=args.reference, next_followup=args.next)
    _refuse_errors(findings, "the note has errors")
    with Store.open(settings.store) as store:
        added, already = store.add_notes(note)
        store.audit("notes", command="add", **notes.audit_counts(1, added, already))
    print("Note stored" if added else "The same note is stored already; nothing added")
    if args.next:
        print(f"Next follow-up: {args.next:%Y-%m-%d} (the worklist hides the claim until then)")
    return 0


def cmd_notes_import(args: argparse.Namespace) -> int:
    """Store the notes of a Notes sheet or CSV: all or none (every bad row listed, exit 2); duplicates once."""
    from xl_ar import audit, notes
    from xl_ar.store import Store

    settings = _settings(args)
    frame, findings = notes.read_notes_file(Path(args.file), audit.os_user())
    _refuse_errors(findings, f"{Path(args.file).name}: {len(notes.bad_rows(findings)):,} problems in the notes")
    with Store.open(settings.store) as store:
        added, already = store.add_notes(frame)
        store.audit("notes", command="import", file=Path(args.file).name,
                    **notes.audit_counts(len(frame), added, already))
    _print_findings(findings, limit=20)
    print(f"{Path(args.file).name}: {len(frame):,} notes read, {added:,} stored, {already:,} already stored")
    return 0


def cmd_notes_show(args: argparse.Namespace) -> int:
    """A specialist's view of the notes (all, or one claim's), oldest first, with each claim's tickler."""
    import pandas as pd

    from xl_ar import notes
    from xl_ar.store import Store

    settings = _settings(args)
    with Store.open(settings.store) as store:
        frame = store.notes([args.claim_id] if args.claim_id else None)
    if frame.empty:
        print("No notes" + (" on this claim" if args.claim_id else ""))
        return 0
    ticklers = notes.next_followups(frame)

    def cell(value) -> str:
        if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
            return ""
        return f"{value:%Y-%m-%d}" if hasattr(value, "strftime") else str(value)

    for r in frame.itertuples(index=False):
        print(f"{cell(r.claim_id):<14} {cell(r.note_date)} {cell(r.author):<12} {cell(r.channel):<7} "
              f"ref {cell(r.payer_reference) or '-':<12} next {cell(r.next_followup) or '-':<10} {cell(r.outcome)}")
    waiting = ticklers.dropna()
    print(f"{len(frame):,} notes on {frame['claim_id'].nunique():,} claims; {len(waiting):,} with a next "
          "follow-up date")
    return 0


# -- issue 15: appeals (core in xl_ar.appeals; docs/appeals.md) ------------------------------------------------

def _dollars(cents) -> str:
    import pandas as pd

    from xl_ar.money import format_cents

    return "-" if cents is None or cents is pd.NA else f"${format_cents(int(cents))}"


def _day_text(value) -> str:
    import pandas as pd

    return "-" if value is None or pd.isna(value) else pd.Timestamp(value).date().isoformat()


def _stored_appeal(store, appeal_id: str):
    """The stored appeal with this number (a row of `Store.appeals`), else an input error."""
    found = store.appeals()
    rows = found[found.appeal_id == str(appeal_id)]
    if rows.empty:
        raise InputError(f"no appeal numbered {appeal_id} in the store (see `xl-ar appeals show`)")
    return rows.iloc[0]


def cmd_appeals_open(args: argparse.Namespace) -> int:
    """Open an appeal of a claim from its current worklist row (reconciling the practice to find it)."""
    from xl_ar import appeals
    from xl_ar.reconcile import reconcile_tables
    from xl_ar.store import Store

    if (args.filed is None) != (args.method is None):
        raise InputError("give --filed DATE and --method together (or neither, for a draft)")
    practice, settings, as_of = _practice_and_date(args)
    remitted, _ = practice.remittances()
    result = reconcile_tables(practice.all_tables(), remitted, as_of, settings.rules())
    with Store.open(settings.store) as store:
        row = appeals.open_one(store, result.worklist(), args.claim_id, remitted["payments"], as_of,
                               level=args.level, filed_date=args.filed, method=args.method)
    filed = f", filed {args.filed} by {args.method}" if args.filed else " (drafted)"
    print(f"Opened appeal {row['appeal_id']}: level {row['level']}{filed}; {_dollars(row['amount_appealed'])} "
          f"appealed ({str(row['category']).replace('_', ' ')}); deadline {_day_text(row['deadline'])}")
    return 0


def _change_appeal(args: argparse.Namespace, status: str, day: dt.date, method: str | None = None) -> int:
    """Change a stored appeal's status at the version the user saw (`--seen-version`, else the one read now):
    refused, nothing changed, when someone changed the appeal since (optimistic locking)."""
    from xl_ar import appeals
    from xl_ar.errors import ArgumentError, StoreError
    from xl_ar.store import Store

    settings = _settings(args)
    with Store.open(settings.store) as store:
        current = _stored_appeal(store, args.appeal_id)
        seen = int(current["version"]) if args.seen_version is None else args.seen_version
        try:
            changes = appeals.transition(current, status, day, method)
            version = store.change_appeal(current["appeal_id"], seen, **changes)
        except (ArgumentError, StoreError) as e:
            raise InputError(f"{e}; nothing was changed") from None
        store.audit("appeals", command=status, changed=1, level=str(current["level"]), status=status,
                    previous=str(current["status"]))
    print(f"Appeal {current['appeal_id']} is {status} ({day}); version {version}")
    return 0


def cmd_appeals_file(args: argparse.Namespace) -> int:
    """Mark a drafted appeal as filed on a date, by a method."""
    return _change_appeal(args, "filed", args.date, args.method)


def cmd_appeals_withdraw(args: argparse.Namespace) -> int:
    """Withdraw a drafted or filed appeal."""
    return _change_appeal(args, "withdrawn", args.date or dt.date.today())


def cmd_appeals_show(args: argparse.Namespace) -> int:
    """The stored appeals (only the open ones with --open): one line each, or JSON."""
    import json

    from xl_ar.money import format_cents
    from xl_ar.store import Store

    settings = _settings(args)
    with Store.open(settings.store) as store:
        found = store.appeals(open_only=args.open)
    if args.json:
        def day(value):  # JSON: an ISO date, null when none
            return None if value is None else _day_text(value)

        def amount(cents):  # JSON: a decimal string, null when none
            return None if cents is None else format_cents(int(cents))

        rows = [{"appeal_id": r["appeal_id"], "claim_id": r["claim_id"], "payer_id": r["payer_id"],
                 "level": r["level"], "status": r["status"], "category": r["category"],
                 "denial_date": day(r["denial_date"]), "filed_date": day(r["filed_date"]),
                 "deadline": day(r["deadline"]), "method": r["method"],
                 "amount_appealed": amount(r["amount_appealed"]), "recovered": amount(r["recovered"]),
                 "resolved_date": day(r["resolved_date"]),
                 "version": int(r["version"])} for r in found.astype(object).where(found.notna(), None).to_dict(
                     "records")]
        print(json.dumps(rows, indent=1))
        return 0
    print(f"{len(found):,} {'open ' if args.open else ''}appeals")
    for r in found.itertuples():
        print(f"  {r.appeal_id:>5} {r.claim_id:<14} {r.payer_id:<10} level {r.level:<8} {r.status:<13} "
              f"filed {_day_text(r.filed_date):<10} deadline {_day_text(r.deadline):<10} "
              f"appealed {_dollars(r.amount_appealed):>11} recovered {_dollars(r.recovered):>11}")
    return 0


def cmd_appeals_close(args: argparse.Namespace) -> int:
    """Close every filed appeal the stored remittances decide."""
    from xl_ar import appeals
    from xl_ar.store import Store

    settings = _settings(args)
    with Store.open(settings.store) as store:
        closed = appeals.close_stored(store)
        store.audit("appeals", command="close", closed=len(closed.closed), outcomes=closed.counts(),
                    conflicts=closed.conflicts)
    print(closed.summary() + ".")
    return 0


# -- issue 16: worklist assignment (core in xl_ar.assignments; docs/worklist.md) ---------------------------------

def cmd_assign(args: argparse.Namespace) -> int:
    """Give a worklist claim to a person (default: you, the OS user) at the version the user saw (`--seen-version`,
    else the one read now); a version someone changed since is refused, nothing changed. One audit event per
    change, without the claim id."""
    from xl_ar import assignments, audit
    from xl_ar.errors import StoreError
    from xl_ar.store import Store

    settings = _settings(args)
    me = audit.os_user()
    to = (args.to or me).strip()
    if not assignments.is_name(to):
        raise InputError("--to needs a person's user name (letters, digits, '.', '_', '@' or '-'); nothing was "
                         "changed")
    with Store.open(settings.store) as store:
        if args.seen_version is None:
            current = store.assignments()
            row = current[current["claim_id"] == args.claim_id]
            seen = int(row["version"].iloc[0]) if len(row) else 0
        else:
            seen = args.seen_version
        try:
            version = store.assign(args.claim_id, to, seen, actor=me)
        except StoreError as e:
            raise InputError(f"{e}; nothing was changed") from None
        store.audit("assign", changed=1, handed_over=int(seen > 0), version=version)
    print(f"The claim is now {to}'s (version {version})")
    return 0


# -- parser ----------------------------------------------------------------------------------------

# -- issue 15: follow-up letters (core in xl_ar.letters; docs/letters.md) ---------------------------------------

def cmd_appeals_letters(args: argparse.Namespace) -> int:
    """An appeal letter (.docx) per denied, partly denied or underpaid claim an appeal can still fix, and an index
    CSV, in the folder the user names (letters hold PHI); counts printed, the batch audited without identifiers."""
    from collections import Counter

    from xl_ar import audit, letters
    from xl_ar.appeals import APPEALABLE_KINDS
    from xl_ar.reconcile import reconcile_tables

    practice, settings, as_of = _practice_and_date(args)
    folder = Path(args.out)
    if folder.exists() and not folder.is_dir():
        raise InputError("--out must be a folder for the letters; nothing was written", source=folder.name)
    with step("Reading remittances", not args.quiet) as tick:
        remitted, findings = practice.remittances(tick)
    tables = practice.all_tables()
    rules = settings.rules()
    with step("Reconciling", not args.quiet):
        result = reconcile_tables(tables, remitted, as_of, rules)
    asked = list(dict.fromkeys(args.claim)) if args.claim else None
    batch = letters.appeal_facts(result.exceptions, tables, remitted, practice.info, as_of, rules.mpr, asked)
    written = letters.render_appeals(batch, practice.folder)  # a template error stops here: nothing written yet
    with step("Writing letters", not args.quiet):
        files = letters.write(folder, written, "appeal")
    audit.record("export", settings.store, what="appeal letters", as_of=as_of.isoformat(), letters=len(written),
                 not_eligible={k: v for k, v in batch.not_eligible.items() if v}, folder=folder.name,
                 templates=sorted({x.template for x in written}), outputs=audit.hashes(files, folder))
    _print_findings([f for f in findings if f.severity == "error"], limit=20)
    print(f"Appeal letters as of {as_of}: {len(written):,} written to {folder}")
    for category, n in sorted(Counter(x.category for x in written).items()):
        print(f"  {category:<28} {n:>6,}")
    for reason, n in batch.not_eligible.items():
        if n:
            print(f"Not eligible, {reason}: {n:,}")
    if asked is not None:
        candidates = set(result.exceptions["claim_id"][result.exceptions["kind"].isin(APPEALABLE_KINDS)].dropna())
        unknown = sum(1 for c in asked if c not in candidates)
        if unknown:
            print(f"Not denied or underpaid (no letter): {unknown:,} of the claims asked for")
    return 0


# -- issue 15: refunds and collections (core in xl_ar.refunds, xl_ar.collections; docs/refunds.md, collections.md) ----

def cmd_refunds_list(args: argparse.Namespace) -> int:
    """The credits to refund: counts and dollars by party and payer class with deadlines; the rows (with ids)
    only in --out."""
    from xl_ar import audit, outputs
    from xl_ar import refunds as core

    practice, settings, as_of = _practice_and_date(args)
    if args.out and Path(args.out).suffix.lower() != ".csv":
        raise InputError("write the refunds to a .csv file; nothing was written", source=Path(args.out).name)
    due = core.refunds_for_practice(practice.all_tables(), settings.policy(), as_of)
    table = core.summary(due, as_of)
    print(f"Refunds due as of {as_of}: {len(due):,} totalling {dollars(int(due.amount.sum()))}"
          f" ({dollars(int(due.applied.fillna(0).sum()))} of patient credits applied to other balances first)")
    for r in table.itertuples():
        print(f"  {r.party:<8} {r.payer_class:<11} {int(r.refunds):>6,}  {dollars(int(r.amount)):>14}  "
              f"earliest deadline {r.earliest_deadline.date()}, {int(r.overdue):,} overdue")
    detail = {"as_of": as_of.isoformat(), "refunds": len(due), "cents": int(due.amount.sum()),
              "by_party": {p: int(c) for p, c in due.groupby("party").amount.sum().items()}}
    if args.out:
        frame = due.assign(amount=due.amount / 100, applied=due.applied.astype("float64") / 100,
                           identified_date=due.identified_date.dt.date, deadline=due.deadline.dt.date)
        target = Path(args.out)
        outputs.write_bytes(target, frame.to_csv(index=False).encode("utf-8"), private=True)
        audit.record("export", settings.store, what="refunds", outputs=audit.hashes([target]), **detail)
        print(f"Wrote {target.name}")
    else:
        audit.record("refunds", settings.store, **detail)
    return 0


def cmd_refunds_letters(args: argparse.Namespace) -> int:
    """A refund letter (.docx) per credit to refund (payer or patient, after patient credits are applied), and an
    index CSV, in the folder the user names (letters hold PHI); counts printed, the batch audited without ids."""
    from xl_ar import audit, letters
    from xl_ar import refunds as core

    practice, settings, as_of = _practice_and_date(args)
    folder = Path(args.out)
    if folder.exists() and not folder.is_dir():
        raise InputError("--out must be a folder for the letters; nothing was written", source=folder.name)
    tables = practice.all_tables()
    due = core.refunds_for_practice(tables, settings.policy(), as_of)
    with step("Reading remittances", not args.quiet) as tick:
        remitted, _ = practice.remittances(tick)
    written = letters.refund_letters(due, tables["claims"], tables.get("payers"), practice.info, as_of,
                                     remitted["claim_payments"], args.method, practice.folder)  # errors stop here
    with step("Writing letters", not args.quiet):
        paths = letters.write(folder, written, "refund")
    by_party = {party: sum(1 for x in written if x.category == party) for party in ("payer", "patient")}
    audit.record("export", settings.store, what="refund letters", as_of=as_of.isoformat(), letters=len(written),
                 by_party=by_party, cents=sum(x.amount for x in written), folder=folder.name,
                 templates=sorted({x.template for x in written}), outputs=audit.hashes(paths, folder))
    print(f"Refund letters as of {as_of}: {len(written):,} written to {folder} ({by_party['payer']:,} to payers, "
          f"{by_party['patient']:,} to patients, {dollars(sum(x.amount for x in written))})")
    applied = len(due) - len(written)
    if applied:
        print(f"No letter: {applied:,} credits applied in full to the same patient's other balances")
    return 0


def _collection_inputs(args: argparse.Namespace):
    """The practice, its settings and as-of date, the store's statements and placements, the accounts to place."""
    from xl_ar import collections
    from xl_ar.store import Store

    practice, settings, as_of = _practice_and_date(args)
    with Store.open(settings.store) as store:
        statements, placed = store.read_table("statements"), store.placements()
    accounts = collections.to_place(practice.table("claims"), statements, practice.table("payment_plans"), placed,
                                    practice.table("postings"), practice.table("payers"), settings.policy(), as_of)
    return settings, as_of, accounts


def cmd_collections_list(args: argparse.Namespace) -> int:
    """How many accounts the agency would take and for how much (no identifiers)."""
    _, as_of, accounts = _collection_inputs(args)
    print(f"Accounts to place with the agency as of {as_of}: {len(accounts):,}, "
          f"{dollars(int(accounts.balance.sum()))} (written off as bad debt on placement)")
    return 0


def cmd_collections_place(args: argparse.Namespace) -> int:
    """Place the accounts: record them in the store (each once) and write the agency's file (PHI: owner-only),
    both or neither."""
    from xl_ar import audit, collections, outputs
    from xl_ar.store import Store

    settings, as_of, accounts = _collection_inputs(args)
    target = Path(args.out)
    if target.suffix.lower() != ".csv":
        raise InputError("write the placement file to a .csv file; nothing was written", source=target.name)
    if accounts.empty:
        print(f"No account to place as of {as_of}; nothing was written")
        return 0
    policy = settings.policy()
    batch = f"placement-{_now().strftime('%Y%m%d%H%M%S')}"
    frame = collections.placements_table(accounts, as_of, policy.collection_agency or "agency", batch)
    with Store.open(settings.store) as store, store.transaction():
        ids = store.record_placements(frame, batch)
        new = ids.notna().to_numpy()
        outputs.write_bytes(target, collections.placement_file(accounts[new], ids[new]), private=True)
        store.audit("export", what="collection placements", as_of=as_of.isoformat(), batch=batch,
                    accounts=int(new.sum()), cents=int(accounts.balance[new].sum()),
                    outputs=audit.hashes([target]))
    print(f"Placed {int(new.sum()):,} accounts, {dollars(int(accounts.balance[new].sum()))} written off as bad "
          f"debt; wrote {target.name}")
    return 0


def cmd_collections_post(args: argparse.Namespace) -> int:
    """Read the agency's payment file; nothing is stored if any row is bad; each payment stored once; the new
    ones written as the PM posting batch."""
    from xl_ar import audit, collections, outputs
    from xl_ar.store import Store

    settings = _settings(args)
    source = Path(args.file)
    target = Path(args.out)
    try:
        data = source.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read the agency file ({e.strerror})", source=source.name) from None
    with Store.open(settings.store) as store:
        frame, findings = collections.read_agency_payments(data, source.name, store.placements())
        _refuse_errors(findings, "the agency file has bad rows; nothing was stored")
        keys = collections.payment_keys(frame)
        with store.transaction():
            added = store.add_new("agency_payments", frame, {"payment_key": keys,
                                                              "imported_at": [_now().isoformat()] * len(frame)},
                                  key=["payment_key"])
            new = frame[added]
            outputs.write_bytes(target, collections.posting_batch(new), private=True)
            store.audit("import", what="agency payments", payments=int(added.sum()), already=int((~added).sum()),
                        cents=int(new.amount.sum()), fee_cents=int(new.fee.fillna(0).sum()),
                        inputs=audit.hashes([source]), outputs=audit.hashes([target]))
    print(f"Agency payments: {int(added.sum()):,} new ({dollars(int(new.amount.sum()))}), "
          f"{int((~added).sum()):,} already posted; wrote {target.name}")
    return 0


# -- issue 15: patient statements (core in xl_ar.statements; docs/statements.md) -------------------------

def cmd_statements(args: argparse.Namespace) -> int:
    """Patient statements as of a date: counts by notice, plan statements, small balances and the patient aging;
    with --out the PDFs, their index and the store's record of what was sent (--dry-run: nothing written)."""
    from xl_ar.reports import statements as writer
    from xl_ar.store import Store

    if not args.dry_run and not args.out:
        raise InputError("give --out DIR: statements hold patient data and are written only to a folder you choose "
                         "(or --dry-run to see the counts); nothing was written")
    practice, settings, as_of = _practice_and_date(args)
    with Store.open(settings.store) as store:
        sent = writer.send(store, practice.tables, practice.info, as_of, settings.policy(),
                           None if args.dry_run else Path(args.out), args.combined)
    _print_statements(as_of, sent.counts, sent.aging, sent.batch, args.dry_run)
    return 0


def _print_statements(as_of: dt.date, counts: dict[str, int], aging, batch, dry_run: bool) -> None:
    print(f"Patient statements as of {as_of}{' (dry run: nothing written or recorded)' if dry_run else ''}")
    print(f"  statement 1: {counts['notice_1']:,}  statement 2: {counts['notice_2']:,}  "
          f"final notice: {counts['notice_final']:,}  payment plan: {counts['plan_statements']:,}  "
          f"(amount due {counts['amount_due_cents'] / 100:,.2f})")
    print(f"  small balances not billed (write-off): {counts['small_balances']:,} accounts, "
          f"{counts['small_balance_cents'] / 100:,.2f}")
    print(f"  no statement: {counts['skipped_not_due']:,} not due yet, {counts['skipped_after_final']:,} after the "
          f"final notice, {counts['skipped_placed']:,} placed with collections, {counts['skipped_credit']:,} credits")
    if batch is not None:
        again = f" ({batch.already_sent:,} already sent, not written again)" if batch.already_sent else ""
        print(f"  wrote {batch.statements:,} statements to {batch.folder}{again}")
    print("Patient A/R aged from the first statement:")
    for r in aging.itertuples(index=False):
        print(f"  {r.bucket:<30} {r.accounts:>7,} accounts  {r.amount / 100:>14,.2f}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xl-ar", description="Medical accounts receivable: remittances, aging, "
                                     "reconciliation and reports.")
    parser.add_argument("--version", action="version", version=f"xl-ar {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    parser.add_argument("--log-level", type=_log_level, default=None, metavar="LEVEL",
                        help=f"log to stderr from this level: {', '.join(LOG_LEVELS)} (default: {LOG_LEVEL_ENV}, "
                        "else WARNING); never patient identifiers")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", help="generate a practice and run every step on it (the main job)")
    p.add_argument("--out", default="xl-ar-demo", help="output folder (default: ./xl-ar-demo)")
    p.add_argument("--claims", type=_positive, default=5000, help="claims to generate (default 5000)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("addin", help="the Excel add-in xl_ar.xlam: build it, install it in Excel, remove it")
    addin = p.add_subparsers(dest="addin_command", required=True, metavar="ADDIN_COMMAND")
    q = addin.add_parser("build", help="build xl_ar.xlam from the text sources (same sources, same bytes)")
    q.add_argument("--out", default=".", help="folder to write xl_ar.xlam into (default: the current folder)")
    q.set_defaults(func=cmd_addin_build)
    q = addin.add_parser("install", help="copy the add-in to Excel's start-up folder and write the user config "
                         "(Windows, macOS)")
    q.add_argument("--addin", help="an add-in file to install (default: build one)")
    q.set_defaults(func=cmd_addin_install)
    q = addin.add_parser("remove", help="remove the add-in and its user config from Excel's start-up folder")
    q.set_defaults(func=cmd_addin_remove)

    p = sub.add_parser("settings", help="every setting, its value and where it comes from; `set KEY VALUE` or "
                       "`unset KEY` changes the user file; `confirm ADDRESS` lets workbooks' settings use that store "
                       "or mailbox")
    p.add_argument("action", nargs="?", choices=("show", "set", "unset", "confirm"), default="show")
    p.add_argument("key", nargs="?", help="the setting to set or unset (confirm: the store or mailbox address a "
                   "workbook may use)")
    p.add_argument("value", nargs="?", help="its value (set)")
    p.add_argument("--explain", action="store_true", help="also say what each setting is for")
    p.set_defaults(func=cmd_settings)

    p = sub.add_parser("map", help="column maps for exports xl-ar does not know yet")
    maps = p.add_subparsers(dest="map_command", required=True)
    q = maps.add_parser("suggest", help="propose how to read an export (its table and which header is which column)")
    q.add_argument("file", help="the export (.csv or .xlsx)")
    q.add_argument("--table", choices=("claims", "claim_lines", "postings", "deposits", "payers", "fee_schedule"),
                   help="the table the file holds (default: guessed from its headers)")
    q.add_argument("--write", action="store_true", help="keep the map in practice.json beside the file")
    q.set_defaults(func=cmd_map_suggest)

    p = sub.add_parser("credentials", help="keep a mailbox's or team database's password in the OS keyring "
                       "(the only place xl-ar reads passwords from)")
    p.add_argument("action", choices=("set", "check", "remove"))
    p.add_argument("address", help="sftp://user@host[:port] or postgresql://user@host[:port]/db (no password)")
    p.add_argument("--stdin", action="store_true", help="read the password from standard input (set)")
    p.set_defaults(func=cmd_credentials)

    p = sub.add_parser("store", help="the team store on PostgreSQL: set up its roles, migrate it, print its grants")
    store_sub = p.add_subparsers(dest="store_command", required=True, metavar="STORE_COMMAND")
    q = store_sub.add_parser("setup", help="make the specialist, manager and admin roles and grant them (run once "
                             "by a superuser or the database's owner with CREATEROLE)")
    q.add_argument("--store", help="database URL (default: the store setting)")
    q.set_defaults(func=cmd_store)
    q = store_sub.add_parser("migrate", help="bring the store to this xl-ar's schema (the admin role)")
    q.add_argument("--store", help="store file or database URL (default: the store setting)")
    q.set_defaults(func=cmd_store)
    q = store_sub.add_parser("copy", help="copy every row of a store into a new, empty one (a single PC's file into "
                             "the team's PostgreSQL, or back): ids, keys and the audit trail as they are")
    q.add_argument("source", help="the store to copy: a SQLite file or a database URL")
    q.add_argument("target", help="the new, empty store: a database URL or a SQLite file")
    q.set_defaults(func=cmd_store)
    q = store_sub.add_parser("grants", help="print the SQL that makes the roles and grants them")
    q.add_argument("--schema", default="public", help="the schema the store's tables are in (default: public)")
    q.set_defaults(func=cmd_store)

    p = sub.add_parser("synth", help="write a synthetic practice folder (deterministic for a seed)")
    p.add_argument("--out", required=True, help="folder to write")
    p.add_argument("--claims", type=_positive, default=5000)
    p.add_argument("--months", type=_positive, default=12)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--as-of", type=_date, default=None, help="as-of date (default 2026-09-30)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("check", help="read a practice folder (or one export file) and report every problem in it, "
                       "with the layout it recognised")
    p.add_argument("file", nargs="?", help="one export file to check instead of the practice folder")
    p.add_argument("--practice", help="practice folder (default: the practice setting)")
    p.add_argument("--limit", type=int, default=200, help="findings to print at most")
    p.set_defaults(func=cmd_check)

    def claims_source(p: argparse.ArgumentParser) -> None:
        p.add_argument("--claims", help="claims export (.csv or .xlsx)")
        p.add_argument("--practice", help="practice folder (its claims and practice.json's as-of date)")
        p.add_argument("--as-of", type=_date, default=None, help="as-of date (YYYY-MM-DD)")
        p.add_argument("--json", action="store_true", help="print JSON (amounts as decimal strings)")

    p = sub.add_parser("aging", help="age open balances into day buckets")
    claims_source(p)
    p.add_argument("--by", default="none", choices=["none", "payer", "payer_class", "responsibility"])
    p.add_argument("--basis", default="service_date", choices=["service_date", "billed_date", "last_activity_date"])
    p.add_argument("--buckets", type=lambda t: [int(x) for x in t.split(",")], default=None,
                   help="bucket edges in days, e.g. 0,30,60,90,120")
    p.set_defaults(func=cmd_aging)

    p = sub.add_parser("kpi", help="days in A/R, aged A/R, collection rates, credit balances")
    claims_source(p)
    p.add_argument("--lookback-months", type=_positive, default=3, help="months of charges for days in A/R")
    p.set_defaults(func=cmd_kpi)

    p = sub.add_parser("reconcile", help="three-way match of remittances, postings and deposits; denials, "
                       "underpayments and the worklist")
    p.add_argument("--practice", help="practice folder (default: the practice setting)")
    p.add_argument("--as-of", type=_date, default=None, help="as-of date (default: practice.json's)")
    p.add_argument("--out", help="write the exceptions and the worklist to this .xlsx file")
    p.add_argument("--json", action="store_true", help="print the exceptions as JSON (amounts as decimal strings)")
    p.add_argument("--top", type=int, default=10, help="worklist lines to print")
    p.add_argument("--store", help="store file or database URL whose notes hide claims until their follow-up date "
                   "(default: the store setting)")
    p.add_argument("--specialist", help="only this specialist's rows (settings assign_by and specialists)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_reconcile)

    p = sub.add_parser("report", help="the management report workbook (de-identified unless --phi)")
    p.add_argument("--practice", help="practice folder (default: the practice setting)")
    p.add_argument("--as-of", type=_date, default=None, help="as-of date (default: practice.json's)")
    p.add_argument("--out", required=True, help="the .xlsx file to write")
    p.add_argument("--phi", action="store_true", help="include patient identifiers (internal use; said on every page)")
    p.add_argument("--password", help="encrypt the workbook with this password")
    p.add_argument("--months", type=_positive, default=12, help="months of history (default 12)")
    p.add_argument("--store", help="store file or database URL (snapshots for the trend)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("render", help="PNG pictures of a workbook's printed pages (needs LibreOffice)")
    p.add_argument("workbook")
    p.add_argument("--out", required=True, help="folder for the PDF and PNG pages")
    p.add_argument("--dpi", type=_positive, default=70)
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("codes", help="claim adjustment reason codes")
    codes_sub = p.add_subparsers(dest="codes_command", required=True, metavar="CODES_COMMAND")
    q = codes_sub.add_parser("load", help="keep the official CARC list you downloaded (CSV: code, description)")
    q.add_argument("file")
    q.set_defaults(func=cmd_codes_load)

    p = sub.add_parser("era", help="look at 835 remittance files")
    era = p.add_subparsers(dest="era_command", required=True, metavar="ERA_COMMAND")
    q = era.add_parser("summary", help="counts, totals and balancing of each 835 file")
    q.add_argument("paths", nargs="+", metavar="PATH")
    q.add_argument("--json", action="store_true", help="print the figures as JSON (amounts as decimal strings)")
    q.add_argument("--findings", type=int, default=0, metavar="N", help="also print up to N findings per file")
    q.set_defaults(func=cmd_era_summary)

    p = sub.add_parser("audit", help="the audit trail in the store: verify its hash chain, or list its events")
    audit_sub = p.add_subparsers(dest="audit_command", required=True, metavar="AUDIT_COMMAND")
    q = audit_sub.add_parser("verify", help="recompute the hash chain; exit 1 naming the first edited, deleted or "
                             "moved event")
    q.add_argument("--store", help="store file or database URL (default: the store setting)")
    q.add_argument("--head", help="a head printed by an earlier verify (COUNT:HASH), kept elsewhere: it must still "
                   "be in the chain")
    q.set_defaults(func=cmd_audit)
    q = audit_sub.add_parser("show", help="list the events (who, when, what, result), oldest first")
    q.add_argument("--store", help="store file or database URL (default: the store setting)")
    q.add_argument("--since", type=_date, default=None, help="from this UTC day on (YYYY-MM-DD)")
    q.set_defaults(func=cmd_audit)

    p = sub.add_parser("import", help="import 835 remittances from files, folders, zips or an SFTP mailbox")
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="file, folder, .zip or sftp://user@host[:port]/path")
    p.add_argument("--store", help="store file or database URL (default: the store setting)")
    p.add_argument("--practice", help="practice folder whose payers.csv maps 835 payers to payer ids")
    p.add_argument("--limit", type=int, default=50, help="findings to print at most")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("notes", help="follow-up notes and ticklers: add a note, import a Notes sheet, show notes")
    notes_sub = p.add_subparsers(dest="notes_command", required=True, metavar="ACTION")
    q = notes_sub.add_parser("add", help="store a note on a claim (the author is you, the OS user)")
    q.add_argument("claim_id", metavar="CLAIM_ID")
    q.add_argument("--channel", default="call", help="call, portal, letter, email or fax (default: call)")
    q.add_argument("--outcome", required=True, help="what was learned or agreed")
    q.add_argument("--reference", help="the payer's reference number for the call or inquiry")
    q.add_argument("--next", type=_date, default=None, help="next follow-up date (YYYY-MM-DD): the tickler")
    q.add_argument("--date", type=_date, default=None, help="date of the touch (default: today)")
    q.add_argument("--store", help="store file or database URL (default: the store setting)")
    q.set_defaults(func=cmd_notes_add)
    q = notes_sub.add_parser("import", help="store the notes of a Notes sheet or CSV (nothing if any row is bad)")
    q.add_argument("file", metavar="FILE", help=".csv or .xlsx with Claim #, Date, Channel, Reference #, Outcome, "
                   "Next Follow-up")
    q.add_argument("--store", help="store file or database URL (default: the store setting)")
    q.set_defaults(func=cmd_notes_import)
    q = notes_sub.add_parser("show", help="the stored notes (all, or one claim's), oldest first")
    q.add_argument("claim_id", metavar="CLAIM_ID", nargs="?")
    q.add_argument("--store", help="store file or database URL (default: the store setting)")
    q.set_defaults(func=cmd_notes_show)

    p = sub.add_parser("claims", help="claims out: scrub the claims to send, write their 837P")
    claims_sub = p.add_subparsers(dest="claims_command", required=True, metavar="CLAIMS_COMMAND")
    q = claims_sub.add_parser("scrub", help="check the claims to send (not yet billed, corrections, voids) with every "
                              "scrubber rule; counts by rule, and the findings with --out")
    q.add_argument("--practice", help="practice folder (default: the practice setting)")
    q.add_argument("--as-of", type=_date, default=None, help="the day the claims are sent (default: practice.json's)")
    q.add_argument("--all", action="store_true", help="scrub every claim, not only the claims to send")
    q.add_argument("--rules", help="payer rules file (default: scrub_rules.csv in the practice folder, when there)")
    q.add_argument("--out", help="write the findings (claim, line, rule, message, fix) to this .xlsx or .csv file")
    q.add_argument("--store", help="store file or database URL (the audit trail of --out)")
    q.add_argument("--json", action="store_true", help="print the counts as JSON")
    q.set_defaults(func=cmd_claims_scrub)
    q = claims_sub.add_parser("export-837", help="write the 837P of the clean claims to send (5010 X222A1)")
    q.add_argument("--practice", help="practice folder (default: the practice setting)")
    q.add_argument("--as-of", type=_date, default=None, help="the day the claims are sent (default: practice.json's)")
    q.add_argument("--out", required=True, help="the .837 file to write")
    q.add_argument("--all", action="store_true", help="every clean claim, not only the claims to send")
    q.add_argument("--rules", help="payer rules file (default: scrub_rules.csv in the practice folder, when there)")
    q.add_argument("--secondary", action="store_true", help="also the secondary claims ready (primary paid, balance "
                   "left), with COB, in OUT's sibling NAME.secondary.837 (reads era/; off by default)")
    q.add_argument("--store", help="store file or database URL (control numbers and the audit trail)")
    q.add_argument("--quiet", action="store_true")
    q.set_defaults(func=cmd_claims_export)

    p = sub.add_parser("statements", help="patient statements and dunning notices (PDF) for accounts with a patient "
                       "balance; small balances, payment plans, patient aging from the first statement")
    p.add_argument("--practice", help="practice folder (default: the practice setting)")
    p.add_argument("--as-of", type=_date, default=None, help="the statement date (default: practice.json's)")
    p.add_argument("--out", help="folder to write the statements to (patient data: created owner-only)")
    p.add_argument("--combined", action="store_true", help="also one PDF of every statement (for a mail house)")
    p.add_argument("--dry-run", action="store_true", help="only the counts: write and record nothing")
    p.add_argument("--store", help="store file or database URL (the statements sent, placements, audit trail)")
    p.set_defaults(func=cmd_statements)

    p = sub.add_parser("eligibility", help="insurance eligibility: 270 requests, coverage problems from 271s")
    elig = p.add_subparsers(dest="eligibility_command", required=True, metavar="ELIGIBILITY_COMMAND")
    q = elig.add_parser("request", help="write a 270 batch for an appointments file, or for the claims not yet "
                        "billed and those of the next days")
    q.add_argument("--practice", help="practice folder (default: the practice setting)")
    q.add_argument("--as-of", type=_date, default=None, help="as-of date (default: practice.json's)")
    q.add_argument("--appointments", help="appointments (.csv or .xlsx): appointment id, member id, patient name, "
                   "date of birth, payer, service date")
    q.add_argument("--days", type=_positive, default=14, help="without --appointments: also claims with a service "
                   "date in the next N days (default 14)")
    q.add_argument("--out", required=True, help="the .270 file to write")
    q.add_argument("--store", help="store file or database URL (control numbers and the audit trail)")
    q.set_defaults(func=cmd_eligibility_request)
    q = elig.add_parser("check", help="coverage problems of the claims to send from the 271s in eligibility/")
    q.add_argument("--practice", help="practice folder (default: the practice setting)")
    q.add_argument("--as-of", type=_date, default=None, help="as-of date (default: practice.json's)")
    q.add_argument("--all", action="store_true", help="check every claim, not only the claims to send")
    q.add_argument("--json", action="store_true", help="print the counts as JSON")
    q.set_defaults(func=cmd_eligibility_check)

    p = sub.add_parser("claim-status", help="acknowledgements and claim status: 276 requests, 277/277CA/999 counts")
    cs = p.add_subparsers(dest="claim_status_command", required=True, metavar="CLAIM_STATUS_COMMAND")
    q = cs.add_parser("request", help="write 276 status requests for the claims past follow-up")
    q.add_argument("--practice", help="practice folder (default: the practice setting)")
    q.add_argument("--as-of", type=_date, default=None, help="as-of date (default: practice.json's)")
    q.add_argument("--days", type=_positive, default=30, help="follow-up: billed and no status for N days (default 30)")
    q.add_argument("--out", required=True, help="the .276 file to write")
    q.add_argument("--store", help="store file or database URL (control numbers and the audit trail)")
    q.set_defaults(func=cmd_claim_status_request)
    q = cs.add_parser("show", help="counts of the latest claim statuses by category, rejections, unacknowledged")
    q.add_argument("--practice", help="practice folder (default: the practice setting)")
    q.add_argument("--as-of", type=_date, default=None, help="as-of date (default: practice.json's)")
    q.add_argument("--days", type=_positive, default=7, help="a claim is unacknowledged after N days (default 7)")
    q.add_argument("--json", action="store_true", help="print the counts as JSON")
    q.set_defaults(func=cmd_claim_status_show)

    p = sub.add_parser("assign", help="give a worklist claim to a person (default: you); refused when someone "
                       "changed it since the version you saw")
    p.add_argument("claim_id", metavar="CLAIM_ID")
    p.add_argument("--to", help="who works the claim (default: you, the OS user)")
    p.add_argument("--seen-version", type=_version, default=None, metavar="N",
                   help="the assignment version you saw (column assignment_version; 0: nobody had taken it); "
                   "default: the one stored now")
    p.add_argument("--store", help="store file or database URL (default: the store setting)")
    p.set_defaults(func=cmd_assign)

    p = sub.add_parser("appeals", help="appeals of denied and underpaid claims: open, file, withdraw, show, close")
    ap = p.add_subparsers(dest="appeals_command", required=True, metavar="APPEALS_COMMAND")
    q = ap.add_parser("open", help="open an appeal of a claim from its worklist row (denied, partially denied, "
                      "underpaid): drafted, or filed with --filed and --method")
    q.add_argument("claim_id", metavar="CLAIM_ID")
    q.add_argument("--level", choices=["1", "2", "external"], help="the level expected (default: the claim's next)")
    q.add_argument("--filed", type=_date, default=None, metavar="DATE", help="filed on this day (YYYY-MM-DD)")
    q.add_argument("--method", choices=["portal", "mail", "fax", "email", "phone"], help="how it was filed")
    q.add_argument("--practice", help="practice folder (default: the practice setting)")
    q.add_argument("--as-of", type=_date, default=None, help="as-of date (default: practice.json's)")
    q.add_argument("--store", help="store file or database URL (default: the store setting)")
    q.set_defaults(func=cmd_appeals_open)
    q = ap.add_parser("file", help="mark a drafted appeal as filed")
    q.add_argument("appeal_id", metavar="APPEAL_ID")
    q.add_argument("--date", type=_date, required=True, help="the day it was filed (YYYY-MM-DD)")
    q.add_argument("--method", choices=["portal", "mail", "fax", "email", "phone"], required=True)
    q.add_argument("--seen-version", type=_version, default=None, metavar="N",
                   help="the appeal's version you saw (e.g. in a sheet): refused if it changed since")
    q.add_argument("--store", help="store file or database URL (default: the store setting)")
    q.set_defaults(func=cmd_appeals_file)
    q = ap.add_parser("withdraw", help="withdraw a drafted or filed appeal")
    q.add_argument("appeal_id", metavar="APPEAL_ID")
    q.add_argument("--date", type=_date, default=None, help="the day (default: today)")
    q.add_argument("--seen-version", type=_version, default=None, metavar="N",
                   help="the appeal's version you saw (e.g. in a sheet): refused if it changed since")
    q.add_argument("--store", help="store file or database URL (default: the store setting)")
    q.set_defaults(func=cmd_appeals_withdraw)
    q = ap.add_parser("show", help="list the stored appeals")
    q.add_argument("--open", action="store_true", help="only drafted and filed appeals")
    q.add_argument("--json", action="store_true", help="print JSON (amounts as decimal strings)")
    q.add_argument("--store", help="store file or database URL (default: the store setting)")
    q.set_defaults(func=cmd_appeals_show)
    q = ap.add_parser("close", help="close the filed appeals the stored 835s decide (won, partially won, lost)")
    q.add_argument("--store", help="store file or database URL (default: the store setting)")
    q.set_defaults(func=cmd_appeals_close)
    q = ap.add_parser("letters", help="an appeal letter (.docx) per denied or underpaid claim an appeal can "
                           "still fix, from the templates of docs/letters.md (letters hold PHI: written only to --out)")
    q.add_argument("--practice", help="practice folder (default: the practice setting)")
    q.add_argument("--out", required=True, help="folder for the letters and their index (created owner-only)")
    q.add_argument("--as-of", type=_date, default=None, help="as-of date (default: practice.json's)")
    q.add_argument("--claim", action="append", metavar="ID", help="only this claim (repeat for more)")
    q.add_argument("--store", help="store file or database URL for the audit trail (default: the store setting)")
    q.add_argument("--quiet", action="store_true")
    q.set_defaults(func=cmd_appeals_letters)
    p = sub.add_parser("refunds", help="credits to refund: payer and patient apart, deadlines")
    rf = p.add_subparsers(dest="refunds_command", required=True, metavar="REFUNDS_COMMAND")
    q = rf.add_parser("list", help="counts and dollars of the refunds due by party and payer class, with deadlines")
    q.add_argument("--practice", help="practice folder (default: the practice setting)")
    q.add_argument("--as-of", type=_date, default=None, help="as-of date (default: practice.json's)")
    q.add_argument("--out", help="a .csv of the refunds (claim and account ids: written owner-only)")
    q.add_argument("--store", help="store file or database URL (the audit trail)")
    q.set_defaults(func=cmd_refunds_list)
    q = rf.add_parser("letters", help="a refund letter (.docx) per credit to refund, into --out (letters hold PHI)")
    q.add_argument("--practice", help="practice folder (default: the practice setting)")
    q.add_argument("--as-of", type=_date, default=None, help="as-of date (default: practice.json's)")
    q.add_argument("--out", required=True, help="the folder for the letters and their index (created owner-only)")
    q.add_argument("--method", choices=("check", "offset"), default="check",
                   help="a payer refund by check enclosed (default) or a request to offset it from a later payment")
    q.add_argument("--store", help="store file or database URL (the audit trail)")
    q.add_argument("--quiet", action="store_true", help="no progress lines")
    q.set_defaults(func=cmd_refunds_letters)
    p = sub.add_parser("collections", help="collection agency: accounts to place, the placement file, payments back")
    co = p.add_subparsers(dest="collections_command", required=True, metavar="COLLECTIONS_COMMAND")
    for name, func, text in (("list", cmd_collections_list, "how many accounts would be placed, for how much"),
                             ("place", cmd_collections_place, "place the accounts: the store and the agency's file")):
        q = co.add_parser(name, help=text)
        q.add_argument("--practice", help="practice folder (default: the practice setting)")
        q.add_argument("--as-of", type=_date, default=None, help="as-of date (default: practice.json's)")
        q.add_argument("--store", help="store file or database URL (statements, placements, the audit trail)")
        if name == "place":
            q.add_argument("--out", required=True, help="the placement .csv for the agency (PHI: owner-only)")
        q.set_defaults(func=func)
    q = co.add_parser("post", help="the agency's payment file: stored once each, a posting batch for the PM")
    q.add_argument("file", help="the agency's payment .csv (account, date, amount, fee, reference)")
    q.add_argument("--out", required=True, help="the posting batch .csv for the PM system")
    q.add_argument("--store", help="store file or database URL")
    q.set_defaults(func=cmd_collections_post)

    return parser


def _audited_action(args: argparse.Namespace) -> str | None:
    """The audit action of a command that changes something (None for those that only read)."""
    actions = {cmd_import: "import", cmd_reconcile: "reconcile", cmd_report: "report", cmd_codes_load: "codes-load",
               cmd_addin_install: "addin", cmd_addin_remove: "addin", cmd_claims_export: "export",
               cmd_eligibility_request: "export", cmd_claim_status_request: "export", cmd_appeals_open: "appeals",
               cmd_appeals_file: "appeals", cmd_appeals_withdraw: "appeals", cmd_appeals_close: "appeals",
               cmd_appeals_letters: "export", cmd_refunds_letters: "export", cmd_collections_place: "export",
               cmd_collections_post: "import", cmd_notes_add: "notes", cmd_notes_import: "notes",
               cmd_statements: "statements"}
    if args.func is cmd_settings:
        return "setting" if args.action in ("set", "unset", "confirm") else None
    return actions.get(args.func)


def _record_failure(args: argparse.Namespace, error: BaseException) -> None:
    """Record a failed audited command as an `error` event (its message masked, no traceback) in the store,
    when it exists (a refused command creates nothing). A store that cannot be opened (the failure may be
    that very store) is said on stderr, not raised."""
    action = _audited_action(args)
    if action is None:
        return
    from xl_ar import audit

    detail: dict[str, object] = {}
    if args.func is cmd_settings:
        detail = _setting_detail(args)
    elif action == "addin":
        detail = {"command": "install" if args.func is cmd_addin_install else "remove"}
    try:
        audit.record(action, _resolved(args).usable_store, result="error", message=audit.failure_message(error),
                     create=False, **detail)
    except Exception as e:
        print(f"note: the failure could not be recorded in the audit trail ({type(e).__name__})", file=sys.stderr)


def _first_line(error: BaseException) -> str:
    """An unexpected error's first line (`xl_ar.errors.first_line`): a database error's further lines name the
    values of the row it refused (PostgreSQL's DETAIL: `Key (claim_id)=(...)`) and the statement; --debug shows
    everything."""
    from xl_ar.errors import first_line

    return first_line(error)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        _setup_logging(args.log_level)
        log.info("xl-ar %s: %s", __version__, _command_name(args))
        code = args.func(args)
    except InputError as e:
        log.info("%s stopped on an input error after %.2f s", _command_name(args), time.perf_counter() - started)
        print(f"error: {e}", file=sys.stderr)
        _print_findings(e.findings)
        _record_failure(args, e)
        return EXIT_INPUT
    except XlArError as e:  # said on purpose (the store refused the user's role, a newer schema): no "unexpected"
        print(f"error: {e}", file=sys.stderr)
        _record_failure(args, e)
        return 1
    except KeyboardInterrupt as e:
        print("interrupted", file=sys.stderr)
        _record_failure(args, e)
        return 130
    except BrokenPipeError:  # the reader of our output went away (e.g. `| head`)
        sys.stderr.close()
        return 0
    except Exception as e:  # an unexpected failure: short message, traceback on request
        _record_failure(args, e)
        if args.debug:
            raise
        print(f"xl-ar: unexpected error: {type(e).__name__}: {_first_line(e)} (run with --debug for details)",
              file=sys.stderr)
        return 1
    log.info("%s finished in %.2f s (exit %d)", _command_name(args), time.perf_counter() - started, code)
    return code


def _command_name(args: argparse.Namespace) -> str:
    """The command run (`import`, `era summary`), never its arguments (paths and values are the user's)."""
    sub = next((getattr(args, k) for k in ("era_command", "codes_command", "addin_command", "map_command",
                                           "claims_command", "eligibility_command", "claim_status_command",
                                           "appeals_command", "refunds_command", "collections_command",
                                           "notes_command")
                if getattr(args, k, None)), None)
    return f"{args.command} {sub}" if sub else args.command


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

