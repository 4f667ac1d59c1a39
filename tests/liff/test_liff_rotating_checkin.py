"""An event marked rotating (`machi event create --rotating`) takes only the live code of its venue
screen: the plain code, `MWE.<code>`, a URL without a live `t=`, an old or forged code are refused."""
from __future__ import annotations

import time
from datetime import datetime, timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import select

from ledger.event_codes import RotatingCodes
from ledger.models import Event, MoneyType
from ledger.services import checkins
from tests.liff.conftest import ALICE, BOB, EMILY, err


@pytest.fixture
def screen(town, config):
    """The SCREEN event (rotating) and the codes its venue screen shows (same secret as the server)."""
    with town.machi.db.write() as s:
        pt = s.execute(select(MoneyType.id).where(MoneyType.code == "PT")).scalar_one()
        now = datetime.utcnow()
        s.add(Event(code="SCREEN", name="防災訓練", money_type_id=pt, points=200, starts_at=now - timedelta(hours=1),
                    ends_at=now + timedelta(hours=2), rotating=True))
    return RotatingCodes(config.secret_key)


def check_in(client, line, body, sub=ALICE):
    return client.post("/api/checkins", headers=line.headers(sub), json=body)


def test_the_live_screen_code_is_accepted(client, town, line, screen):
    resp = check_in(client, line, {"code": screen.payload("SCREEN")})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["checkin"]["points"] == 200 and town.balance(ALICE, "PT") == 200
    url = f"https://liff.line.me/1234567890-devliff/checkin?code=SCREEN&t={screen.token('SCREEN')}"
    assert check_in(client, line, {"code": url}, sub=BOB).status_code == 201  # the screen's URL form
    assert check_in(client, line, {"code": "SCREEN", "t": screen.token("SCREEN")}, sub=EMILY).status_code == 201
    town.check_invariants()


def test_the_code_of_the_step_before_still_works(client, town, line, screen):
    just_before = screen.payload("SCREEN", now=time.time() - screen.period)
    assert check_in(client, line, {"code": just_before}).status_code == 201


@pytest.mark.parametrize("make", [
    lambda c: "SCREEN",
    lambda c: "screen",
    lambda c: "MWE.SCREEN",
    lambda c: "https://example.jp/liff/checkin?code=SCREEN",
    lambda c: "https://example.jp/liff/checkin?code=SCREEN&t=",
    lambda c: c.payload("SCREEN", now=time.time() - 3 * c.period),  # a photo from a minute and a half ago
    lambda c: c.payload("SCREEN", now=time.time() + 5 * c.period),  # from the future
    lambda c: c.payload("SCREEN")[:-1] + ("0" if c.payload("SCREEN")[-1] != "0" else "1"),  # altered
    lambda c: RotatingCodes("another-town's-secret").payload("SCREEN"),  # forged with another key
    lambda c: "MWE.SCREEN." + c.token("BEACH"),  # another event's live part
    lambda c: "MWE.SCREEN.99999999999999.abcdef012345",
    lambda c: "MWE.SCREEN.x.y",
])
def test_plain_old_and_forged_codes_are_refused_in_japanese(client, town, line, screen, make):
    code = make(screen)
    e = err(check_in(client, line, {"code": code}))
    assert e["code"] in ("screen_code_required", "invalid_input"), e
    assert "会場の画面" in e["message"] or "コード" in e["message"]
    assert town.balance(ALICE, "PT") == 0


def test_the_plain_code_is_refused_with_what_to_do(client, town, line, screen):
    e = err(check_in(client, line, {"code": "SCREEN"}))
    assert e["code"] == "screen_code_required"
    assert "会場の画面" in e["message"] and "30秒ごと" in e["message"]
    e_en = err(check_in(client, line, {"code": "MWE.SCREEN"}, sub=EMILY))
    assert e_en["message"].startswith("This event takes check-ins from the QR code on the screen")


def test_the_event_preview_refuses_the_plain_code_too(client, town, line, screen):
    e = err(client.get("/api/events/SCREEN", headers=line.headers(ALICE)))
    assert e["code"] == "screen_code_required"
    ok = client.get("/api/events/" + quote(screen.payload("SCREEN")), headers=line.headers(ALICE))
    assert ok.status_code == 200 and ok.get_json()["rotating"] is True


def test_static_events_still_take_their_plain_code(client, town, line, screen):
    assert check_in(client, line, {"code": "MWE.BEACH"}).status_code == 201


def test_the_chat_cannot_check_in_to_a_rotating_event_by_typing(town, screen):
    """The ledger's own rule: no token and no checker (a typed code in the chat) is refused."""
    from ledger.errors import ScreenCodeRequired

    with pytest.raises(ScreenCodeRequired):
        checkins.check_in(town.machi.uow, event_code="SCREEN", resident_id=town.ids["alice"])
    with pytest.raises(ScreenCodeRequired):
        checkins.check_in(town.machi.uow, event_code="SCREEN", resident_id=town.ids["alice"],
                          token=screen.token("SCREEN"), codes=RotatingCodes("not-the-server's-key"))
    res = checkins.check_in(town.machi.uow, event_code="SCREEN", resident_id=town.ids["alice"],
                            token=screen.token("SCREEN"), codes=screen)
    assert res.amount == 200


def test_a_rotating_event_poster_shows_no_code_to_type(tmp_path):
    from tests.admin_cli.conftest import pdf_text
    from town import event_qr

    now = datetime(2026, 12, 1, 0, 0)
    rotating = tmp_path / "rotating.pdf"
    rotating.write_bytes(event_qr.poster_pdf("防災訓練", "SCREEN", "", 200, now, now + timedelta(hours=3), None))
    static = tmp_path / "static.pdf"
    static.write_bytes(event_qr.poster_pdf("海岸清掃", "BEACH", "", 500, now, now + timedelta(hours=3),
                                           "https://liff.line.me/x/checkin?code=BEACH"))
    assert "SCREEN" not in pdf_text(rotating) and "会場の画面" in pdf_text(rotating)
    assert "BEACH" in pdf_text(static)


def test_the_venue_screen_shows_a_code_the_server_accepts(client, town, line, screen, config):
    from admin_cli import event_screen
    from town import event_qr

    page = event_screen.screen_app("防災訓練", "SCREEN", config.secret_key).test_client().get("/").get_data(as_text=True)
    assert "<svg" in page
    live = event_qr.rotating_payload("SCREEN", config.secret_key)
    assert event_qr.verify_rotating(live, config.secret_key) == "SCREEN"
    assert check_in(client, line, {"code": live}).status_code == 201
