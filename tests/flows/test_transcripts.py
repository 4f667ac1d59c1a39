"""Conversation transcripts (tests/flows/transcripts/*.yaml), readable by town staff, and the runner."""
from __future__ import annotations

import pytest

from flows.transcripts import TranscriptError, run_transcript, transcript_files
from tests.flows.conftest import TRANSCRIPTS


@pytest.mark.parametrize("path", transcript_files(TRANSCRIPTS), ids=lambda p: p.stem)
def test_transcript(path, db_engine, db_services):
    run_transcript(db_engine, path, services=db_services)


def test_transcripts_exist():
    assert len(transcript_files(TRANSCRIPTS)) >= 5


def test_inline_transcript_with_dates_and_postback_parameters(engine, services):
    results = run_transcript(engine, """
- postback: flow=sink&x=7
  bot: [contains: "x=7"]
- user: ３
- date: 2026-05-05
  bot: [contains: "同意しますか"]
""", services=services)
    assert [r.number for r in results] == [1, 2, 3]


def test_a_mismatch_reads_like_a_chat_log(engine, services):
    with pytest.raises(TranscriptError) as exc:
        run_transcript(engine, """
- user: はじめる
  bot: [contains: "さようなら"]
""", services=services)
    message = str(exc.value)
    assert "turn 1 (user: はじめる)" in message and "missing: ['さようなら']" in message
    assert "bot said:" in message and "ようこそ" in message and "[やめる]" in message


def test_equals_shows_a_diff(engine, services):
    with pytest.raises(TranscriptError) as exc:
        run_transcript(engine, "- user: やめる\n  bot: [equals: \"いま進めている手続きはないです。\"]\n", services=services)
    assert "diff (- said, + expected)" in str(exc.value)


def test_tapping_a_button_that_is_not_there(engine, services):
    with pytest.raises(TranscriptError, match="no button “はい”"):
        run_transcript(engine, "- user: 申込\n- tap: はい\n", services=services)


def test_malformed_transcripts_are_explained(engine):
    with pytest.raises(TranscriptError, match="exactly one of"):
        run_transcript(engine, "- user: a\n  postback: flow=x\n")
    with pytest.raises(TranscriptError, match="unknown check"):
        run_transcript(engine, "- user: a\n  bot: [{has: x}]\n")
    with pytest.raises(TranscriptError, match="list of turns"):
        run_transcript(engine, "hello")


def test_what_users_type_stays_text_in_transcripts(engine, services):
    run_transcript(engine, """
- user: 申込
- user: 山田
- user: やまだ
- user: 0164642211
  bot: [contains: "何人"]
- user: no
  bot: [contains: "下のボタンから"]
""", services=services)
