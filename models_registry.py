"""Every table of the project, imported in one place for Alembic and for schema checks.

Each layer keeps its own tables (ledger/models, flows/state, bot/models, ...) on the one
`ledger.db.Base`; this module only makes sure they are all imported.
"""
from __future__ import annotations

from sqlalchemy import MetaData

import bot.models  # noqa: F401
import flows.state  # noqa: F401
import flows.surveys  # noqa: F401
import ledger.models  # noqa: F401
import town.models  # noqa: F401
import town.scheduler  # noqa: F401 - apscheduler_jobs, the scheduler's job store
import town.staff  # noqa: F401 - staff_accounts, the console's sign-in
import town.surveys  # noqa: F401 - survey_responses (written by flows.surveys)
from ledger.db import Base


def metadata() -> MetaData:
    return Base.metadata
