"""代理人: a recorded family member sees the elder's wallet in their own chat, accepts a grant for her
and gets her notices; every act is recorded as the proxy's for the elder; nobody else can."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from flows.transcripts import run_transcript
from ledger.models import AuditLog, Card, Entry, Resident, ResidentProxy
from ledger.services import issuing
from tests.bot.conftest import CARD_NUMBER, EMILY, HANAKO, ISAMU, WebhookEngine, texts

TRANSCRIPTS = Path(__file__).parent / "proxy_transcripts"


def _elder_id(machi) -> int:
    with machi.db.session() as s:
        return s.execute(select(Card.resident_id).where(Card.number == CARD_NUMBER)).scalar_one()


def _make_proxy(machi, proxy_line_id: str) -> tuple[int, int]:
    elder = _elder_id(machi)
    with machi.db.write() as s:
        proxy = s.execute(select(Resident.id).where(Resident.line_user_id == proxy_line_id)).scalar_one()
        s.add(ResidentProxy(resident_id=elder, proxy_resident_id=proxy, relation="孫"))
    return elder, proxy


def _play(bot, phone, path: Path) -> None:
    phones: dict = {}
    run_transcript(WebhookEngine(bot, lambda uid: phones.setdefault(uid, phone(uid))), path)


def test_proxy_sees_the_elders_wallet_and_claims_her_grant(bot, machi, phone):
    elder, proxy = _make_proxy(machi, HANAKO)
    _play(bot, phone, TRANSCRIPTS / "proxy_view.yaml")
    with machi.db.session() as s:
        grant = s.execute(select(Entry).where(Entry.kind == "grant", Entry.resident_id == elder)).scalar_one()
        assert grant.actor == f"proxy:{proxy}" and grant.amount == 10_000
        acts = s.execute(select(AuditLog.action, AuditLog.actor, AuditLog.params)
                         .where(AuditLog.action.like("proxy.%")).order_by(AuditLog.id)).all()
    assert [a for a, _, _ in acts] == ["proxy.view", "proxy.grant_claim", "proxy.view"]
    assert all(actor == f"proxy:{proxy}" and params["resident_id"] == elder for _, actor, params in acts)


def test_only_a_recorded_proxy_can_look_or_claim(bot, machi, phone):
    elder = _elder_id(machi)
    emily = phone(EMILY)
    emily.say("proxy")
    assert "not registered as anyone's proxy" in emily.text()
    isamu = phone(ISAMU)
    isamu.postback(f"flow=proxy&for={elder}")
    assert "登録されていません" in isamu.text() and "田中" not in isamu.text()
    isamu.postback(f"flow=grant_claim&program=HEAT2026&for={elder}")
    assert "代理人としては登録されていません" in isamu.text()
    with machi.db.session() as s:
        assert s.execute(select(Entry.id).where(Entry.kind == "grant", Entry.resident_id == elder)).first() is None


def test_the_proxy_gets_the_elders_grant_offer_and_notices(bot, machi, phone, line):
    elder, _proxy = _make_proxy(machi, HANAKO)
    assert bot.notifier.offer_grant("HEAT2026") >= 2
    said = "\n".join(texts(line.store.messages_to(HANAKO)))
    assert "田中 トメさんの冬の暮らし応援券" in said  # Hanako (34) is told of it for her grandmother only
    assert bot.notifier.offer_grant("HEAT2026") == 0  # never twice
    hanako = phone(HANAKO)
    hanako.last = line.store.messages_to(HANAKO)
    hanako.tap("受け取る")
    assert "（田中 トメさんの分）" in hanako.text()
    hanako.tap("はい")
    assert "受け取りました" in hanako.text()
    with machi.db.session() as s:
        assert s.execute(select(Entry.actor).where(Entry.kind == "grant", Entry.resident_id == elder)).scalar_one() \
            == f"proxy:{_proxy}"
    before = len(line.store.messages_to(HANAKO))
    issuing.issue(machi.uow, resident_id=elder, money_type="HEAT", amount=3_000, idempotency_key="staff-extra",
                  reason="grant")
    told = line.store.messages_to(HANAKO)[before:]
    assert "田中 トメさんの給付金が届きました" in "\n".join(texts(told))  # the elder's notice, labelled
    hanako.last = told
    hanako.tap("残高を見る")
    assert "田中 トメさんの残高" in hanako.text()

