"""What the staff commands share: option types that read dates the way staff write them, output for
people or `--json`, progress bars, and finding a resident by id, LINE user id or card number."""
from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session
from tqdm import tqdm

from admin_cli.context import CliContext
from ledger.cards import normalize_number
from ledger.clock import JST, to_jst
from ledger.errors import InvalidInput, NotFound
from ledger.models import Card, Merchant, MoneyType, Resident, Segment
from town.ages import AGE_BANDS, age_band, age_on  # noqa: F401 - the faces' names for them

LINE_ID = re.compile(r"^U[0-9a-f]{32}$")


def _nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


class JstDate(click.ParamType):
    """A day as staff write it: 2026-03-31, 2026/3/31 (full-width digits accepted)."""

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        text = _nfkc(str(value)).replace("/", "-")
        try:
            y, m, d = (int(p) for p in text.split("-"))
            return date(y, m, d)
        except ValueError:
            self.fail(f"日付「{value}」が読めません。2026-03-31 の形で指定してください。", param, ctx)


class JstDateTime(click.ParamType):
    """A Tokyo wall-clock time (2026-05-01 09:00), returned as naive UTC as the database keeps it."""

    name = "YYYY-MM-DD[ HH:MM]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        text = _nfkc(str(value)).replace("/", "-").replace("T", " ")
        day, _, clock = text.partition(" ")
        try:
            d = JstDate().convert(day, param, ctx)
            hh, mm = (int(p) for p in clock.split(":")) if clock else (0, 0)
            local = datetime.combine(d, time(hh, mm), JST)
        except (ValueError, click.BadParameter):
            self.fail(f"日時「{value}」が読めません。2026-05-01 09:00 の形で指定してください（日本時間）。", param, ctx)
        return local.astimezone(UTC).replace(tzinfo=None)


JST_DATE = JstDate()
JST_DATETIME = JstDateTime()


def dry_run_option(fn: Callable) -> Callable:
    return click.option("--dry-run", is_flag=True,
                        help="何も変更・送信せず、行われる内容だけを表示します（試し実行）")(fn)


def emit(ctx: CliContext, data: Any, lines: Iterable[str] | str = ()) -> None:
    """JSON for scripts with --json; otherwise the lines written for people."""
    if ctx.json_output:
        click.echo(json.dumps(data, ensure_ascii=False, default=_json_default))
        return
    if isinstance(lines, str):
        click.echo(lines)
        return
    for line in lines:
        click.echo(line)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> list[str]:
    """A plain text table; widths count full-width characters as two columns."""
    cells = [[str(c) for c in header]] + [[("" if c is None else str(c)) for c in r] for r in rows]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(header))]
    out = []
    for n, r in enumerate(cells):
        out.append("  ".join(c + " " * (widths[i] - _width(c)) for i, c in enumerate(r)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return out


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def progress(ctx: CliContext, total: int | None, desc: str) -> tqdm:
    """A progress bar on stderr; none with --json, so a script reads clean output."""
    return tqdm(total=total, desc=desc, unit="件", disable=ctx.json_output, dynamic_ncols=True, leave=False)


def yen(amount: int | None) -> str:
    return f"{int(amount or 0):,}円"


def jst(dt: datetime | None) -> str:
    return to_jst(dt).strftime("%Y-%m-%d %H:%M") if dt else ""


def find_resident(s: Session, ref: str) -> Resident:
    """By resident id (12), LINE user id (U…) or card number (8000 0000 0011)."""
    text = _nfkc(str(ref))
    found: Resident | None = None
    if LINE_ID.match(text):
        found = s.execute(select(Resident).where(Resident.line_user_id == text)).scalar()
    elif text.isdigit() and len(text) <= 10:
        found = s.get(Resident, int(text))
    else:
        try:
            number = normalize_number(text)
        except InvalidInput as exc:
            raise InvalidInput(f"利用者「{ref}」を特定できません。利用者ID・LINEユーザーID・カード番号のいずれかで指定してください。") from exc
        found = s.execute(select(Resident).join(Card, Card.resident_id == Resident.id)
                          .where(Card.number == number)).scalar()
    if found is None:
        raise NotFound(f"利用者「{ref}」が見つかりません。")
    return found


def find_merchant(s: Session, code: str) -> Merchant:
    m = s.execute(select(Merchant).where(Merchant.code == code)).scalar()
    if m is None:
        raise NotFound(f"店舗「{code}」が見つかりません。`machi merchant list` で確かめてください。")
    return m


def find_money_type(s: Session, code: str) -> MoneyType:
    mt = s.execute(select(MoneyType).where(MoneyType.code == code)).scalar()
    if mt is None:
        raise NotFound(f"券種「{code}」がありません。`machi money-type list` で確かめてください。")
    return mt


def find_segment(s: Session, name: str) -> Segment:
    seg = s.execute(select(Segment).where(Segment.name == name)).scalar()
    if seg is None and name.isdigit():
        seg = s.get(Segment, int(name))
    if seg is None:
        raise NotFound(f"対象者の条件（セグメント）「{name}」がありません。`machi segment list` で確かめてください。")
    return seg


class JaChoice(click.Choice):
    """click.Choice whose refusal says, in Japanese, which values may be given."""

    def get_invalid_choice_message(self, value: Any, ctx: click.Context | None) -> str:
        return f"「{value}」は指定できません。次のいずれかを指定してください: {'、'.join(map(str, self.choices))}"


class JaIntRange(click.IntRange):
    """click.IntRange that refuses, in Japanese, a number outside the range or one that is not a number."""

    def _describe_range(self) -> str:
        low = f"{self.min}以上" if self.min is not None else ""
        high = f"{self.max}以下" if self.max is not None else ""
        return low + high

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            self.fail(f"「{value}」は使えません。{self._describe_range()}の整数で指定してください。", param, ctx)
