"""カードで引き継ぐ: 田中トメさんのスマホが壊れ、新しいスマホのLINEからカードと暗証番号でお財布を引き継ぐ.

Through the real path (signed webhooks, the engine, the fake LINE server): a wrong PIN counts toward
the card's lock, the wallet moves with every yen, the old account is a guest at once (its
conversation forgotten, the guest menu linked) and the new one gets the resident menu."""
from __future__ import annotations

from sqlalchemy import func, select, update

from flows.state import ConversationState
from ledger.models import AuditLog, Card, Entry, Posting, Resident
from rich_menus.deploy import deploy
from tests.bot.conftest import CARD_NUMBER, CARD_PIN, HANAKO, KENTA

NEW_PHONE = "U" + "d7" * 16


def _elder(machi) -> Resident:
    with machi.db.session() as s:
        return s.execute(select(Resident).join(Card, Card.resident_id == Resident.id)
                         .where(Card.number == CARD_NUMBER)).scalar_one()


def _journal(machi) -> tuple:
    with machi.db.session() as s:
        return (s.execute(select(func.count()).select_from(Entry)).scalar_one(),
                s.execute(select(func.coalesce(func.sum(Posting.amount), 0))
                          .where(Posting.account_id == _elder(machi).account_id)).scalar_one())


def test_card_relink_moves_wallet_and_old_phone_becomes_guest(bot, machi, phone, line):
    ids = deploy(bot.client, machi.config.liff_id)
    bot.linker.save(ids)
    line.store.add_persona(NEW_PHONE, "トメ", language="ja")
    elder = _elder(machi)
    with machi.db.write() as s:  # the elder had linked her card from the phone now lost
        s.execute(update(Resident).where(Resident.id == elder.id).values(line_user_id=KENTA))
    old, new = phone(KENTA), phone(NEW_PHONE)
    old.say("残高")
    assert "残高の合計" in old.text()
    old.say("登録内容の変更")  # the lost phone was in the middle of something
    with machi.db.session() as s:
        assert s.get(ConversationState, KENTA).stack
    before = _journal(machi)

    new.say("カードで引き継ぐ")
    assert "12けたの番号" in new.text()
    new.say("8000 0000 0011")
    new.say("9999")
    assert "暗証番号が違います" in new.text() and "あと4回" in new.text()
    with machi.db.session() as s:
        assert s.execute(select(Card.failed_attempts).where(Card.number == CARD_NUMBER)).scalar_one() == 1
    new.say(CARD_PIN)
    assert "田中 トメさんのお財布を、このLINEに引き継ぎます" in new.text()
    new.tap("はい")
    assert "引き継ぎました" in new.text() and "送信取消" in new.text()

    assert _journal(machi) == before  # no entry written, the balance the same
    with machi.db.session() as s:  # the lost phone's half-done conversation is forgotten
        assert s.get(ConversationState, KENTA) is None
    new.say("残高")
    assert "残高の合計" in new.text() and "プレミアム商品券" in new.text()
    old.say("残高")
    assert "登録した方がご利用になれます" in old.text()  # a guest at once
    assert line.store.menu_for(NEW_PHONE) == ids["resident"]
    assert line.store.menu_for(KENTA) == ids["guest"]
    with machi.db.session() as s:
        assert s.get(Resident, elder.id).line_user_id == NEW_PHONE
        log = s.execute(select(AuditLog).where(AuditLog.action == "resident.relink")).scalar_one()
        assert log.params["via"] == "chat-card" and log.actor == f"resident:{elder.id}"


def test_card_relink_refusals(bot, machi, phone):
    hanako = phone(HANAKO)
    hanako.say("カードで引き継ぐ")
    hanako.say("8000 0000 0011")
    hanako.say(CARD_PIN)
    assert "すでに登録されています" in hanako.text()  # a resident's own account cannot take another wallet
    new = phone(NEW_PHONE)
    new.say("カードで引き継ぐ")
    new.say("8000 0000 0011")
    new.say(CARD_PIN)
    new.tap("いいえ")
    assert "引き継ぎはしていません" in new.text()
    assert _elder(machi).line_user_id is None
    with machi.db.session() as s:
        assert s.execute(select(func.count()).select_from(ConversationState)
                         .where(ConversationState.user_key == NEW_PHONE)).scalar_one() <= 1


def test_linking_a_card_already_on_another_line_points_to_relink(bot, machi, phone):
    elder = _elder(machi)
    with machi.db.write() as s:
        s.execute(update(Resident).where(Resident.id == elder.id).values(line_user_id=KENTA))
    new = phone(NEW_PHONE)
    for said in ("登録", "はい", "はい"):
        new.say(said)
    new.tap("カードを持っている")
    new.say("8000 0000 0011")
    new.say(CARD_PIN)
    assert "「カードで引き継ぐ」と送ると" in new.text()
    new.say("カードで引き継ぐ")
    assert "12けたの番号" in new.text()
