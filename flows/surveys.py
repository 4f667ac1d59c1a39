"""Survey and form answers, once per survey per resident, and the generic actions that keep them.

`check_survey` (at the start: "すでに回答済みです" before anyone types anything) and
`save_survey` (at the end; the unique constraint makes it race-safe) let staff write a survey
or an application form in YAML with no Python.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from flows.context import ActionContext, ActionResult
from flows.errors import ActionError
from flows.i18n import pick, t
from ledger.clock import utcnow
from ledger.db import Database
from town.surveys import SurveyResponse  # noqa: F401 - the table lives with the town's tables


class SurveyStore(Protocol):
    def has_answered(self, survey_id: str, resident_key: str) -> bool: ...

    def save(self, survey_id: str, resident_key: str, answers: dict[str, Any], score: int | None) -> bool:
        """Store the answers; False (and nothing stored) when this resident already answered."""
        ...


class DbSurveyStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def has_answered(self, survey_id: str, resident_key: str) -> bool:
        with self.db.session() as s:
            found = s.scalar(select(SurveyResponse.id).where(
                SurveyResponse.survey_id == survey_id, SurveyResponse.resident_key == resident_key))
        return found is not None

    def save(self, survey_id: str, resident_key: str, answers: dict[str, Any], score: int | None) -> bool:
        try:
            with self.db.write() as s:
                s.add(SurveyResponse(survey_id=survey_id, resident_key=resident_key, answers=answers,
                                     score=score, created_at=utcnow()))
        except IntegrityError:
            return False
        return True


class InMemorySurveyStore:
    """For unit tests and the simulator without a database."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], tuple[dict[str, Any], int | None]] = {}

    def has_answered(self, survey_id: str, resident_key: str) -> bool:
        return (survey_id, resident_key) in self.rows

    def save(self, survey_id: str, resident_key: str, answers: dict[str, Any], score: int | None) -> bool:
        if (survey_id, resident_key) in self.rows:
            return False
        self.rows[(survey_id, resident_key)] = (dict(answers), score)
        return True


def survey_store(services: Any) -> SurveyStore:
    """`services.surveys` if the app gave one, else a store on `services.db`."""
    store = getattr(services, "surveys", None)
    if store is not None:
        return store
    db = getattr(services, "db", None)
    if db is None:
        raise RuntimeError("save_survey needs services.surveys or services.db")
    return DbSurveyStore(db)


def _ids(ctx: ActionContext) -> tuple[str, str]:
    survey_id = str(ctx.params.get("survey_id") or ctx.flow_id)
    resident_key = str(ctx.vars.get("resident_key") or ctx.user_id)
    return survey_id, resident_key


def _already(ctx: ActionContext) -> ActionError:
    custom = ctx.params.get("already")
    if custom:
        return ActionError(pick(custom, "ja"), pick(custom, "en"))
    return ActionError(t("already_answered", "ja"), t("already_answered", "en"))


def check_survey(ctx: ActionContext) -> ActionResult:
    """Stop before the first question if this resident has already answered."""
    survey_id, resident_key = _ids(ctx)
    if survey_store(ctx.services).has_answered(survey_id, resident_key):
        raise _already(ctx)
    return ActionResult()


def save_survey(ctx: ActionContext) -> ActionResult:
    """Store the answers (all, or the `keys` listed); `score_key` names an answer kept as the score."""
    survey_id, resident_key = _ids(ctx)
    keys = ctx.params.get("keys")
    answers = {k: v for k, v in ctx.answers.items() if not keys or k in keys}
    score = _score(answers.get(str(ctx.params.get("score_key", ""))))
    if not survey_store(ctx.services).save(survey_id, resident_key, answers, score):
        raise _already(ctx)
    return ActionResult(vars={"saved": True})


def _score(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- results for staff

COUNTED_INPUTS = ("choice", "yesno")  # answers chosen from a list: shown by value; anything typed is only counted


def counted_keys(survey_id: str, flows: Any = None) -> set[str]:
    """The answers of `survey_id` that were picked from a list (the flow files say which): only these are
    shown by value. Typed answers (text, phone, kana, numbers...) may hold names and numbers, so they are
    counted, never shown; for a survey no flow file names, every answer is only counted."""
    from flows.loader import load_flows  # noqa: PLC0415 - the flow files only for the staff's results

    keys: set[str] = set()
    for flow in (flows or load_flows()).flows.values():
        saves = [s for s in flow.steps if getattr(s, "action", None) == "save_survey"
                 and str(s.params.get("survey_id")) == survey_id]
        if saves:
            keys |= {a.key for a in flow.asks() if a.input in COUNTED_INPUTS}
    return keys


@dataclass(frozen=True)
class SurveyResults:
    responses: int
    mean: float | None
    score_distribution: dict[int, int]
    questions: dict[str, dict[str, int]]   # chosen answers: value -> count
    free_text_counts: dict[str, int]       # typed answers: how many, never what


def summarise(rows: list[tuple[dict | None, int | None]], counted: set[str], top: int = 10) -> SurveyResults:
    """What `machi survey results` shows: counts and the distribution of chosen answers only."""
    scores = [sc for _a, sc in rows if sc is not None]
    per_q: dict[str, Counter] = {}
    free_text: Counter = Counter()
    for answers, _sc in rows:
        for q, v in (answers or {}).items():
            if q in counted:
                per_q.setdefault(q, Counter())[str(v)] += 1
            elif v not in (None, ""):
                free_text[q] += 1
    return SurveyResults(len(rows), round(sum(scores) / len(scores), 2) if scores else None,
                         dict(sorted(Counter(scores).items())),
                         {q: dict(c.most_common(top)) for q, c in per_q.items()}, dict(free_text))
