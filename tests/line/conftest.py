"""Fixtures for the LINE boundary: a fake LINE server on a real socket and a client aimed at it."""
from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from PIL import Image

from bot.line_client import LineClient
from simulator.fake_line import FakeLineStore
from simulator.fake_line_server import run_fake_line

TOKEN = "test-channel-access-token"
ALICE = "U" + "a1" * 16
BOB = "U" + "b2" * 16


def user_ids(count: int) -> list[str]:
    """`count` distinct, well-formed LINE user ids."""
    return [f"U{i:032x}" for i in range(count)]


def png(width: int = 2500, height: int = 843) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buf, "PNG")
    return buf.getvalue()


@dataclass
class FakeLine:
    url: str
    store: FakeLineStore


@pytest.fixture
def fake_line() -> Iterator[FakeLine]:
    url, store, stop = run_fake_line(channel_access_token=TOKEN)
    store.add_persona(ALICE, "山田花子", language="ja", picture_url="https://example.com/a.png")
    store.add_persona(BOB, "Bob", language="en")
    try:
        yield FakeLine(url, store)
    finally:
        stop()


@pytest.fixture
def line_client(fake_line: FakeLine) -> Iterator[LineClient]:
    client = LineClient(fake_line.url, TOKEN, timeout=2.0, max_retries=3, backoff=0.001)
    try:
        yield client
    finally:
        client.close()
