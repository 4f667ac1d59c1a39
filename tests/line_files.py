"""LINE's own spec files and conformance fixture: not part of this repository, used where found.

Run time reads them only from `LINE_OPENAPI_DIR`. The tests (and `.ci/run`) set that variable when
`shared/line-openapi` lies beside the repository, as in this project's development checkout and CI;
`use_shared_beside_repository()` does it before anything is imported. Tests that read the files are
marked `line_spec` and skip, with `REASON` in the summary, where they are absent; the checks every
install runs do not need them.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot import openapi_check

REASON = "LINE's spec files not found: set LINE_OPENAPI_DIR or put shared/ beside the repository"
line_spec = pytest.mark.line_spec
_REPO_ROOT = Path(__file__).resolve().parent.parent


def use_shared_beside_repository() -> None:
    """Point `LINE_OPENAPI_DIR` at `shared/line-openapi` above the repository, unless it is set."""
    if os.environ.get("LINE_OPENAPI_DIR"):
        return
    for base in (_REPO_ROOT, *_REPO_ROOT.parents):
        candidate = base / "shared" / "line-openapi"
        if (candidate / openapi_check.SPEC_FILES["messaging-api"]).is_file():
            os.environ["LINE_OPENAPI_DIR"] = str(candidate)
            return


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
