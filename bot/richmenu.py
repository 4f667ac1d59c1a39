"""Which rich menu each LINE user sees, from what the database says about them.

`machi richmenu deploy` stores the deployed menu ids (`bot_rich_menus`); after that, registering,
withdrawing or becoming shop staff moves a user to their menu with one link call
(`link_user`), and a redeploy moves everyone at once in bulk (`assignments`, ≤500 a request).
Guests need no link: the guest menu is the default.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy import delete, select

from bot.models import RichMenuDeployment
from ledger.clock import utcnow
from ledger.db import Database
from ledger.models import Merchant, MerchantStaff, Resident
from rich_menus.deploy import RichMenuClient, choose_menu, link_user

log = logging.getLogger(__name__)


class MenuLinker:
    def __init__(self, db: Database, client: RichMenuClient) -> None:
        self.db = db
        self.client = client

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
        link_user(self.client, line_user_id, key, ids)
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
