"""The loading animation: shown only when a turn is slow, once, and never after it ended."""
from __future__ import annotations

import threading

from bot.render import Renderer
from bot.sender import Sender


class Client:
    def __init__(self) -> None:
        self.shown: list[str] = []
        self.event = threading.Event()

    def show_loading(self, user_id: str, seconds: int) -> bool:
        self.shown.append(user_id)
        self.event.set()
        return True


def test_a_slow_turn_shows_the_loading_animation_once() -> None:
    client = Client()
    sender = Sender(client, Renderer("liff-id"), loading_after=0.01)  # type: ignore[arg-type]
    with sender.loading("U-slow"):
        assert client.event.wait(5)  # the turn is still running when the animation appears
    assert client.shown == ["U-slow"]


def test_quick_turns_show_nothing() -> None:
    client = Client()
    sender = Sender(client, Renderer("liff-id"), loading_after=0.01)  # type: ignore[arg-type]
    for n in range(50):
        with sender.loading(f"U-{n}"):
            pass
    slow = Sender(client, Renderer("liff-id"), loading_after=0.3)  # type: ignore[arg-type]
    with slow.loading("U-slow"):  # fires after the quick turns' deadlines have all passed
        assert client.event.wait(5)
    assert client.shown == ["U-slow"]
