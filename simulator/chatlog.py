"""The fake LINE platform as the chat UI sees it: one timeline of what each persona saw.

`SimulatorStore` is the `FakeLineStore` the dev server mounts. On top of recording requests it
keeps, per LINE user, the chat as their phone would show it: the bot's messages (reply, push,
multicast, and broadcast/narrowcast to every friend), what the persona sent, and notes such as
"friend added". Every entry gets one global sequence number so the UI can poll with `after=`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.fake_line import Delivery, FakeLineStore

MAX_ENTRIES = 5000  # a dev server left running for days must not grow without end
FAN_OUT_KINDS = ("broadcast", "narrowcast")


@dataclass(frozen=True)
class ChatEntry:
    """One bubble (or note) in one persona's chat."""

    seq: int
    user_id: str
    sender: str  # "bot" | "user" | "system"
    message: dict[str, Any]
    at: float
    via: str = ""  # reply / push / multicast / broadcast / narrowcast, for the bot's messages
    request_id: str = ""
    level: str = "info"  # for system notes: info / warn / error

    def as_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "from": self.sender, "message": self.message, "at": int(self.at * 1000),
                "via": self.via, "request_id": self.request_id, "level": self.level}


class _LoadingStarts(dict[str, int]):
    """`store.loading` that also remembers when each loading animation started."""

    def __init__(self, clock: Any) -> None:
        super().__init__()
        self.clock = clock
        self.started: dict[str, float] = {}

    def __setitem__(self, key: str, value: int) -> None:
        super().__setitem__(key, value)
        self.started[key] = self.clock()


@dataclass
class _Chats:
    entries: list[ChatEntry] = field(default_factory=list)
    seq: int = 0


class SimulatorStore(FakeLineStore):
    """A FakeLineStore that also keeps each persona's chat timeline and friend state."""

    def __init__(self, **kwargs: Any) -> None:
        self.following: dict[str, bool] = {}
        self.blocked: set[str] = set()  # unfollowed at least once: the next follow is an unblock
        super().__init__(**kwargs)

    def clear(self) -> None:
        super().clear()
        with self._lock:
            self.loading = _LoadingStarts(self.clock)  # type: ignore[assignment]
            self._chats = _Chats()

    # ---- recording

    def deliver(self, delivery: Delivery) -> None:
        super().deliver(delivery)
        recipients = delivery.to
        if delivery.kind in FAN_OUT_KINDS:
            recipients = tuple(self.friends())
        for user_id in recipients:
            for message in delivery.messages:
                self._append(user_id, "bot", message, via=delivery.kind, request_id=delivery.request_id)

    def note_user(self, user_id: str, message: dict[str, Any]) -> ChatEntry:
        """What the persona sent, as their own (green) bubble."""
        return self._append(user_id, "user", message)

    def note_system(self, user_id: str, text: str, level: str = "info") -> ChatEntry:
        """A centred grey note in the chat ("友だち追加しました", a failed webhook...)."""
        return self._append(user_id, "system", {"type": "text", "text": text}, level=level)

    def _append(self, user_id: str, sender: str, message: dict[str, Any], *, via: str = "",
                request_id: str = "", level: str = "info") -> ChatEntry:
        with self._lock:
            self._chats.seq += 1
            entry = ChatEntry(self._chats.seq, user_id, sender, message, self.clock(), via, request_id, level)
            self._chats.entries.append(entry)
            if len(self._chats.entries) > MAX_ENTRIES:
                del self._chats.entries[: len(self._chats.entries) - MAX_ENTRIES]
        return entry

    # ---- friends

    def set_following(self, user_id: str, following: bool) -> None:
        with self._lock:
            if self.following.get(user_id) and not following:
                self.blocked.add(user_id)
            elif following:
                self.blocked.discard(user_id)
            self.following[user_id] = following

    def is_following(self, user_id: str) -> bool:
        return self.following.get(user_id, False)

    def friends(self) -> list[str]:
        with self._lock:
            return [user_id for user_id, on in self.following.items() if on]

    # ---- queries for the UI

    def chat(self, user_id: str, after: int = 0) -> list[ChatEntry]:
        """This persona's entries with a sequence number above `after`, oldest first."""
        with self._lock:
            return [e for e in self._chats.entries if e.user_id == user_id and e.seq > after]

    @property
    def last_seq(self) -> int:
        return self._chats.seq

    def loading_until(self, user_id: str) -> float | None:
        """When the loading animation the bot started for this chat ends (None: not showing).

        LINE hides it as soon as a message arrives, or after its seconds.
        """
        with self._lock:
            loading: _LoadingStarts = self.loading  # type: ignore[assignment]
            started = loading.started.get(user_id)
            if started is None:
                return None
            until = started + loading.get(user_id, 0)
            answered = any(e.user_id == user_id and e.sender == "bot" and e.at >= started
                           for e in reversed(self._chats.entries[-50:]))
        return None if answered or until <= self.clock() else until
