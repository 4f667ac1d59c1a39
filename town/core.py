"""What town's services need from the composition root (`app.Machi` satisfies it), named here so the
town layer never imports the app that wires it (DESIGN.md §1)."""
from __future__ import annotations

from typing import Any, Protocol

from ledger.chain import Sealer
from ledger.db import Database
from ledger.events import MessageBus
from ledger.uow import UnitOfWork


class TownCore(Protocol):
    config: Any  # config.Config: the town reads its liff_id, secret key and public URL
    db: Database
    bus: MessageBus
    uow: UnitOfWork
    sealer: Sealer
