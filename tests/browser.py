"""What the browser tests share: Debian's Chromium (never a downloaded build), the flags it needs on a machine
without a network, and the mark that skips them cleanly where it is not installed."""
from __future__ import annotations

from pathlib import Path

import pytest

from config import ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MARKS = [pytest.mark.browser,
         pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed "
                            "(run `bash scripts/ensure-chromium`)")]


def artifacts(name: str) -> Path:
    """Where a suite's screenshots go (`test-artifacts/<name>/`)."""
    return ROOT / "test-artifacts" / name
