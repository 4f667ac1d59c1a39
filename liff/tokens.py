"""What the QR codes hold, kept short so they fit a small QR that an old phone camera reads fast.

- customer QR (CPM): `MW1.<payload>.<time>.<signature>` — itsdangerous, signed with the QR key derived
  from MACHI_SECRET_KEY (`Config.derived_key("qr")`, never the raw secret),
  bound to the wallet (resident id) and carrying a random token id; valid 60 seconds; the id is
  spent as a ledger nonce inside the payment's transaction, so it pays once.
- shop QR (MPM, printed on the poster): `MWS.<merchant code>`, or a URL whose query has `shop=<code>`
  (what the poster prints, so a phone camera opens the scan page with the shop already chosen).
- card QR: the 12-digit card number (last digit a Luhn check digit).
- event QR: `MWE.<event code>`, a URL with `code=<code>`, or the code typed by hand; for an event
  marked rotating, the venue screen's `MWE.<code>.<step>.<sig>` or a URL with `code=<code>&t=<step>.<sig>`
  (ledger/event_codes.py checks the rotating part).
"""
from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner

from liff import errors

CPM_PREFIX = "MW1."
SHOP_PREFIX = "MWS."
EVENT_PREFIX = "MWE."
CPM_TTL_SECONDS = 60
CPM_SALT = "machi-cpm-v1"
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_FULLWIDTH = str.maketrans("０１２３４５６７８９ー－", "0123456789--")


@dataclass(frozen=True)
class CpmToken:
    resident_id: int
    token_id: str
    issued_at: float

    @property
    def nonce(self) -> str:
        """The ledger nonce that marks this token as spent."""
        return f"cpm:{self.token_id}"


class CpmTokens:
    """Makes and checks customer payment QR tokens. `clock` is replaceable so tests can age a token."""

    def __init__(self, secret_key: str | bytes, *, ttl: int = CPM_TTL_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        self.ttl = ttl
        self.clock = clock
        outer = self

        class _Signer(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(outer.clock())

        # HMAC-SHA1 (itsdangerous' default) keeps the code short; as a MAC it is still sound.
        self._serializer = URLSafeTimedSerializer(secret_key, salt=CPM_SALT, signer=_Signer)

    def issue(self, resident_id: int) -> tuple[str, CpmToken]:
        token_id = secrets.token_urlsafe(9)
        text = CPM_PREFIX + self._serializer.dumps([resident_id, token_id])
        return text, CpmToken(resident_id, token_id, float(int(self.clock())))

    def read(self, text: str, *, allow_expired: bool = False) -> CpmToken:
        """The token's wallet and id; expired, altered or foreign codes are refused with what to do."""
        if not isinstance(text, str) or not text.startswith(CPM_PREFIX) or len(text) > 200:
            raise errors.token_invalid()
        body = text[len(CPM_PREFIX):]
        try:
            value, issued = self._serializer.loads(body, max_age=self.ttl, return_timestamp=True)
        except SignatureExpired as exc:
            if not allow_expired:
                raise errors.token_expired() from exc
            value, issued = exc.payload, exc.date_signed
            value = self._serializer.load_payload(value) if isinstance(value, bytes) else value
        except BadData as exc:
            raise errors.token_invalid() from exc
        if (not isinstance(value, list) or len(value) != 2 or not isinstance(value[0], int)
                or isinstance(value[0], bool) or not isinstance(value[1], str)):
            raise errors.token_invalid()
        if issued.timestamp() > self.clock() + 5:
            raise errors.token_invalid()  # signed "in the future": not one of ours
        return CpmToken(value[0], value[1], issued.timestamp())


def shop_payload(merchant_code: str) -> str:
    return SHOP_PREFIX + merchant_code


def shop_code_from(text: str) -> str | None:
    """The merchant code in a scanned shop QR (`MWS.M001` or a URL with `shop=M001`), else None."""
    text = (text or "").strip()
    if text.upper().startswith(SHOP_PREFIX):
        code = text[len(SHOP_PREFIX):]
    elif text.startswith(("https://", "http://")):
        code = _query_value(text, "shop")
    else:
        code = text
    return code if code and _CODE.match(code) else None


def event_code_from(text: str) -> str | None:
    """The event code in a scanned or typed check-in code, upper-cased, else None."""
    found = event_scan_from(text)
    return found[0] if found else None


def event_scan_from(text: str) -> tuple[str, str | None] | None:
    """(event code, rotating part or None) of a scanned or typed check-in code, else None.

    `MWE.KAIGAN.1234.abcdef012345` and `…/checkin?code=KAIGAN&t=1234.abcdef012345` carry a rotating
    part; `MWE.KAIGAN`, `…?code=KAIGAN` and `kaigan` do not. A malformed rotating part is kept as is
    (so a rotating event refuses it with its own message) but never makes a plain code unreadable."""
    text = (text or "").translate(_FULLWIDTH).strip()
    token: str | None = None
    if text.upper().startswith(EVENT_PREFIX):
        text, _, token = text[len(EVENT_PREFIX):].partition(".")
    elif text.startswith(("https://", "http://")):
        token = _query_value(text, "t")
        text = _query_value(text, "code") or ""
    text = text.strip().upper()
    if not _CODE.match(text) or (token is not None and len(token) > 40):
        return None
    return text, (token or None)


def card_number_from(text: str) -> str | None:
    """Digits of a card QR or a typed number (spaces, hyphens, full-width digits allowed), else None."""
    raw = (text or "").translate(_FULLWIDTH)
    if not re.fullmatch(r"[0-9\s-]{12,20}", raw):  # ASCII digits: `\d` would take "٣" too
        return None
    digits = re.sub(r"[^0-9]", "", raw)
    return digits if len(digits) == 12 else None


def _query_value(url: str, name: str) -> str | None:
    try:
        values = parse_qs(urlsplit(url).query).get(name)
    except ValueError:
        return None
    return values[0] if values else None


def shop_url(merchant_code: str, *, liff_id: str, public_url: str, dev: bool = False) -> str:
    """The shop poster's QR: `https://liff.line.me/<LIFF_ID>/scan?shop=<code>` opens LINE straight
    on the scan page with the shop chosen; in dev (no LINE) the page's own URL does the same."""
    if dev:
        return f"{public_url.rstrip('/')}/liff/scan?shop={merchant_code}"
    return f"https://liff.line.me/{liff_id}/scan?shop={merchant_code}"
