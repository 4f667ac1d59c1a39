"""Town office staff accounts for the console (管理画面): separate from residents, never LINE users.

An account is made with a one-time sign-in link (a random token stored only as its SHA-256, valid
for 72 hours, used once) where the person sets a password (argon2). Roles that move money (管理者,
職員, 商工会) must add a TOTP second factor (pyotp) on their first sign-in. Five failed attempts in
a row lock the account for 15 minutes; the count is kept on the row under a row lock, never read
earlier. `session_gen` is the sessions' generation: raising it signs the account out everywhere.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import BigInteger, Boolean, DateTime, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger.clock import utcnow
from ledger.db import Base, Database
from ledger.errors import AlreadyDone, InvalidInput, NotFound
from ledger.models import AuditLog
from ledger.models._types import pk

ADMIN, STAFF, COUNTER, CHAMBER, VIEWER = "admin", "staff", "counter", "chamber", "viewer"
ROLE_JA = {ADMIN: "管理者", STAFF: "職員", COUNTER: "窓口", CHAMBER: "商工会", VIEWER: "閲覧"}
ROLE_BY_JA = {ja: code for code, ja in ROLE_JA.items()}
MONEY_ROLES = frozenset({ADMIN, STAFF, CHAMBER})  # these need a second factor
MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
LINK_VALID_FOR = timedelta(hours=72)
MIN_PASSWORD = 10
ISSUER = "まちウォレット"

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password anyone has")


class StaffAccount(Base):
    """One person of the town office or the chamber of commerce (商工会) who signs in to the console."""

    __tablename__ = "staff_accounts"
    id: Mapped[pk]
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # a code is good once: no replay
    link_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    link_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    session_gen: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def needs_totp(self) -> bool:
        return self.role in MONEY_ROLES or self.totp_confirmed_at is not None

    @property
    def role_ja(self) -> str:
        return ROLE_JA.get(self.role, self.role)


@dataclass(frozen=True)
class SignIn:
    """The outcome of a password check: `ok`, or why not (`locked`, `wrong`)."""

    ok: bool
    staff_id: int | None = None
    reason: str = ""
    locked_until: datetime | None = None


def parse_role(text: str) -> str:
    """管理者 / 職員 / 窓口 / 商工会 / 閲覧 (or the code) to the stored code."""
    text = text.strip()
    if text in ROLE_BY_JA:
        return ROLE_BY_JA[text]
    if text in ROLE_JA:
        return text
    raise InvalidInput("役割は 管理者・職員・窓口・商工会・閲覧 のいずれかです。")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(s: Session, login: str, name: str, role: str, now: datetime | None = None) -> tuple[StaffAccount, str]:
    """A new account and its one-time sign-in link token (returned once, stored hashed)."""
    login, name = login.strip(), name.strip()
    if not login or not login.isascii() or not login.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise InvalidInput("ログイン名は半角英数字（- _ . も可）で入れてください。")
    if not name:
        raise InvalidInput("氏名を入れてください。")
    role = parse_role(role)
    if s.execute(select(StaffAccount.id).where(StaffAccount.login == login)).first():
        raise AlreadyDone(f"ログイン名「{login}」はすでに使われています。")
    account = StaffAccount(login=login, name=name, role=role)
    s.add(account)
    token = new_link(account, now)
    s.flush()
    return account, token


def new_link(account: StaffAccount, now: datetime | None = None) -> str:
    """Replace any earlier link with a fresh one-time token (for a forgotten password, too)."""
    token = secrets.token_urlsafe(32)
    account.link_hash, account.link_expires_at = _digest(token), (now or utcnow()) + LINK_VALID_FOR
    return token


def account_for_link(s: Session, token: str, now: datetime | None = None) -> StaffAccount | None:
    """The account a link belongs to while it is unused and in time; None otherwise."""
    account = s.execute(select(StaffAccount).where(StaffAccount.link_hash == _digest(token))).scalar()
    if account is None or not account.active or account.link_expires_at is None:
        return None
    return account if account.link_expires_at > (now or utcnow()) else None


def set_password(s: Session, account: StaffAccount, password: str, confirm: str) -> None:
    """Set the password through a link: the link is spent, every earlier session ends, the lock lifts."""
    check_password_rules(password, confirm)
    account.password_hash = _hasher.hash(password)
    account.link_hash = account.link_expires_at = None
    account.failures, account.locked_until = 0, None
    account.session_gen += 1


def check_password_rules(password: str, confirm: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"パスワードは{MIN_PASSWORD}文字以上にしてください。", field="password")
    if password != confirm:
        raise InvalidInput("確認用のパスワードが一致しません。", field="confirm")


def _locked(account: StaffAccount, now: datetime) -> bool:
    return account.locked_until is not None and account.locked_until > now


def _fail(account: StaffAccount, now: datetime) -> SignIn:
    """Count a failure on the locked row; the fifth in a row locks the account."""
    account.failures = (0 if account.locked_until and account.locked_until <= now else account.failures) + 1
    if account.failures >= MAX_FAILURES:
        account.locked_until, account.failures = now + LOCK_FOR, 0
        return SignIn(False, account.id, "locked", account.locked_until)
    return SignIn(False, account.id, "wrong")


def _for_update(s: Session, **where: Any) -> StaffAccount | None:
    q = select(StaffAccount).filter_by(**where).with_for_update()
    return s.execute(q).scalar()


def verify_password(db: Database, login: str, password: str, now: datetime | None = None) -> SignIn:
    """Check a password; counts failures and honours the lock inside one transaction."""
    now = now or utcnow()
    with db.write() as s:
        account = _for_update(s, login=login.strip())
        if account is None or not account.active or account.password_hash is None:
            _check(_DUMMY_HASH, password)  # the same time whether or not the login exists
            return SignIn(False, reason="wrong")
        if _locked(account, now):
            return SignIn(False, account.id, "locked", account.locked_until)
        if not _check(account.password_hash, password):
            return _fail(account, now)
        if not account.needs_totp:
            _signed_in(account, now)
        return SignIn(True, account.id)


def _check(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _signed_in(account: StaffAccount, now: datetime) -> None:
    account.failures, account.locked_until, account.last_sign_in_at = 0, None, now


def start_totp(db: Database, staff_id: int) -> str:
    """A secret for a money role's first sign-in (kept until confirmed with a code; reused if reloaded)."""
    with db.write() as s:
        account = _for_update(s, id=staff_id)
        if account is None:
            raise NotFound("アカウントが見つかりません。")
        if account.totp_confirmed_at is not None:
            raise AlreadyDone("二段階認証はすでに設定されています。")
        if account.totp_secret is None:
            account.totp_secret = pyotp.random_base32()
        return account.totp_secret


