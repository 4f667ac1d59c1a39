"""Anchors: each sealing run's chain heads, written where the database cannot change them.

An anchor is one JSON line appended to a plain file (and logged for the operator): the time and,
for the journal and the audit log, the last seal's number, record id and hash. Someone who can
edit the database can delete seals and seal again, but cannot reach back into this file, the
operator's log or a printed monthly report; `machi audit verify` compares the chains with it.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ledger.clock import jst_date

_TAIL = 8192  # bytes read from the end to find the last line


@dataclass(frozen=True)
class Head:
    """The last seal of one chain: its number, the record it seals, its hash."""

    seq: int
    id: int
    hash: str

    def to_json(self) -> dict[str, object]:
        return {"seq": self.seq, "id": self.id, "hash": self.hash}


@dataclass(frozen=True)
class Anchor:
    at: datetime  # naive UTC
    heads: dict[str, Head]  # chain name ("entries", "audit") → its head

    def to_line(self) -> str:
        body = {"at": self.at.isoformat(timespec="seconds") + "Z",
                **{name: head.to_json() for name, head in sorted(self.heads.items())}}
        return json.dumps(body, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_line(cls, line: str) -> Anchor:
        raw = json.loads(line)
        at = datetime.fromisoformat(raw.pop("at").removesuffix("Z"))
        heads = {name: Head(int(h["seq"]), int(h["id"]), str(h["hash"])) for name, h in raw.items()}
        return cls(at, heads)


class AnchorLog:
    """An append-only file of anchors, one JSON line each."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def exists(self) -> bool:
        return self.path.exists()

    def append(self, anchor: Anchor) -> str:
        """Write the anchor and force it to disk before returning the line."""
        line = anchor.to_line()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        return line

    def read(self) -> tuple[list[Anchor], list[int]]:
        """Every anchor, oldest first, and the numbers of the lines that could not be read."""
        if not self.path.exists():
            return [], []
        anchors, bad = [], []
        with self.path.open(encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    anchors.append(Anchor.from_line(line))
                except (ValueError, KeyError, TypeError, AttributeError):
                    bad.append(n)
        return anchors, bad

    def last(self) -> Anchor | None:
        """The newest anchor, read from the end of the file (it grows by a line each sealing run)."""
        if not self.path.exists():
            return None
        with self.path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - _TAIL))
            lines = [x for x in f.read().decode("utf-8", "replace").splitlines() if x.strip()]
        for line in reversed(lines):
            try:
                return Anchor.from_line(line)
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
        return None


def daily(anchors: list[Anchor]) -> list[Anchor]:
    """The last anchor of each day (Tokyo): the lines for the monthly report."""
    last: dict[object, Anchor] = {}
    for a in anchors:
        last[jst_date(a.at)] = a
    return [last[d] for d in sorted(last)]  # type: ignore[type-var]
