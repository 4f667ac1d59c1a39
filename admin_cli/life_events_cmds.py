"""machi resident birth / move: 出生の届けと転居・世帯の変更 (the rules live in town/residents.py)."""
from __future__ import annotations

from datetime import date

import click

from admin_cli.common import JST_DATE, JaIntRange, dry_run_option, emit, find_resident
from admin_cli.context import CliContext, pass_ctx
from admin_cli.residents_cmds import resident
from town import residents

FIELDS_JA = {"district": "地区", "household_code": "世帯番号", "household_size": "世帯人数", "children": "子どもの数"}


def _ids(ctx: CliContext, refs: tuple[str, ...]) -> list[int]:
    with ctx.core().db.session() as s:
        return [find_resident(s, ref).id for ref in refs]


@resident.command("birth")
@click.option("--name", required=True, help="お子さんの氏名（漢字）")
@click.option("--kana", required=True, help="お子さんの氏名（カナ）")
@click.option("--birth", type=JST_DATE, required=True, help="生年月日（例: 2026-12-01）")
@click.option("--parent", "parents", multiple=True, help="親（番号・LINEユーザーID・カード番号）。複数指定できます")
@click.option("--district", default=None, help="地区（省略時は親と同じ）")
@click.option("--household", default=None, help="世帯番号（省略時は親と同じ）")
@click.option("--line-user-id", default=None, help="LINEユーザーID（あれば。なければカードのみの方になります）")
@dry_run_option
@pass_ctx
def birth(ctx: CliContext, name: str, kana: str, birth: date, parents: tuple[str, ...], district: str | None,
          household: str | None, line_user_id: str | None, dry_run: bool) -> None:
    """出生の届け: お子さんを住民として登録し、世帯に加えます（世帯人数+1、親の子どもの数+1）。"""
    core = ctx.core()
    res = residents.record_birth(core.db, now=core.uow.clock(), actor=ctx.actor, name=name, kana=kana, birth=birth,
                                 parents=_ids(ctx, parents), district=district, household_code=household,
                                 line_user_id=line_user_id, dry_run=dry_run)
    head = "（試し実行）" if dry_run else ""
    verb = "登録します" if dry_run else "登録しました"
    lines = [f"{head}お子さんを住民として{verb}（番号 {res.resident_id}、{res.district}"
             f"{'、世帯 ' + res.household_code if res.household_code else ''}、世帯人数 {res.household_size} 人）。"]
    if res.parents:
        lines.append("親: " + "、".join(f"番号 {p}" for p in res.parents)
                     + f"（子どもの数を1人{'増やします' if dry_run else '増やしました'}）")
    if res.card_only and not dry_run:
        lines.append(f"カードは `machi card issue {res.resident_id}` で発行できます。")
    emit(ctx, res.__dict__, lines)


@resident.command("move")
@click.argument("ref")
@click.option("--district", default=None, help="新しい地区")
@click.option("--household", default=None, help="新しい世帯番号（世帯の変更）")
@click.option("--household-size", type=JaIntRange(1, 30), default=None, help="世帯人数（分かっていれば）")
@click.option("--children", type=JaIntRange(0, 20), default=None, help="子どもの数")
@dry_run_option
@pass_ctx
def move(ctx: CliContext, ref: str, district: str | None, household: str | None, household_size: int | None,
         children: int | None, dry_run: bool) -> None:
    """町内の転居・世帯の変更: 地区・世帯番号・世帯人数を変えます（対象者の条件にすぐ反映）。"""
    core = ctx.core()
    rid = _ids(ctx, (ref,))[0]
    res = residents.change_household(core.db, actor=ctx.actor, resident_id=rid, district=district,
                                     household_code=household, household_size=household_size, children=children,
                                     dry_run=dry_run)
    head = "（試し実行）" if dry_run else ""
    lines = [f"{head}番号 {rid} の方の住所・世帯を{'変更します' if dry_run else '変更しました'}:"]
    lines += [f"  {FIELDS_JA[k]}: {res.before[k] or '—'} → {res.after[k] or '—'}" for k in res.changed]
    if res.old_household_members or res.new_household_members:
        lines.append(f"  元の世帯の {res.old_household_members} 人は世帯人数 −1、"
                     f"新しい世帯の {res.new_household_members} 人は +1")
    emit(ctx, res.__dict__, lines)
