"""A small town for the LIFF API: shops, staff, residents, a card and an event; LINE's ID-token
check mocked with `responses` (the verifier calls it with `requests`)."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
import responses
from sqlalchemy import select

from ledger import events, registry
from ledger.cards import issue_card, luhn_digit
from ledger.invariants import check_all
from ledger.models import Event, MoneyType
from ledger.services import issuing

CHANNEL_ID = "1234567890"
CARD = "80000000001" + luhn_digit("80000000001")
PIN = "1234"


def uid(name: str) -> str:
    return "U" + name.encode().hex().ljust(32, "0")[:32]


ALICE, EMILY, BOB, NEWBIE = uid("alice"), uid("emily"), uid("bob"), uid("newbie")
BAKER, CLERK, MULTI = uid("baker"), uid("clerk"), uid("multi")


@dataclass
class LineMock:
    """LINE's `POST /oauth2/v2.1/verify`: tokens we issued verify, everything else is refused."""

    url: str
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: int = 0
    down: bool = False

    def token(self, sub: str, *, ttl: int = 3600, aud: str = CHANNEL_ID) -> str:
        tok = f"idtok-{sub}-{len(self.tokens)}"
        self.tokens[tok] = {"iss": "https://access.line.me", "sub": sub, "aud": aud,
                            "exp": int(time.time()) + ttl, "iat": int(time.time()), "name": sub[:8]}
        return tok

    def headers(self, sub: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(sub)}"}

    def callback(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.calls += 1
        if self.down:
            return 502, {}, "bad gateway"
        form = {k: v[0] for k, v in parse_qs(request.body if isinstance(request.body, str)
                                              else request.body.decode()).items()}
        claims = self.tokens.get(form.get("id_token", ""))
        if claims is None or form.get("client_id") != CHANNEL_ID:
            return 400, {}, json.dumps({"error": "invalid_request", "error_description": "Invalid IdToken."})
        if claims["exp"] < time.time():
            return 400, {}, json.dumps({"error": "invalid_request", "error_description": "IdToken expired."})
        if claims["aud"] != form["client_id"]:
            return 400, {}, json.dumps({"error": "invalid_request", "error_description": "Invalid IdToken Audience."})
        return 200, {"Content-Type": "application/json"}, json.dumps(claims)


@pytest.fixture
def line(config) -> Iterator[LineMock]:
    mock = LineMock(url=config.line_api_host + "/oauth2/v2.1/verify")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_callback(responses.POST, mock.url, callback=mock.callback)
        yield mock


@dataclass
class Town:
    app: Any
    machi: Any
    ids: dict[str, int]
    published: list = field(default_factory=list)

    def balance(self, sub_or_resident: str | int, code: str | None = None) -> int:
        from ledger.models import Resident
        from ledger.queries import balances

        with self.machi.db.session() as s:
            r = (s.get(Resident, sub_or_resident) if isinstance(sub_or_resident, int)
                 else s.execute(select(Resident).where(Resident.line_user_id == sub_or_resident)).scalar_one())
            rows = balances(s.connection(), r.account_id)
        return sum(b.amount for b in rows if code is None or b.money_type == code)

    def give(self, resident: str, code: str, amount: int) -> None:
        issuing.issue(self.machi.uow, resident_id=self.ids[resident], money_type=code, amount=amount,
                      idempotency_key=f"give-{resident}-{code}-{amount}-{len(self.published)}-{time.time_ns()}")

    def check_invariants(self) -> None:
        self.machi.sealer.seal(self.machi.db)
        with self.machi.db.engine.connect() as conn:
            report = check_all(conn, sealer=self.machi.sealer)
        assert report.ok, report.problems


@pytest.fixture
def town(app, line) -> Town:
    machi = app.extensions["machi"]
    published: list = []
    for t in (events.PaymentCompleted, events.PaymentRefunded, events.EventCheckedIn, events.MoneyIssued):
        machi.bus.subscribe(t, published.append)
    with machi.db.write() as s:
        registry.create_money_type(s, code="COMMON", name="共通券", name_en="Voucher (any shop)", kind="prepaid",
                                   valid_until=date(2099, 3, 31))
        registry.create_money_type(s, code="LOCAL", name="専用券", name_en="Voucher (local shops)", kind="prepaid",
                                   valid_until=date(2099, 3, 31), accepted_category="small")
        registry.create_money_type(s, code="GRANT", name="給付金", name_en="Grant", kind="grant", validity_days=30)
        registry.create_money_type(s, code="PT", name="ポイント", name_en="Points", kind="point", validity_days=365)
        small = registry.create_merchant(s, code="S1", name="まちのパン屋", category="small")
        large = registry.create_merchant(s, code="L1", name="大型スーパー", category="large")
        fish = registry.create_merchant(s, code="S2", name="魚屋", category="small")
        registry.add_staff(s, "S1", BAKER, "owner")
        registry.add_staff(s, "L1", CLERK, "clerk")
        registry.add_staff(s, "S1", MULTI, "clerk")
        registry.add_staff(s, "S2", MULTI, "owner")
        alice = registry.create_resident(s, line_user_id=ALICE, name="町 花子", registered_at=datetime(2026, 1, 1),
                                         verification="counter")
        emily = registry.create_resident(s, line_user_id=EMILY, name="Emily", language="en", verification="counter")
        bob = registry.create_resident(s, line_user_id=BOB, name="町 太郎", verification="counter")
        baker_wallet = registry.create_resident(s, line_user_id=BAKER, name="パン屋 店主")
        elder = registry.create_resident(s, name="田中 トメ")
        issue_card(s, elder.id, PIN, number=CARD)
        pt = s.execute(select(MoneyType.id).where(MoneyType.code == "PT")).scalar_one()
        now = datetime.utcnow()
        s.add(Event(code="BEACH", name="海岸清掃", money_type_id=pt, points=500, starts_at=now - timedelta(hours=1),
                    ends_at=now + timedelta(hours=5), place="苫前海岸"))
        s.add(Event(code="LATER", name="秋祭り", money_type_id=pt, points=300, starts_at=now + timedelta(days=3),
                    ends_at=now + timedelta(days=4)))
        ids = {"S1": small.id, "L1": large.id, "S2": fish.id, "alice": alice.id, "emily": emily.id, "bob": bob.id,
               "baker": baker_wallet.id, "elder": elder.id}
    town = Town(app, machi, ids, published)
    town.give("alice", "COMMON", 5_000)
    town.give("alice", "LOCAL", 3_000)
    town.give("emily", "LOCAL", 2_000)
    town.give("bob", "COMMON", 1_000)
    town.give("baker", "COMMON", 1_000)
    town.give("elder", "COMMON", 4_000)
    published.clear()
    return town


def err(resp) -> dict[str, str]:
    """The error object of a refusal, after checking its shape: JSON, 4xx, code and a message."""
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.get_data(as_text=True))
    body = resp.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    assert body["error"]["code"] and body["error"]["message"], body
    return body["error"]
