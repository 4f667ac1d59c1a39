"""LINE's own spec files and conformance fixture: not part of this repository, used where found.

They are found through `LINE_OPENAPI_DIR`, or as `shared/` beside the repository (this project's
development checkout and CI). Tests that read them are marked `line_spec` and skip, with
`REASON` in the summary, where they are absent; the checks every install runs do not need them.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from bot import openapi_check

REASON = "LINE's spec files not found: set LINE_OPENAPI_DIR or put shared/ beside the repository"
line_spec = pytest.mark.line_spec


def spec_dir() -> Path | None:
    """The directory holding `messaging-api.yml`, `webhook.yml`..., or None."""
    try:
        return openapi_check.spec_dir()
    except openapi_check.SpecNotFound:
        return None


def conformance_webhook() -> Path:
    """The official SDK's webhook fixture (`line-conformance/webhook.json` beside the spec files)."""
    found = spec_dir()
    path = found.parent / "line-conformance" / "webhook.json" if found else None
    if path is None or not path.is_file():
        pytest.skip("LINE's conformance fixture (line-conformance/webhook.json beside line-openapi/) not found")
    return path
