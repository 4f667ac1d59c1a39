"""This copy of the database: its installation id, and the keys it gives LINE made from it.

LINE remembers an `X-Line-Retry-Key` for a while and answers 409 ("already accepted") when it
comes again, whatever the message. Keys used to be made from an entry id and a LINE user id only,
so a restored copy (whose next entry ids the lost original had already used) or a second database
on the same channel sent LINE old keys with new receipts: LINE answered 409, the relay counted
the receipt as sent, and nobody got it. Every key is now uuid5(this installation's id, what it is
about): the same on every retry from this copy, different from any other copy's.

The id is made with the schema (migration 0008) or, on a database whose row was emptied, at first
use; `mark_restored` gives a restored copy a new one (`machi db restore` does it by itself).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from ledger.clock import utcnow
from ledger.db import Database
from ledger.models import Installation

_ROW = 1


@dataclass(frozen=True)
class Copy:
    installation_id: uuid.UUID
    created_at: datetime
    restored_from: uuid.UUID | None = None
    restored_at: datetime | None = None


def current(db: Database) -> Copy:
    """This database's installation, made now if its row is missing (an emptied table)."""
    found = _read(db)
    if found is not None:
        return found
    try:
        with db.write() as s:
            if s.get(Installation, _ROW) is None:
                s.execute(insert(Installation).values(id=_ROW, installation_id=str(uuid.uuid4()), created_at=utcnow()))
    except IntegrityError:
        pass  # another process made it first: theirs is the one
    found = _read(db)
    assert found is not None
    return found


def namespace(db: Database) -> uuid.UUID:
    """The namespace of every key this copy gives LINE (see `send_key`)."""
    return current(db).installation_id


def mark_restored(db: Database) -> Copy:
    """Give this copy a new installation id: it is a restore (or a clone) of another database, so
    the keys it gives LINE from now on must differ from the original's. Returns the new state."""
    before = current(db)
    new = uuid.uuid4()
    with db.write() as s:
        s.execute(update(Installation).where(Installation.id == _ROW).values(
            installation_id=str(new), restored_from=str(before.installation_id), restored_at=utcnow()))
    after = _read(db)
    assert after is not None
    return after


def send_key(space: uuid.UUID, key: str) -> str:
    """The one rule for keys given to LINE: a domain key ("receipt:123:U…") within an installation.
    A key that is already a UUID (made by this rule, or random) is kept as it is."""
    try:
        return str(uuid.UUID(key))
    except ValueError:
        return str(uuid.uuid5(space, key))


def _read(db: Database) -> Copy | None:
    with db.engine.connect() as conn:
        row = conn.execute(select(Installation.installation_id, Installation.created_at, Installation.restored_from,
                                  Installation.restored_at).where(Installation.id == _ROW)).first()
    if row is None:
        return None
    return Copy(uuid.UUID(row.installation_id), row.created_at,
                uuid.UUID(row.restored_from) if row.restored_from else None, row.restored_at)
