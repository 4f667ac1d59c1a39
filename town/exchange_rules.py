"""Changing an exchange rule (points → vouchers) from a date on. The change is a new rule row with its
`effective_from`; the ledger prices each exchange by the rule of its own time, so exchanges before the
date keep the old rule and nothing already exchanged changes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import registry
from ledger.db import Database
from ledger.errors import AlreadyDone, InvalidInput, NotAllowed, NotFound
from ledger.exchange_rules import rule_at
from ledger.models import ExchangeRule, MoneyType
from ledger.models.money import RULES_ALWAYS
from town.staff_tx import staff_write


@dataclass(frozen=True)
class RuleView:
    from_type: str
    to_type: str
    from_units: int
    to_units: int
    effective_from: datetime | None  # None: has always held
    in_effect: bool


@dataclass(frozen=True)
class RuleChange:
    from_type: str
    to_type: str
    before: RuleView | None
    after: RuleView
    dry_run: bool


def _view(rule: ExchangeRule, codes: dict[int, str], current: set[int]) -> RuleView:
    return RuleView(codes[rule.from_type_id], codes[rule.to_type_id], rule.from_units, rule.to_units,
                    None if rule.effective_from <= RULES_ALWAYS else rule.effective_from, rule.id in current)


def _type(s: Session, code: str) -> MoneyType:
    mt = s.execute(select(MoneyType).where(MoneyType.code == (code or "").strip().upper())).scalar()
    if mt is None:
        raise NotFound(f"券種「{code}」がありません。`machi money-type list` で確かめてください。")
    return mt


def change_rule(db: Database, *, from_code: str, to_code: str, from_units: int, to_units: int,
                effective_from: datetime, now: datetime, actor: str, dry_run: bool = False) -> RuleChange:
    """Refusals: not points → a spendable type, units not positive, a start in the past, the same rule,
    a change already planned from then or later."""
    for units in (from_units, to_units):
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise InvalidInput("ポイント数と金額は1以上の整数で指定してください。")
    if effective_from < now:
        raise InvalidInput("変更日時が過去です。すでに行われた交換は元のルールのままにするため、今以降の日時を指定してください。")

    def work(s: Session) -> tuple[RuleChange, dict, str]:
        src, dst = _type(s, from_code), _type(s, to_code)
        if src.kind != "point":
            raise NotAllowed(f"「{src.name}」はポイントではありません。交換ルールはポイントから商品券への交換です。")
        if dst.kind == "point" or src.id == dst.id:
            raise NotAllowed(f"「{dst.name}」には交換できません。商品券・給付券などの券種を指定してください。")
        codes = {src.id: src.code, dst.id: dst.code}
        later = s.execute(select(ExchangeRule).where(ExchangeRule.from_type_id == src.id,
                                                     ExchangeRule.to_type_id == dst.id,
                                                     ExchangeRule.effective_from >= effective_from)).scalars().first()
        if later is not None:
            raise AlreadyDone(f"{src.code}→{dst.code} には、その日時以降の変更がすでに予定されています"
                              f"（{later.from_units:,}→{later.to_units:,}）。`machi exchange-rule list` で確かめてください。")
        old = rule_at(s, src.id, dst.id, effective_from)
        if old is not None and (old.from_units, old.to_units) == (from_units, to_units):
            raise AlreadyDone(f"{src.code}→{dst.code} はすでに {from_units:,}→{to_units:,} です。")
        now_rule = rule_at(s, src.id, dst.id, now)
        new = registry.add_exchange_rule(s, src.code, dst.code, from_units, to_units, effective_from=effective_from)
        current = {now_rule.id} if now_rule is not None else set()
        if effective_from <= now:
            current = {new.id}
        result = RuleChange(src.code, dst.code, _view(old, codes, current) if old else None,
                            _view(new, codes, current), dry_run)
        params = {"from": src.code, "to": dst.code, "from_units": from_units, "to_units": to_units,
                  "effective_from": effective_from,
                  "before": [old.from_units, old.to_units] if old else None}
        return result, params, "exchange rule changed"

    return staff_write(db, actor=actor, action="exchange_rule.change", dry_run=dry_run, work=work)


def list_rules(db: Database, *, now: datetime) -> list[RuleView]:
    """Every rule, past, current and planned, per pair in time order."""
    with db.session() as s:
        codes = dict(s.execute(select(MoneyType.id, MoneyType.code)).all())
        rules = list(s.execute(select(ExchangeRule).order_by(ExchangeRule.from_type_id, ExchangeRule.to_type_id,
                                                             ExchangeRule.effective_from)).scalars())
        current = set()
        for r in rules:
            found = rule_at(s, r.from_type_id, r.to_type_id, now)
            if found is not None:
                current.add(found.id)
        return [_view(r, codes, current) for r in rules]
