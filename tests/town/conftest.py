"""The town layer's operations, driven through `machi` on the demo town (fixtures of tests/admin_cli)."""
from __future__ import annotations

from datetime import date

import pytest

from app import build_core
from config import load_config
from ledger.clock import today_jst
from tests.admin_cli.conftest import (  # noqa: F401 - fixtures
    _seeded_template,
    _staff_name,
    machi,
    town,
    town_url,
)

ELDER = 31       # 田中 トメ: card only, 88, 力昼, holds 13,000 yen of certificates
HANAKO_ID = 1    # 佐藤 花子: LINE, 34, household H001 of 3, one child
ISAMU_ID = 2     # 高橋 勇: LINE, 72, 古丹別, household H002; holds volunteer points


@pytest.fixture
def town_core(request: pytest.FixtureRequest):
    """A core on the demo town's database, for driving the ledger the way the chat would."""
    core = build_core(load_config(database_url=request.getfixturevalue("town_url"), env="test"))
    yield core
    core.db.dispose()


def fiscal_end() -> date:
    today = today_jst()
    return date(today.year + (1 if today.month >= 4 else 0), 3, 31)
