"""machi grant create / list / run / runs, as town staff use them, against the fake LINE server."""
from __future__ import annotations

import json

from sqlalchemy import select

from ledger.models import Entry, GrantProgram
from town.models import Announcement, GrantRun

from .conftest import flex_actions, machi

NOTICE = "給付金が届きました"


def test_push_grant_credits_every_eligible_resident_once_with_a_notice(town, line_env, fake_line):
    res = machi("grant", "run", "BABY")
    assert res.exit_code == 0, res.output
    assert "4 人に入金しました" in res.output and "40,000円" in res.output
    credited = town.entries_per_resident("grant:BABY")
    assert credited == {rid: 1 for rid in town.residents[:4]}
    # the notice: to each credited resident on LINE once, in their language; none to anyone else
    for rid in town.residents[:4]:
        alt = "A benefit has arrived" if rid == town.english else NOTICE
        assert len(fake_line.deliveries(town.line_ids[rid], alt)) == 1
    for rid in town.residents[4:9]:
        assert fake_line.deliveries(town.line_ids[rid]) == []
    for r in fake_line.multicasts():
        assert r.headers.get("X-Line-Retry-Key") and len(r.json["to"]) <= 500
    assert fake_line.store.violations == []

    again = machi("grant", "run", "BABY")  # run twice: nothing doubled
    assert again.exit_code == 0, again.output
    assert "0 人に入金しました" in again.output and "受け取り済みの 4 人" in again.output
    assert town.entries_per_resident("grant:BABY") == credited
    for rid in town.residents[:4]:
        assert len(fake_line.deliveries(town.line_ids[rid])) == 1

    runs = machi("--json", "grant", "runs", "BABY")
    rows = json.loads(runs.output)
    assert [r["status"] for r in rows] == ["done", "done"] and [r["awarded"] for r in rows] == [0, 4]
    listed = json.loads(machi("--json", "grant", "list").output)
    baby = next(p for p in listed if p["code"] == "BABY")
    assert baby["recipients"] == 4 and baby["issued"] == 40_000


def test_blocked_and_card_only_residents_are_credited_but_not_messaged(town, line_env, fake_line, core):
    with core.db.write() as s:  # make the blocked one and the card-only one eligible too
        from ledger.models import Resident
        for rid in (town.unreachable, town.card_only):
            s.get(Resident, rid).children = 2
    res = machi("grant", "run", "BABY")
    assert res.exit_code == 0, res.output
    assert town.entries_per_resident("grant:BABY")[town.unreachable] == 1
    assert town.entries_per_resident("grant:BABY")[town.card_only] == 1
    assert fake_line.deliveries(town.line_ids[town.unreachable]) == []
    notices = sum(len(r.json["to"]) for r in fake_line.multicasts())
    assert notices == 4  # six credited, four reachable on LINE


def test_budget_cap_is_respected(town, line_env, fake_line):
    res = machi("grant", "create", "--code", "BIRTH26", "--name", "出産祝い2026", "--money-type", "GRANT",
                "--amount", "30000", "--segment", "子育て", "--budget", "70000")
    assert res.exit_code == 0, res.output
    dry = machi("grant", "run", "BIRTH26", "--dry-run")
    assert "予算が足りず 2 人は入金できません" in dry.output
    res = machi("grant", "run", "BIRTH26")
    assert res.exit_code == 0, res.output
    assert "予算の上限に達した" in res.output
    assert len(town.entries_per_resident("grant:BIRTH26")) == 2
    with town.core.db.session() as s:
        total = sum(s.execute(select(Entry.amount).where(Entry.ref == "grant:BIRTH26")).scalars())
        assert total == 60_000
        assert s.execute(select(GrantRun.status).where(GrantRun.program_code == "BIRTH26")).scalar() == "budget"
    machi("grant", "run", "BIRTH26")
    assert len(town.entries_per_resident("grant:BIRTH26")) == 2  # the cap holds on a re-run too


def test_dry_run_changes_and_sends_nothing(town, line_env, fake_line):
    res = machi("grant", "run", "BABY", "--dry-run")
    assert res.exit_code == 0, res.output
    assert "（試し実行）" in res.output and "入金予定 4 人" in res.output and "40,000円" in res.output
    assert town.entries_per_resident("grant:BABY") == {}
    assert town.count(GrantRun) == 0 and town.count(Announcement) == 0
    assert fake_line.store.requests == []
    res = machi("grant", "create", "--code", "X1", "--name", "試し", "--money-type", "GRANT", "--amount", "100",
                "--dry-run")
    assert res.exit_code == 0 and "試し実行" in res.output
    assert town.count(GrantProgram, GrantProgram.code == "X1") == 0


