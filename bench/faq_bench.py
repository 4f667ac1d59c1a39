"""Typed questions: the share of real-looking messages (tests/flows/free_text_cases.yaml) that lead
where they should, and the time the matcher takes per message (after its one-off load)."""
from __future__ import annotations

import statistics
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from flows.faq import FAQ_FILE
from flows.loader import DEFINITIONS, load_flows
from flows.typed import destination
from flows.yaml_loaders import load_text_yaml

CASES = Path(__file__).resolve().parent.parent / "tests" / "flows" / "free_text_cases.yaml"
TARGET_SHARE = 0.90


def run(rounds: int = 20) -> dict[str, Any]:
    cases = [(str(say), str(want)) for say, want in load_text_yaml(CASES.read_text(encoding="utf-8"))]
    registry = load_flows(DEFINITIONS, faq=FAQ_FILE)
    started = time.perf_counter()
    registry.matcher().match("こんにちは")  # builds the phrase index and loads the kanji readings once
    load_s = time.perf_counter() - started
    wrong = [(say, want, got) for say, want in cases if (got := destination(registry, say)) != want]
    share = 1 - len(wrong) / len(cases)
    times: list[float] = []
    for _ in range(rounds):
        for say, _want in cases:
            started = time.perf_counter()
            destination(registry, say)
            times.append(time.perf_counter() - started)
    ms = sorted(t * 1000 for t in times)
    result = {"messages": len(cases), "matched_right": len(cases) - len(wrong), "share": round(share, 4),
              "ms_median": round(statistics.median(ms), 3), "ms_p95": round(ms[int(len(ms) * 0.95)], 3),
              "load_s": round(load_s, 2), "wrong": wrong, "at": datetime.now().isoformat(timespec="seconds")}
    print(f"  typed messages matched right: {result['matched_right']}/{len(cases)} = {share:.1%} "
          f"(target >= {TARGET_SHARE:.0%})", flush=True)
    print(f"  time per message: median {result['ms_median']} ms, p95 {result['ms_p95']} ms "
          f"(first use loads the index and readings: {result['load_s']} s)", flush=True)
    for say, want, got in wrong:
        print(f"    wrong: {say!r} → {got} (expected {want})", flush=True)
    return result
