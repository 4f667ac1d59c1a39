"""`machi` for crash tests: the real command, with optional stopping points set by the environment.

CRASH_GRANT_BATCH=n      grant runs credit n residents per transaction (to get several batches)
CRASH_AFTER_AWARDS=k     after the k-th credited batch commits, before its notice is written: stop
CRASH_AFTER_SHOPS=k      after the k-th shop's payout commits: stop
CRASH_MARKER=path        written when a stopping point is reached; the process then waits to be killed
"""
from __future__ import annotations

import functools
import os
import sys
import time
from pathlib import Path

from admin_cli.main import cli
from ledger.services import payouts
from town import grant_run


def _stop_after(env: str, fn):
    limit = int(os.environ[env])
    calls = {"n": 0}

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        result = fn(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] >= limit:
            Path(os.environ["CRASH_MARKER"]).write_text("stopped")
            time.sleep(600)
        return result

    return wrapper


if os.environ.get("CRASH_GRANT_BATCH"):
    grant_run.run_push = functools.partial(grant_run.run_push, batch=int(os.environ["CRASH_GRANT_BATCH"]))
if os.environ.get("CRASH_AFTER_AWARDS"):
    grant_run.award_many = _stop_after("CRASH_AFTER_AWARDS", grant_run.award_many)
if os.environ.get("CRASH_AFTER_SHOPS"):
    payouts.pay_out_merchant = _stop_after("CRASH_AFTER_SHOPS", payouts.pay_out_merchant)

if __name__ == "__main__":
    cli(sys.argv[1:], prog_name="machi")