def test_claim_grant_sends_an_accept_button_once(town, line_env, fake_line):
    res = machi("grant", "run", "WINTER")
    assert res.exit_code == 0, res.output
    assert "8 人に送りました" in res.output and "届かない方 2 人" in res.output
    for rid, line in town.line_ids.items():
        got = fake_line.deliveries(line)
        if rid == town.unreachable:
            assert got == []
            continue
        assert len(got) == 1
        [button] = flex_actions(got[0].messages[0]["contents"])
        assert button["label"] == "受け取る" and button["data"] == "flow=grant_claim&program=WINTER"  # the bot's flow
    assert town.entries_per_resident("grant:WINTER") == {}  # nobody is credited until they accept
    again = machi("grant", "run", "WINTER")
    assert again.exit_code == 0
    for line in town.line_ids.values():
        assert len(fake_line.deliveries(line)) <= 1  # the same announcement: not sent twice


def test_bad_arguments_get_a_clear_japanese_message_and_change_nothing(town, line_env, fake_line):
    cases = [
        (["grant", "create", "--code", "A1", "--name", "x", "--money-type", "GRANT", "--amount", "0"], "1円以上"),
        (["grant", "create", "--code", "A1", "--name", "x", "--money-type", "PREM", "--amount", "100"], "前払式"),
        (["grant", "create", "--code", "A1", "--name", "x", "--money-type", "NOPE", "--amount", "100"], "券種「NOPE」"),
        (["grant", "create", "--code", "A1", "--name", "x", "--money-type", "GRANT", "--amount", "500",
          "--budget", "100"], "予算上限"),
        (["grant", "create", "--code", "A1", "--name", "x", "--money-type", "GRANT", "--amount", "500",
          "--segment", "ない条件"], "セグメント"),
        (["grant", "create", "--code", "A1", "--name", "x", "--money-type", "GRANT", "--amount", "500",
          "--starts", "2026-13-01"], "日時"),
        (["grant", "create", "--code", "BABY", "--name", "x", "--money-type", "GRANT", "--amount", "500"], "すでに"),
        (["grant", "create", "--code", "ばぶ", "--name", "x", "--money-type", "GRANT", "--amount", "500"], "事業コード"),
        (["grant", "run", "NOPE"], "給付事業「NOPE」はありません"),
    ]
    before = town.count(GrantProgram)
    for args, words in cases:
        res = machi(*args)
        assert res.exit_code != 0, args
        assert words in res.output, (args, res.output)
        assert "Traceback" not in res.output
    assert town.count(GrantProgram) == before and town.count(Entry) == 0
    assert fake_line.store.requests == []


def test_a_program_outside_its_window_is_refused_in_japanese(town, line_env, fake_line):
    res = machi("grant", "create", "--code", "SPRING", "--name", "春の応援", "--money-type", "GRANT",
                "--amount", "1000", "--starts", "2099-04-01 09:00", "--ends", "2099-05-01")
    assert res.exit_code == 0, res.output
    res = machi("grant", "run", "SPRING")
    assert res.exit_code == 1 and "受付期間外" in res.output and "Traceback" not in res.output
    assert town.entries_per_resident("grant:SPRING") == {} and fake_line.store.requests == []


def test_when_line_fails_the_credits_stand_and_a_re_run_sends_only_the_missing_notices(town, line_env, fake_line):
    fake_line.store.fail_next("/v2/bot/message/multicast", 500, count=4)  # every retry of the first notice
    res = machi("grant", "run", "BABY")
    assert res.exit_code == 1
    assert "入金は済んでいます" in res.output and "Traceback" not in res.output
    assert town.entries_per_resident("grant:BABY") == {rid: 1 for rid in town.residents[:4]}
    again = machi("grant", "run", "BABY")
    assert again.exit_code == 0, again.output
    assert town.entries_per_resident("grant:BABY") == {rid: 1 for rid in town.residents[:4]}
    for rid in town.residents[:4]:
        assert len(fake_line.deliveries(town.line_ids[rid])) == 1
