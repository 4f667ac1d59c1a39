"""machi announce create / preview / send / list / cancel against the fake LINE server."""
from __future__ import annotations

import json

from sqlalchemy import select

from admin_cli.context import line_sender
from admin_cli.scheduler_cmds import line_runtime
from config import load_config
from ledger import installation
from ledger.clock import to_jst
from town import scheduler
from town.models import Announcement, AnnouncementChunk

from .conftest import add_residents, later, machi, uid

TEXT = "【苫前町】年末年始の窓口のお知らせです"


def test_create_sends_now_to_everyone_reachable_skipping_the_unreachable(town, line_env, fake_line):
    preview = machi("announce", "preview", "--all", "--text", TEXT)
    assert preview.exit_code == 0, preview.output
    assert "LINEで届く方 8 人" in preview.output and "届かない方（LINE未登録・ブロック中） 2 人" in preview.output
    assert fake_line.store.requests == []  # a preview sends nothing

    res = machi("announce", "create", "--title", "年末年始", "--all", "--text", TEXT)
    assert res.exit_code == 0, res.output
    assert "8 人に送りました" in res.output and "届かない方 2 人" in res.output
    for rid, line in town.line_ids.items():
        assert len(fake_line.deliveries(line, TEXT)) == (0 if rid == town.unreachable else 1)
    listed = json.loads(machi("--json", "announce", "list").output)
    assert listed[0]["status"] == "sent" and listed[0]["recipients"] == 8 and listed[0]["skipped"] == 2
    assert listed[0]["chunks_sent"] == listed[0]["chunks"] == 1

    again = machi("announce", "send", str(listed[0]["id"]))  # sending a sent one again sends nothing new
    assert again.exit_code == 0
    assert len(fake_line.deliveries(town.line_ids[town.residents[0]], TEXT)) == 1


def test_a_segment_gets_it_and_nobody_else(town, line_env, fake_line):
    res = machi("announce", "create", "--title", "子育て", "--segment", "子育て", "--text", "健診のご案内")
    assert res.exit_code == 0, res.output
    for rid, line in town.line_ids.items():
        assert len(fake_line.deliveries(line)) == (1 if rid in town.residents[:4] else 0)


def test_large_sends_go_in_chunks_of_500_with_retry_keys(town, line_env, fake_line, core):
    add_residents(core, 1, 1_100)
    res = machi("announce", "create", "--title", "全戸", "--all", "--text", TEXT)
    assert res.exit_code == 0, res.output
    reqs = fake_line.multicasts()
    assert [len(r.json["to"]) for r in reqs] == [500, 500, 108]
    keys = [r.headers["X-Line-Retry-Key"] for r in reqs]
    assert len(set(keys)) == 3
    got = [u for r in reqs for u in r.json["to"]]
    assert len(got) == len(set(got)) == 1_108
    assert fake_line.store.violations == []


def test_scheduled_announcement_is_sent_by_the_scheduler_and_can_be_cancelled(town, line_env, fake_line, core):
    at = f"{to_jst(later(days=1)):%Y-%m-%d %H:%M}"
    res = machi("announce", "create", "--title", "予約", "--all", "--text", "明日のお知らせ", "--at", at)
    assert res.exit_code == 0, res.output
    assert "予約しました" in res.output
    keep = machi("announce", "create", "--title", "取り消す", "--all", "--text", "取り消すお知らせ",
                 "--at", at)
    with core.db.session() as s:
        ids = list(s.execute(select(Announcement.id).order_by(Announcement.id)).scalars())
    assert keep.exit_code == 0 and len(ids) == 2
    cancel = machi("announce", "cancel", str(ids[1]))
    assert cancel.exit_code == 0 and "取り消しました" in cancel.output
    assert fake_line.store.requests == []

    scheduler.install(line_runtime(core, lambda: line_sender(load_config(), installation.namespace(core.db))))
    assert scheduler.job_announcements(now=later(minutes=5)) == {"sent": [], "failed": [], "expired": []}  # not yet due
    out = scheduler.job_announcements(now=later(days=1, minutes=2))
    assert out["sent"] == [ids[0]]
    for rid, line in town.line_ids.items():
        assert len(fake_line.deliveries(line, "明日のお知らせ")) == (0 if rid == town.unreachable else 1)
        assert fake_line.deliveries(line, "取り消すお知らせ") == []
    assert scheduler.job_announcements(now=later(days=1, minutes=3))["sent"] == []  # once only
    late = machi("announce", "cancel", str(ids[0]))
    assert late.exit_code != 0 and "取り消せません" in late.output


