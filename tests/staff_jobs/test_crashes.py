"""Kill `machi grant run`, `machi payout run` and `machi announce send` half-way (SIGKILL, as a power
cut or an OOM kill would), run them again, and count: nothing doubled, nothing lost."""
from __future__ import annotations

import json
import os
from datetime import timedelta

from sqlalchemy import func, select

from ledger.clock import jst_date
from ledger.models import Merchant, Payout, PayoutBatch
from ledger.services import issuing, payments
from town.models import Announcement, AnnouncementChunk

from .conftest import add_residents, child_env, kill_when, later, machi, run_child, uid

NOTICE = "給付金が届きました"


def _notices_per_user(fake_line, users):
    return {u: len(fake_line.deliveries(u, NOTICE)) + len(fake_line.deliveries(u, "A benefit has arrived"))
            for u in users}


def test_grant_run_killed_while_line_holds_a_notice(town, line_env, fake_line, core):
    """Killed after LINE accepted a notice chunk but before the run wrote that down."""
    add_residents(core, 1, 1_200)  # 1,204 eligible: three notice chunks
    fake_line.gate.allow = 1
    env = child_env(line_env)
    assert kill_when(env, ["grant", "run", "BABY"], fake_line.gate.held.is_set) == -9
    fake_line.gate.allow = None
    fake_line.gate.release.set()
    users = [uid(n) for n in range(1, 1_201)] + [town.line_ids[r] for r in town.residents[:4]]
    assert 0 < len(town.entries_per_resident("grant:BABY"))
    assert list(_notices_per_user(fake_line, users).values()).count(0) > 0  # some were never told

    res = run_child(env, "grant", "run", "BABY")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "前回の実行が途中で止まっていました" in res.stdout
    credited = town.entries_per_resident("grant:BABY")
    assert len(credited) == 1_204 and set(credited.values()) == {1}
    assert set(_notices_per_user(fake_line, users).values()) == {1}
    runs = json.loads(machi("--json", "grant", "runs", "BABY").output)
    assert [r["status"] for r in runs] == ["done", "interrupted"]


def test_grant_run_killed_between_a_credit_and_its_notice(town, line_env, fake_line, core, tmp_path):
    """Killed after a batch of credits committed and before its notice was written down anywhere."""
    add_residents(core, 1, 30)
    env = child_env(line_env, CRASH_GRANT_BATCH="10")
    marker = str(tmp_path / "grant.marker")
    crash_env = {**env, "CRASH_AFTER_AWARDS": "2", "CRASH_MARKER": marker}
    assert kill_when(crash_env, ["grant", "run", "BABY"], lambda: os.path.exists(marker)) == -9
    # at least two batches credited (on PostgreSQL batches overlap, so perhaps more), and some of the
    # credited were never written into a notice: the case a re-run must catch up
    credited = town.entries_per_resident("grant:BABY")
    assert len(credited) >= 20
    users = [uid(n) for n in range(1, 31)] + [town.line_ids[r] for r in town.residents[:4]]
    told = _notices_per_user(fake_line, users)
    lines = {**{r: town.line_ids[r] for r in town.residents[:4]}}
    with core.db.session() as s:
        from ledger.models import Resident
        lines.update(dict(s.execute(select(Resident.id, Resident.line_user_id)
                                    .where(Resident.id.in_(list(credited)))).all()))
    assert any(told[lines[r]] == 0 for r in credited)

    res = run_child(env, "grant", "run", "BABY")
    assert res.returncode == 0, res.stdout + res.stderr
    credited = town.entries_per_resident("grant:BABY")
    assert len(credited) == 34 and set(credited.values()) == {1}
    assert set(_notices_per_user(fake_line, users).values()) == {1}


