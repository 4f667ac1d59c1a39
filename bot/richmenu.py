"""Which rich menu each LINE user sees, from what the database says about them.

`machi richmenu deploy` stores the deployed menu ids (`bot_rich_menus`); after that, registering
or withdrawing moves a user to their menu with one link call (`link_user`), and a redeploy moves
everyone at once in bulk (`assignments`, ≤500 a request). Guests need no link: the guest menu is
the default. A change the bot does not see happen (a shop role given with `machi merchant staff
add`) is caught by `ensure`, which the bot calls after a person's turn: at most every few minutes
per person it compares the menu they should see with the one last linked, and links it if not
done already. What was linked is remembered in the inbox table as a once-only key.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping

from sqlalchemy import delete, select

from bot.inbox import Inbox
from bot.models import RichMenuDeployment
from ledger.clock import utcnow
from ledger.db import Database
from ledger.models import Merchant, MerchantStaff, Resident
from rich_menus.definitions import split_key
from rich_menus.deploy import DEFAULT_MENU, RichMenuClient, choose_menu, resolve

log = logging.getLogger(__name__)

CHECK_EVERY = 300.0  # seconds between two checks of one person's menu, per process
IDS_FOR = 60.0  # seconds the deployed ids are cached
_MAX_CHECKED = 10_000


class MenuLinker:
    def __init__(self, db: Database, client: RichMenuClient, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.db = db
        self.client = client
        self.inbox = Inbox(db)
        self._clock = clock
        self._checked: dict[str, float] = {}
        self._ids: tuple[float, dict[str, str]] | None = None
        self._lock = threading.Lock()

    def deployed(self) -> dict[str, str]:
        with self.db.engine.connect() as conn:
            return dict(conn.execute(select(RichMenuDeployment.key, RichMenuDeployment.rich_menu_id)).all())

    def save(self, ids: Mapping[str, str]) -> None:
        """Replace the stored ids by a deploy's result."""
        now = utcnow()
        with self.db.write() as s:
            s.execute(delete(RichMenuDeployment))
            s.add_all(RichMenuDeployment(key=k, rich_menu_id=v, deployed_at=now) for k, v in ids.items())

    def menu_key(self, line_user_id: str) -> str:
        with self.db.engine.connect() as conn:
            resident = conn.execute(select(Resident.status, Resident.language)
                                    .where(Resident.line_user_id == line_user_id)).first()
            staff = conn.execute(select(MerchantStaff.id).join(Merchant, Merchant.id == MerchantStaff.merchant_id)
                                 .where(MerchantStaff.line_user_id == line_user_id, Merchant.active.is_(True))
                                 ).first() is not None
        registered = resident is not None and resident.status == "active"
        return choose_menu(registered, staff, resident.language if resident else None)

    def link_user(self, line_user_id: str) -> str | None:
        """Link this user's menu now; None when no menus are deployed yet (nothing to link)."""
        ids = self.deployed()
        if not ids:
            log.info("no rich menus deployed yet: run `machi richmenu deploy`")
            return None
        key = self.menu_key(line_user_id)
        self._link(line_user_id, resolve(key, ids))
        return key

    def _link(self, line_user_id: str, rich_menu_id: str) -> None:
        """The single-user call takes effect at once (bulk links are processed later)."""
        self.client.link_rich_menu(line_user_id, rich_menu_id)
        self.inbox.once(_linked_key(line_user_id, rich_menu_id))

    def ensure(self, line_user_id: str) -> str | None:
        """Link this person's menu if it is not the one they should see now; the menu key if linked."""
        now = self._clock()
        with self._lock:
            if now - self._checked.get(line_user_id, float("-inf")) < CHECK_EVERY:
                return None
            if len(self._checked) >= _MAX_CHECKED:
                self._checked.clear()
            self._checked[line_user_id] = now
            if self._ids is None or now - self._ids[0] >= IDS_FOR:
                self._ids = (now, self.deployed())
            ids = self._ids[1]
        if not ids:
            return None
        key = self.menu_key(line_user_id)
        if split_key(key)[0] == DEFAULT_MENU:
            return None  # the default already; a withdrawal links it explicitly
        target = resolve(key, ids)
        if self.inbox.seen(_linked_key(line_user_id, target)):
            return None
        self._link(line_user_id, target)
        return key

    def assignments(self) -> dict[str, str]:
        """Every user who needs a menu other than the default: registered residents and shop staff."""
        with self.db.engine.connect() as conn:
            residents = conn.execute(select(Resident.line_user_id, Resident.language).where(
                Resident.line_user_id.is_not(None), Resident.status == "active")).all()
            staff = set(conn.execute(select(MerchantStaff.line_user_id).join(
                Merchant, Merchant.id == MerchantStaff.merchant_id).where(Merchant.active.is_(True))).scalars())
        out = {uid: choose_menu(True, uid in staff, lang) for uid, lang in residents}
        for uid in staff - set(out):
            out[uid] = choose_menu(False, True, None)
        return out


def _linked_key(line_user_id: str, rich_menu_id: str) -> str:
    return f"menu:{line_user_id}:{rich_menu_id}"[:100]
