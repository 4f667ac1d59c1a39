"""`make bench` — every benchmark of the project, figures printed. BENCH_ARGS picks some: e.g.
`make bench BENCH_ARGS="ledger --seconds 5"`."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench import _common


def ledger(args: argparse.Namespace) -> list[dict]:
    from bench import ledger_bench  # noqa: PLC0415 - each suite imports only what it needs

    out = [ledger_bench.run(_common.fresh_sqlite("ledger"), "SQLite", seconds=args.seconds)]
    pg = _common.fresh_postgres("ledger")
    if pg:
        out.append(ledger_bench.run(pg, "PostgreSQL", seconds=args.seconds))
    return out


def liff(args: argparse.Namespace) -> list[dict]:
    from bench import liff_api  # noqa: PLC0415

    return [liff_api.run(seconds=args.seconds)]


def webhook(args: argparse.Namespace) -> list[dict]:
    from bench import webhook_bench  # noqa: PLC0415

    return [webhook_bench.run(seconds=args.seconds)]


def staff(args: argparse.Namespace) -> list[dict]:
    from bench import staff_bench  # noqa: PLC0415

    out = [staff_bench.run(_common.fresh_sqlite, "SQLite")]
    if _common.fresh_postgres("staff_probe"):
        out.append(staff_bench.run(_common.fresh_postgres, "PostgreSQL"))
    return out


def faq(args: argparse.Namespace) -> list[dict]:
    from bench import faq_bench  # noqa: PLC0415

    return [faq_bench.run()]


SUITES = {"ledger": ledger, "liff": liff, "webhook": webhook, "staff": staff, "faq": faq}


def main() -> None:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("suites", nargs="*", default=list(SUITES), help=f"any of {', '.join(SUITES)}")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--out", default="bench-results/latest.json")
    args = parser.parse_args()
    results = {}
    for name in args.suites:
        print(f"== {name} ==", flush=True)
        results[name] = SUITES[name](args)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str))
    print(f"figures written to {args.out}")


if __name__ == "__main__":
    main()