def test_announce_send_killed_mid_way_resumes_without_doubling(town, line_env, fake_line, core):
    add_residents(core, 1, 1_300)
    res = machi("announce", "create", "--title", "予約", "--all", "--text", "大雪のお知らせ",
                "--at", "2099-01-01 09:00")
    assert res.exit_code == 0, res.output
    with core.db.session() as s:
        ann_id = s.execute(select(Announcement.id)).scalar_one()
    fake_line.gate.allow = 1
    env = child_env(line_env)
    assert kill_when(env, ["announce", "send", str(ann_id)], fake_line.gate.held.is_set) == -9
    fake_line.gate.allow = None
    fake_line.gate.release.set()
    with core.db.session() as s:
        sent = s.execute(select(func.count()).where(AnnouncementChunk.announcement_id == ann_id,
                                                    AnnouncementChunk.status == "sent")).scalar_one()
    assert sent == 1  # the second chunk reached LINE, but the kill came before it was marked

    res = run_child(env, "announce", "send", str(ann_id))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "前回までに 1 回分は送信済み" in res.stdout
    users = [uid(n) for n in range(1, 1_301)] + [line for rid, line in town.line_ids.items() if rid != town.unreachable]
    per_user = {u: len(fake_line.deliveries(u, "大雪のお知らせ")) for u in users}
    assert set(per_user.values()) == {1} and len(per_user) == 1_308
    assert fake_line.deliveries(town.line_ids[town.unreachable]) == []
    # the chunk in flight at the kill went again with the same retry key: LINE answered 409
    statuses = [r.status for r in fake_line.multicasts()]
    assert statuses.count(409) == 1 and statuses.count(200) == 3


def test_payout_run_killed_mid_way_pays_each_shop_once(town, line_env, core, tmp_path):
    with core.db.write() as s:
        from ledger import registry
        for n in range(2, 7):
            registry.create_merchant(s, code=f"M00{n}", name=f"店{n}", category="small", fee_rate_bp=100)
        shops = list(s.execute(select(Merchant.id).order_by(Merchant.id)).scalars())
    assert machi("payout", "remitter", "--code", "1234567890", "--name", "トママエチョウ", "--bank", "1022",
                 "--branch", "007", "--number", "7654321").exit_code == 0
    for n in range(1, 7):
        assert machi("merchant", "bank", f"M00{n}", "--bank", "1022", "--branch", "007", "--number", f"{n}",
                     "--holder", f"ミセ{n}").exit_code == 0
    past = later(days=-3)
    uow = town.at(past)
    for n, shop in enumerate(shops):
        issuing.issue(uow, resident_id=town.residents[n], money_type="GRANT", amount=5_000, idempotency_key=f"give-{n}")
        payments.pay(uow, resident_id=town.residents[n], amount=1_000 + n, merchant_id=shop,
                     idempotency_key=f"pay-{n}")
    yesterday = jst_date(later(days=-1))
    args = ["payout", "run", "--from", str(yesterday - timedelta(days=5)), "--to", str(yesterday),
            "--out", str(tmp_path / "out")]
    marker = str(tmp_path / "payout.marker")
    env = child_env(line_env, CRASH_AFTER_SHOPS="3", CRASH_MARKER=marker)
    assert kill_when(env, args, lambda: os.path.exists(marker)) == -9
    with core.db.session() as s:
        assert s.execute(select(func.count()).select_from(Payout)).scalar_one() == 3

    res = run_child(child_env(line_env), *args)
    assert "精算済み 3 店はそのまま" in res.stdout, res.stdout + res.stderr
    with core.db.session() as s:
        per_shop = dict(s.execute(select(Payout.merchant_id, func.count()).group_by(Payout.merchant_id)).all())
        nets = dict(s.execute(select(Payout.merchant_id, Payout.net)).all())
        assert s.execute(select(func.count()).select_from(PayoutBatch)).scalar_one() == 1
    assert per_shop == {shop: 1 for shop in shops}
    assert nets == {shop: (1_000 + n) - (1_000 + n) // 100 for n, shop in enumerate(shops)}
    assert machi("audit", "seal").exit_code == 0  # the scheduler's sealing, for entries dated days back
    verify = machi("audit", "verify")
    assert verify.exit_code == 0, verify.output