def provisioning_uri(secret: str, login: str) -> str:
    """What the authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=login, issuer_name=ISSUER)


def verify_totp(db: Database, staff_id: int, code: str, now: datetime | None = None) -> SignIn:
    """Check a 6-digit code (setting up or signing in); wrong codes count toward the lock like passwords."""
    now = now or utcnow()
    code = "".join(code.split())
    with db.write() as s:
        account = _for_update(s, id=staff_id)
        if account is None or not account.active or account.totp_secret is None:
            return SignIn(False, reason="wrong")
        if _locked(account, now):
            return SignIn(False, account.id, "locked", account.locked_until)
        step = _matching_step(account.totp_secret, code, now)
        if step is None or (account.totp_last_step is not None and step <= account.totp_last_step):
            return _fail(account, now)
        account.totp_last_step = step
        if account.totp_confirmed_at is None:
            account.totp_confirmed_at = now
        _signed_in(account, now)
        return SignIn(True, account.id)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The 30-second step a 6-digit code belongs to (this one or a neighbour, for clock drift)."""
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    at = now.replace(tzinfo=UTC)
    step = totp.timecode(at)
    for candidate in (step, step - 1, step + 1):
        if secrets.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def lock(db: Database, login: str, now: datetime | None = None, minutes: int = 15) -> None:
    """Lock an account by hand (e.g. a lost phone) and end its sessions."""
    now = now or utcnow()
    with db.write() as s:
        account = _for_update(s, login=login)
        if account is None:
            raise NotFound(f"ログイン名「{login}」の職員はいません。")
        account.locked_until = now + timedelta(minutes=minutes)
        account.session_gen += 1


def sign_out_everywhere(db: Database, staff_id: int) -> None:
    """Every session of this account, on every device, ends at its next request."""
    with db.write() as s:
        account = _for_update(s, id=staff_id)
        if account is not None:
            account.session_gen += 1


def current(db: Database, staff_id: int) -> StaffAccount | None:
    """The account as a session sees it (None if gone or inactive)."""
    with db.session() as s:
        account = s.get(StaffAccount, staff_id)
        return account if account is not None and account.active else None


def record(db: Database, actor: str, action: str, params: dict[str, Any], result: str = "") -> None:
    """One row of the audit log for a console action or a view of a resident's page."""
    with db.write() as s:
        s.add(AuditLog(actor=actor[:64], action=action[:64], params=params, result=result[:400]))


def demo_account(s: Session, password: str, totp_secret: str) -> StaffAccount:
    """The demo town's administrator, ready to sign in (dev only: the caller prints the secrets)."""
    account = StaffAccount(login="admin", name="デモ 管理者", role=ADMIN, password_hash=_hasher.hash(password),
                           totp_secret=totp_secret, totp_confirmed_at=utcnow())
    s.add(account)
    s.flush()
    return account


def reissue_link(db: Database, login: str, now: datetime | None = None) -> str:
    """A fresh one-time link for an existing account (the old one stops working)."""
    with db.write() as s:
        account = _for_update(s, login=login.strip())
        if account is None:
            raise NotFound(f"ログイン名「{login}」の職員はいません。")
        return new_link(account, now)
