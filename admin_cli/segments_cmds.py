"""machi segment: 対象者の条件 — define, preview (count and a sample), list. Used by grants and announcements."""
from __future__ import annotations

from typing import Any

import click
from sqlalchemy import func, select

from admin_cli.common import JaIntRange, age_band, dry_run_option, emit, find_money_type, find_segment, table
from admin_cli.context import CliContext, pass_ctx
from admin_cli.main import cli
from ledger.clock import today_jst
from ledger.errors import AlreadyDone, InvalidInput
from ledger.models import Resident, Segment
from ledger.segments import LABELS, segment_query, validate_criteria


@cli.group()
def segment() -> None:
    """対象者の条件（セグメント）: 年齢・地区・世帯・登録状態・残高・友だち登録中のみ。給付とお知らせで使います。"""


def describe(criteria: dict[str, Any]) -> str:
    if not criteria:
        return "全住民（利用中の方）"
    parts = []
    for k, v in criteria.items():
        if isinstance(v, bool):
            parts.append(f"{LABELS.get(k, k)}{'' if v else 'でない'}")
        elif isinstance(v, list):
            parts.append(f"{LABELS.get(k, k)}: {'・'.join(map(str, v[:10]))}{' …' if len(v) > 10 else ''}")
        else:
            parts.append(f"{LABELS.get(k, k)}: {v}")
    return "、".join(parts)


@segment.command("define")
@click.argument("name")
@click.option("--description", default="", help="説明（例: 冬の暮らし応援券の対象）")
@click.option("--age-min", type=int, default=None, help="年齢（以上）")
@click.option("--age-max", type=int, default=None, help="年齢（以下）")
@click.option("--district", "districts", multiple=True, help="地区（複数指定可）")
@click.option("--registered/--not-registered", default=None, help="LINEで登録済みの方／未登録の方")
@click.option("--verified/--not-verified", default=None, help="本人確認済みの方／未確認の方")
@click.option("--min-children", type=int, default=None, help="子どもの数（以上）")
@click.option("--household-size-min", type=int, default=None, help="世帯人数（以上）")
@click.option("--money-type", default=None, help="残高の条件の券種")
@click.option("--min-balance", type=int, default=None, help="その券種の残高（以上、円）")
@click.option("--max-balance", type=int, default=None, help="その券種の残高（以下、円）")
@click.option("--followers-only", is_flag=True, help="LINEの友だち登録中（ブロックしていない）方のみ")
@click.option("--replace", is_flag=True, help="同じ名前のセグメントを置き換えます")
@dry_run_option
@pass_ctx
def define(ctx: CliContext, name: str, description: str, age_min: int | None, age_max: int | None,
           districts: tuple[str, ...], registered: bool | None, verified: bool | None, min_children: int | None,
           household_size_min: int | None, money_type: str | None, min_balance: int | None,
           max_balance: int | None, followers_only: bool, replace: bool, dry_run: bool) -> None:
    """セグメントを定義します（条件はすべて満たす方が対象）。"""
    if not name.strip() or len(name) > 100:
        raise InvalidInput("セグメント名は1〜100文字です。")
    raw = {"age_min": age_min, "age_max": age_max, "districts": list(districts) or None, "registered": registered,
           "verified": verified, "min_children": min_children, "household_size_min": household_size_min,
           "money_type": money_type, "min_balance": min_balance, "max_balance": max_balance,
           "followers_only": followers_only or None}
    criteria = validate_criteria({k: v for k, v in raw.items() if v is not None})
    with ctx.core().db.write() as s:
        if money_type is not None:
            find_money_type(s, money_type)  # a misspelt code would silently match no one
        seg = s.execute(select(Segment).where(Segment.name == name)).scalar()
        if seg is not None and not replace:
            raise AlreadyDone(f"セグメント「{name}」はすでにあります（置き換えるときは --replace）。")
        count = s.execute(select(func.count()).select_from(
            segment_query(criteria, today_jst()).order_by(None).subquery())).scalar_one()
        if not dry_run:
            if seg is None:
                s.add(Segment(name=name, description=description, criteria=criteria))
            else:
                seg.criteria, seg.description = criteria, description or seg.description
    if not dry_run:
        ctx.audit("segment.define", {"name": name, "criteria": criteria, "replace": replace}, f"{count} residents")
    emit(ctx, {"name": name, "criteria": criteria, "count": count, "dry_run": dry_run},
         [f"{'（試し実行）' if dry_run else ''}セグメント「{name}」: {describe(criteria)}", f"  いま該当する方 {count:,} 人"])


@segment.command("preview")
@click.argument("name")
@click.option("--sample", default=10, show_default=True, type=JaIntRange(0, 100), help="例として表示する人数")
@pass_ctx
def preview(ctx: CliContext, name: str, sample: int) -> None:
    """該当する人数と、その一部（番号・年代・地区・LINE）を表示します。"""
    today = today_jst()
    with ctx.core().db.session() as s:
        seg = find_segment(s, name)
        q = segment_query(seg.criteria or {}, today)
        count = s.execute(select(func.count()).select_from(q.order_by(None).subquery())).scalar_one()
        ids = list(s.execute(q.limit(sample)).scalars())
        rows = s.execute(select(Resident).where(Resident.id.in_(ids)).order_by(Resident.id)).scalars().all() if ids else []
        reachable = s.execute(select(func.count()).select_from(
            q.where(Resident.line_user_id.is_not(None), Resident.reachable.is_(True)).order_by(None).subquery())
        ).scalar_one()
    data = {"name": seg.name, "criteria": seg.criteria, "count": count, "reachable_on_line": reachable,
            "sample": [{"id": r.id, "age_band": age_band(r.birth_date, today), "district": r.district,
                        "line": bool(r.line_user_id)} for r in rows]}
    emit(ctx, data, [f"セグメント「{seg.name}」: {describe(seg.criteria or {})}",
                     f"  該当 {count:,} 人（うちLINEで届く方 {reachable:,} 人）",
                     *table([(d["id"], d["age_band"], d["district"], "○" if d["line"] else "") for d in data["sample"]],
                            ["番号", "年代", "地区", "LINE"])])


@segment.command("list")
@pass_ctx
def list_(ctx: CliContext) -> None:
    """セグメントの一覧（条件といま該当する人数）。"""
    today = today_jst()
    with ctx.core().db.session() as s:
        segs = s.execute(select(Segment).order_by(Segment.id)).scalars().all()
        data = [{"id": g.id, "name": g.name, "description": g.description, "criteria": g.criteria,
                 "count": s.execute(select(func.count()).select_from(
                     segment_query(g.criteria or {}, today).order_by(None).subquery())).scalar_one()} for g in segs]
    emit(ctx, data, table([(d["id"], d["name"], describe(d["criteria"] or {}), d["count"]) for d in data],
                          ["番号", "名前", "条件", "該当"]))
