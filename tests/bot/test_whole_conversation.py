"""One newcomer's whole first day, as LINE would deliver it to a real server: signed webhooks to
/callback, answers through the v3 SDK to a local fake LINE server on a socket. 鈴木健太 (81, not yet
registered) adds the account, registers, gets the resident menu, claims the winter grant, checks in
at the beach clean-up and exchanges the points for vouchers. Every request the bot made to LINE is
then checked against LINE's OpenAPI spec and the SDK's models."""
from __future__ import annotations

from sqlalchemy import select

from bot import line_check
from ledger.models import Resident
from rich_menus.deploy import deploy
from tests.bot.conftest import KENTA, SENT_TYPES, check_everything_sent


def test_from_follow_to_points_exchange(bot, machi, phone, line):
    ids = deploy(bot.client, machi.config.liff_id)  # what `machi richmenu deploy` does
    bot.linker.save(ids)
    kenta = phone(KENTA)

    kenta.follow()
    assert "まちウォレットへようこそ" in kenta.text()
    assert line.store.menu_for(KENTA) == ids["guest"]

    kenta.tap("登録する")
    assert "利用規約に同意しますか" in kenta.text()
    kenta.tap("はい")
    kenta.tap("はい")
    kenta.tap("持っていない")
    kenta.say("鈴木　健太")
    kenta.say("すずき けんた")
    kenta.say("昭和２０年５月３日")
    kenta.tap("古丹別")
    kenta.say("０１６４−６４−２２１２")
    assert "1945年5月3日（昭和20年）" in kenta.text() and "0164642212" in kenta.text()
    kenta.tap("はい、送る")
    assert "登録しました" in kenta.text()
    assert line.store.menu_for(KENTA) == ids["resident"]  # linked the moment the registration is done
    with machi.db.session() as s:
        me = s.execute(select(Resident).where(Resident.line_user_id == KENTA)).scalar_one()
        assert (me.name, me.name_kana, me.district, me.phone) == ("鈴木 健太", "スズキ ケンタ", "古丹別", "0164642212")

    kenta.postback("action=grants")  # grants wait for 本人確認, as the registration said
    assert "本人確認が済むと受け取れます" in kenta.text() and "受け取る" not in str(kenta.last)
    with machi.db.write() as s:  # he shows his licence at the town office
        me.verification = "counter"
        s.merge(me)
    kenta.postback("action=grants")
    assert "冬の暮らし応援券" in kenta.text() and "10,000円" in kenta.text()
    kenta.tap("受け取る")
    kenta.tap("はい")
    assert "10,000円を受け取りました" in kenta.text()
    kenta.say("残高")
    assert "10,000円" in kenta.text()

    kenta.postback("action=points")
    kenta.tap("コードを入力")
    kenta.say("ｋａｉｇａｎ")
    assert "500ポイント" in kenta.text()
    kenta.say("ポイント交換")
    assert "何ポイント交換しますか" in kenta.text()
    kenta.say("５００")
    assert "よろしいですか" in kenta.text()
    kenta.tap("はい")
    assert "交換しました" in kenta.text()
    kenta.say("残高")
    assert "10,500円" in kenta.text()

    # everything was said in the conversation itself: no pushed notice on top of the replies
    assert line.store.requests_to("/v2/bot/message/push") == []
    sent = [r for r in line.store.requests if r.path in SENT_TYPES]
    assert len(sent) >= 20
    assert all(line_check.validate_request(r.method, r.path, r.json) == [] for r in sent)
    check_everything_sent(line.store)
