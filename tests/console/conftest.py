"""A console test kit: staff accounts of each role made through town/staff.py, a resident or two,
and a browser-like client that reads the CSRF token from the page it was given, as a browser would."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from ledger import registry
from ledger.models import AuditLog
from town import staff

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def token_of(html: str) -> str:
    m = _TOKEN.search(html)
    assert m, "the page has no CSRF token"
    return m.group(1)


@dataclass
class Staff:
    id: int
    login: str
    role: str
    secret: str | None

    def code(self) -> str:
        assert self.secret
        return pyotp.TOTP(self.secret).now()


@dataclass
class Console:
    """One browser: `get`, and `post` which first opens `page` to pick up the form's token."""

    client: Any

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, **kw)

    def post(self, url: str, data: dict[str, str] | None = None, page: str | None = None, **kw: Any) -> Any:
        form = self.client.get(page or "/console/sign-in")
        return self.client.post(url, data={"csrf_token": token_of(form.get_data(as_text=True)), **(data or {})}, **kw)

    def sign_in(self, who: Staff, password: str = PASSWORD) -> Any:
        r = self.post("/console/sign-in", {"login": who.login, "password": password})
        if who.secret and r.status_code == 302 and "/totp" in r.headers["Location"]:
            r = self.post("/console/totp", {"code": who.code()}, page="/console/totp")
        return r


@pytest.fixture
def make_staff(core):
    """`make_staff(role)`: an account with a password set; money roles with TOTP already confirmed."""
    def make(role: str, login: str | None = None, *, totp: bool = True) -> Staff:
        with core.db.write() as s:
            account, _token = staff.create(s, login or f"{role}1", f"テスト {staff.ROLE_JA[role]}", role)
            staff.set_password(s, account, PASSWORD, PASSWORD)
            secret = None
            if totp and role in staff.MONEY_ROLES:
                secret = account.totp_secret = pyotp.random_base32()
                account.totp_confirmed_at = staff.utcnow()
            return Staff(account.id, account.login, role, secret)
    return make


@pytest.fixture
def browser(app) -> Console:
    return Console(app.test_client())


@pytest.fixture
def new_browser(app):
    return lambda: Console(app.test_client())


@pytest.fixture
def residents(core) -> dict[str, int]:
    with core.db.write() as s:
        hanako = registry.create_resident(s, name="佐藤 花子", name_kana="サトウ ハナコ", birth_date=date(1990, 4, 12),
                                          district="苫前", registered_at=staff.utcnow())
        tome = registry.create_resident(s, name="田中 トメ", name_kana="タナカ トメ", birth_date=date(1938, 3, 3),
                                        district="力昼", verification="unverified")
        return {"hanako": hanako.id, "tome": tome.id}


@pytest.fixture
def audit_rows(core):
    def rows(action: str | None = None) -> list[AuditLog]:
        with core.db.session() as s:
            q = select(AuditLog).order_by(AuditLog.id)
            if action:
                q = q.where(AuditLog.action == action)
            return list(s.execute(q).scalars())
    return rows
