"""The five invariants of DESIGN.md §2, checked by `machi audit verify` and by the tests."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, func, select

from ledger.chain import Sealer
from ledger.models import Account, Entry, Lot, Posting


@dataclass
class Report:
    problems: dict[str, list[str]] = field(default_factory=dict)
    facts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(self.problems.values())

    def add(self, invariant: str, problem: str) -> None:
        self.problems.setdefault(invariant, []).append(problem)


NAMES = {
    "1": "1. 仕訳は券種ごとに合計0、台帳全体も合計0",
    "2": "2. ロット・お財布はマイナスにならず、残高＝ロット＝仕訳",
    "3": "3. ハッシュチェーンが最初から最後まで検証できる",
    "4": "4. 却下された操作は何も変えない（仕訳のない記録・宙に浮いたロットがない）",
    "5": "5. 受付番号（冪等キー）1つに記録は1つ",
    "audit": "職員の操作記録（監査ログ）のハッシュチェーンが検証できる",
}


def check_all(conn: Connection, *, sealer: Sealer | None = None, chain: bool = True, now: datetime | None = None,
              limit: int = 20) -> Report:
    """Invariants 1-5; the hash chains (3 and the audit log) only with the `sealer` holding their key."""
    rep = Report()
    for key in NAMES:
        rep.problems.setdefault(key, [])
    # 1. balanced entries and ledger
    for r in conn.execute(select(Posting.entry_id, Posting.money_type_id, func.sum(Posting.amount))
                          .group_by(Posting.entry_id, Posting.money_type_id)
                          .having(func.sum(Posting.amount) != 0).limit(limit)):
        rep.add("1", f"仕訳 {r[0]} の券種 {r[1]} の合計が {r[2]} 円です")
    for r in conn.execute(select(Posting.money_type_id, func.sum(Posting.amount)).group_by(Posting.money_type_id)
                          .having(func.sum(Posting.amount) != 0)):
        rep.add("1", f"券種 {r[0]} の台帳合計が {r[1]} 円です")
    # 2. no negative lot or wallet; wallet postings == lots
    for r in conn.execute(select(Lot.id, Lot.remaining).where(Lot.remaining < 0).limit(limit)):
        rep.add("2", f"ロット {r.id} の残高が {r.remaining} 円です")
    for r in conn.execute(select(Lot.id).where(Lot.remaining > Lot.amount).limit(limit)):
        rep.add("2", f"ロット {r.id} の残高が元の額を超えています")
    wallets = select(Account.id).where(Account.kind.in_(("resident", "merchant"))).scalar_subquery()
    posted = dict(((a, m), s) for a, m, s in conn.execute(
        select(Posting.account_id, Posting.money_type_id, func.sum(Posting.amount))
        .where(Posting.account_id.in_(wallets)).group_by(Posting.account_id, Posting.money_type_id)))
    held = dict(((a, m), s) for a, m, s in conn.execute(
        select(Lot.account_id, Lot.money_type_id, func.sum(Lot.remaining))
        .group_by(Lot.account_id, Lot.money_type_id)))
    for key in sorted(set(posted) | set(held)):
        p, h = int(posted.get(key, 0) or 0), int(held.get(key, 0) or 0)
        if p != h:
            rep.add("2", f"お財布 {key[0]} 券種 {key[1]}: 仕訳の合計 {p} 円とロットの合計 {h} 円が違います")
        if p < 0:
            rep.add("2", f"お財布 {key[0]} 券種 {key[1]} がマイナス（{p} 円）です")
        if len(rep.problems["2"]) >= limit:
            break
    # 3. hash chain
    if chain and sealer is not None:
        cr = sealer.verify(conn, now=now)
        rep.facts["sealed"], rep.facts["unsealed"] = cr.sealed["entries"], cr.unsealed["entries"]
        rep.facts["audit_sealed"], rep.facts["anchors"] = cr.sealed["audit"], cr.anchors
        rep.problems["3"] += cr.problems["entries"]
        rep.problems["audit"] += cr.problems["audit"]
    # 4. nothing half-done: every entry has postings, every lot was credited by its entry
    for r in conn.execute(select(Entry.id).outerjoin(Posting, Posting.entry_id == Entry.id)
                          .where(Posting.id.is_(None)).limit(limit)):
        rep.add("4", f"仕訳 {r.id} に明細がありません")
    credited = select(Posting.lot_id).where(Posting.lot_id == Lot.id, Posting.entry_id == Lot.entry_id,
                                            Posting.amount == Lot.amount).exists()
    for r in conn.execute(select(Lot.id).where(~credited).limit(limit)):
        rep.add("4", f"ロット {r.id} に入金の仕訳がありません")
    # 5. one entry per idempotency key; one refund per payment
    for r in conn.execute(select(Entry.idempotency_key, func.count()).where(Entry.idempotency_key.is_not(None))
                          .group_by(Entry.idempotency_key).having(func.count() > 1).limit(limit)):
        rep.add("5", f"受付番号 {r[0]} に {r[1]} 件の記録があります")
    for r in conn.execute(select(Entry.reverses_entry_id, func.count()).where(Entry.reverses_entry_id.is_not(None))
                          .group_by(Entry.reverses_entry_id).having(func.count() > 1).limit(limit)):
        rep.add("5", f"支払い {r[0]} が {r[1]} 回返金されています")
    rep.facts["entries"] = conn.execute(select(func.count()).select_from(Entry)).scalar_one()
    return rep


def format_report(rep: Report) -> str:
    lines = []
    for key, name in NAMES.items():
        probs = rep.problems.get(key, [])
        if key in ("3", "audit") and "sealed" not in rep.facts:
            lines.append(f"--  {name}（鍵なしのため検証していません）")
            continue
        lines.append(f"{'OK ' if not probs else 'NG '} {name}")
        lines += [f"     - {p}" for p in probs]
    lines.append(f"記録 {rep.facts.get('entries', 0):,} 件"
                 + (f"、封印済み {rep.facts['sealed']:,} 件（未封印 {rep.facts['unsealed']:,} 件）、"
                    f"封印済みの操作記録 {rep.facts['audit_sealed']:,} 件、"
                    + (f"照合したアンカー {rep.facts['anchors']:,} 件" if rep.facts["anchors"]
                       else "アンカーがないため外部の記録とは照合していません")
                    if "sealed" in rep.facts else ""))
    return "\n".join(lines)
