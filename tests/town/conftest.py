"""The town's year reuses the staff jobs' small town and fake LINE server."""
from tests.staff_jobs.conftest import fake_line, line_env, town  # noqa: F401
