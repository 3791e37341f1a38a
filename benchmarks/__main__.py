"""Run every benchmark (or the named ones) and print one table."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

from benchmarks._table import render


def main() -> int:
    here = Path(__file__).parent
    names = sorted(m.name.removeprefix("bench_") for m in pkgutil.iter_modules([str(here)])
                   if m.name.startswith("bench_"))
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all: {', '.join(names)})")
    parser.add_argument("--full", action="store_true", help="also the largest sizes (minutes)")
    args = parser.parse_args()
    rows = []
    for name in args.names or names:
        if name not in names:
            parser.error(f"no benchmark '{name}' (have: {', '.join(names)})")
        module = importlib.import_module(f"benchmarks.bench_{name}")
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows += module.run(full=args.full)
    print(render(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