def test_unfollowed_residents_are_skipped(town, line_env, fake_line, core):
    from ledger.models import Resident
    with core.db.write() as s:
        s.get(Resident, town.residents[0]).reachable = False  # unfollowed since
    res = machi("announce", "create", "--title", "t", "--all", "--text", TEXT)
    assert "7 人に送りました" in res.output and "届かない方 3 人" in res.output
    assert fake_line.deliveries(town.line_ids[town.residents[0]]) == []


def test_bad_arguments_get_a_clear_japanese_message_and_change_nothing(town, line_env, fake_line, tmp_path):
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{not json", encoding="utf-8")
    bubble = tmp_path / "bubble.json"
    bubble.write_text(json.dumps({"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": []}}))
    cases = [
        (["announce", "create", "--title", "t", "--all"], "--text か --flex"),
        (["announce", "create", "--title", "t", "--all", "--text", "a", "--flex", str(bubble)], "どちらか一方"),
        (["announce", "create", "--title", "t", "--text", "a"], "--segment"),
        (["announce", "create", "--title", "t", "--all", "--segment", "子育て", "--text", "a"], "どちらか一方"),
        (["announce", "create", "--title", "t", "--segment", "ない", "--text", "a"], "セグメント"),
        (["announce", "create", "--title", "t", "--all", "--text", "a", "--at", "2020-01-01 09:00"], "過去"),
        (["announce", "create", "--title", "t", "--all", "--text", "a", "--at", "あした"], "日時"),
        (["announce", "create", "--title", "t", "--all", "--text", "   "], "本文が空"),
        (["announce", "create", "--title", "t", "--all", "--flex", str(bad_json)], "JSONではありません"),
        (["announce", "create", "--title", "t", "--all", "--flex", str(bubble)], "代替テキスト"),
        (["announce", "create", "--title", " ", "--all", "--text", "a"], "件名"),
        (["announce", "send", "999"], "お知らせ 999 はありません"),
        (["announce", "cancel", "999"], "お知らせ 999 はありません"),
    ]
    for args, words in cases:
        res = machi(*args)
        assert res.exit_code != 0, args
        assert words in res.output, (args, res.output)
        assert "Traceback" not in res.output
    assert town.count(Announcement) == 0 and town.count(AnnouncementChunk) == 0
    assert fake_line.store.requests == []


def test_dry_run_sends_and_stores_nothing(town, line_env, fake_line):
    res = machi("announce", "create", "--title", "t", "--all", "--text", TEXT, "--dry-run")
    assert res.exit_code == 0 and "試し実行" in res.output and "8 人" in res.output
    assert town.count(Announcement) == 0 and fake_line.store.requests == []
    assert uid(1)  # helper is importable for other tests


def test_a_scheduled_send_that_failed_is_tried_again_by_the_scheduler(town, line_env, fake_line, core):
    at = f"{to_jst(later(minutes=2)):%Y-%m-%d %H:%M}"
    assert machi("announce", "create", "--title", "t", "--all", "--text", "再送のお知らせ", "--at", at).exit_code == 0
    scheduler.install(line_runtime(core, lambda: line_sender(load_config(), installation.namespace(core.db))))
    fake_line.store.fail_next("/v2/bot/message/multicast", 500, count=4)  # LINE down for every retry
    out = scheduler.job_announcements(now=later(minutes=5))
    assert out["sent"] == [] and len(out["failed"]) == 1
    listed = json.loads(machi("--json", "announce", "list").output)
    assert listed[0]["status"] == "failed"
    out = scheduler.job_announcements(now=later(minutes=6))  # the next minute: LINE is back
    assert out["sent"] == [listed[0]["id"]]
    for rid, line in town.line_ids.items():
        assert len(fake_line.deliveries(line, "再送のお知らせ")) == (0 if rid == town.unreachable else 1)
