"""Conversation transcripts (tests/bot/transcripts/*.yaml) played through the real path: a signed
webhook to /callback, the engine, the renderer, the fake LINE server. Staff can read them as
chat logs: what the resident sends, what the bot must answer."""
from __future__ import annotations

from pathlib import Path

import pytest

from flows.transcripts import run_transcript, transcript_files
from tests.bot.conftest import WebhookEngine

TRANSCRIPTS = Path(__file__).parent / "transcripts"


@pytest.mark.parametrize("path", transcript_files(TRANSCRIPTS), ids=lambda p: p.stem)
def test_transcript(path, bot, phone):
    phones: dict = {}

    def phone_for(user_id: str):
        return phones.setdefault(user_id, phone(user_id))

    run_transcript(WebhookEngine(bot, phone_for), path)


def test_there_are_transcripts_for_every_resident_flow():
    names = {p.stem for p in transcript_files(TRANSCRIPTS)}
    assert len(names) >= 8
