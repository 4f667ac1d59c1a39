"""The demo town: a small Tomamae with stable LINE user ids, so anyone can drive the bot and the API.

The README lists the personas. Seeding is refused on a database that already has residents.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger import registry
from ledger.cards import issue_card, luhn_digit
from ledger.clock import jst_midnight_utc, today_jst, utcnow
from ledger.errors import AlreadyDone
from ledger.models import District, Event, GrantProgram, MoneyType, Resident, SaleOffer, Segment
from ledger.policy import Policy
from ledger.services import checkins, payments, sales
from ledger.services import issuing as issuing_svc
from ledger.uow import UnitOfWork
from town import staff
from town.core import TownCore


def uid(n: int, prefix: str = "") -> str:
    """A stable, valid-looking LINE user id: U + 32 hex digits."""
    body = f"{prefix}{n:04d}"
    return "U" + body.rjust(32, "0")


@dataclass(frozen=True)
class Persona:
    key: str
    line_user_id: str
    name: str
    role: str


HANAKO = Persona("hanako", uid(1), "佐藤 花子（34歳・出産したばかり）", "resident")
ISAMU = Persona("isamu", uid(2), "高橋 勇（72歳・ボランティア常連）", "resident")
EMILY = Persona("emily", uid(3), "Emily Walker（29歳・英語表示・地域おこし協力隊）", "resident")
KENTA = Persona("kenta", uid(901, "f"), "鈴木 健太（未登録・これから登録）", "guest")
BAKER = Persona("baker", uid(1, "b"), "こむぎベーカリー 店主", "shop")
ACOOP_CLERK = Persona("acoop", uid(2, "b"), "Aコープ苫前店 店員", "shop")
STAFF = Persona("staff", uid(1, "c"), "役場 産業振興課 職員", "staff")
PERSONAS = [HANAKO, ISAMU, EMILY, KENTA, BAKER, ACOOP_CLERK, STAFF]
CARD_ELDER_NAME = "田中 トメ（88歳・スマホなし、カード払い）"
CARD_ELDER_PIN = "1234"
CARD_ELDER_NUMBER = "80000000001" + luhn_digit("80000000001")
# The console's demo administrator (dev only: made and printed only when MACHI_ENV=dev)
DEMO_ADMIN_LOGIN = "admin"
DEMO_ADMIN_PASSWORD = "demo-machi-2026"
DEMO_ADMIN_TOTP = "JBSWY3DPEHPK3PXPMACHIDEMOTOMAMAE"

DISTRICTS = ["苫前", "古丹別", "力昼", "上平", "九重", "香川"]
DISTRICTS_EN = {"苫前": "Tomamae", "古丹別": "Kotanbetsu", "力昼": "Rikibiru", "上平": "Uwabira", "九重": "Kokonoe",
                "香川": "Kagawa", "その他": "Other"}
SHOPS = [
    # code, name, kana, category, fee bp, owner persona / clerk
    ("M001", "こむぎベーカリー", "ｺﾑｷﾞﾍﾞｰｶﾘｰ", "small", 100),
    ("M002", "Aコープ苫前店", "ｴｰｺｰﾌﾟﾄﾏﾏｴﾃﾝ", "large", 200),
    ("M003", "古丹別商店", "ｺﾀﾝﾍﾞﾂｼﾖｳﾃﾝ", "small", 100),
    ("M004", "苫前鮮魚店", "ﾄﾏﾏｴｾﾝｷﾞﾖﾃﾝ", "small", 100),
    ("M005", "風車カフェ", "ﾌｳｼﾔｶﾌｴ", "small", 100),
    ("M006", "理容とままえ", "ﾘﾖｳﾄﾏﾏｴ", "small", 100),
    ("M007", "セイコーマート苫前店", "ｾｲｺｰﾏｰﾄﾄﾏﾏｴﾃﾝ", "large", 200),
    ("M008", "とままえ温泉ふわっと", "ﾄﾏﾏｴｵﾝｾﾝﾌﾜﾂﾄ", "small", 100),
]
FAMILY = ["佐藤", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田", "佐々木"]
GIVEN = ["花子", "勇", "トメ", "一郎", "和子", "正", "幸子", "誠", "美咲", "翔太", "陽菜", "大輔", "恵子", "茂",
         "節子", "博", "智子", "健", "千代", "浩"]


def _resident_rows(today: date) -> list[dict]:
    """~30 residents of varied ages and districts; the first three are personas."""
    rows = [
        dict(line_user_id=HANAKO.line_user_id, name="佐藤 花子", name_kana="サトウ ハナコ",
             birth_date=date(today.year - 34, 4, 12), district="苫前", household_code="H001", household_size=3,
             children=1, verification="counter"),
        dict(line_user_id=ISAMU.line_user_id, name="高橋 勇", name_kana="タカハシ イサム",
             birth_date=date(today.year - 72, 9, 1), district="古丹別", household_code="H002", household_size=2,
             verification="counter"),
        dict(line_user_id=EMILY.line_user_id, name="Emily Walker", name_kana="エミリー ウォーカー",
             birth_date=date(today.year - 29, 1, 20), district="苫前", household_code="H003", household_size=1,
             language="en", verification="mynumber"),
    ]
    for i in range(4, 31):
        age = 18 + (i * 7) % 72
        rows.append(dict(
            line_user_id=uid(i), name=f"{FAMILY[i % len(FAMILY)]} {GIVEN[i % len(GIVEN)]}",
            name_kana="デモ ジュウミン", birth_date=date(today.year - age, 1 + i % 12, 1 + i % 28),
            district=DISTRICTS[i % len(DISTRICTS)], household_code=f"H{i:03d}", household_size=1 + i % 4,
            children=1 if i % 9 == 0 else 0, verification="counter" if i % 3 else "unverified"))
    return rows


def has_residents(core: TownCore) -> bool:
    with core.db.session() as s:
        return bool(s.execute(select(func.count()).select_from(Resident)).scalar_one())


def seed(core: TownCore, now: datetime | None = None) -> dict[str, object]:
    """Build the demo town. Returns what the README and the simulator need (card number, ids)."""
    now = now or utcnow()
    today = today_jst(now)
    if has_residents(core):
        raise AlreadyDone("デモの町はすでに作成されています（空のデータベースで実行してください）。")
    fiscal_end = date(today.year + (1 if today.month >= 4 else 0), 3, 31)
    with core.db.write() as s:
        registry.create_money_type(s, code="PREM", name="プレミアム商品券（共通券）", name_en="Premium voucher (any shop)",
                                   kind="prepaid", valid_until=fiscal_end)
        registry.create_money_type(s, code="PREM_LOCAL", name="プレミアム商品券（専用券）",
                                   name_en="Premium voucher (local shops only)", kind="prepaid",
                                   valid_until=fiscal_end, accepted_category="small")
        registry.create_money_type(s, code="BIRTH", name="出産祝い給付金", name_en="Childbirth grant", kind="grant",
                                   validity_days=365)
        registry.create_money_type(s, code="HEAT", name="冬の暮らし応援券", name_en="Winter support grant",
                                   kind="grant", validity_days=120)
        registry.create_money_type(s, code="VOL", name="ボランティアポイント", name_en="Volunteer points",
                                   kind="point", validity_days=730)
        registry.create_money_type(s, code="TOUR", name="観光クーポン", name_en="Tourist coupon", kind="coupon",
                                   validity_days=60)
        registry.add_exchange_rule(s, "VOL", "PREM", 500, 500)
        s.add_all([District(name=name, name_en=name_en) for name, name_en in DISTRICTS_EN.items()])
        for code, name, kana, category, fee in SHOPS:
            registry.create_merchant(s, code=code, name=name, name_kana=kana, category=category, fee_rate_bp=fee,
                                     bank_code="1022", branch_code="007", account_type="1",
                                     account_number=f"{1000000 + int(code[1:]) * 1111:07d}",
                                     account_holder_kana=kana)
        registry.add_staff(s, "M001", BAKER.line_user_id, "owner", "小麦 太郎")
        registry.add_staff(s, "M002", ACOOP_CLERK.line_user_id, "clerk", "店員 さくら")
        for i, (code, *_rest) in enumerate(SHOPS[2:], start=3):
            registry.add_staff(s, code, uid(i, "b"), "owner", "")
        residents = [registry.create_resident(s, registered_at=now - timedelta(days=60 - i),
                                              terms_consented_at=now - timedelta(days=60 - i),
                                              privacy_consented_at=now - timedelta(days=60 - i), **row)
                     for i, row in enumerate(_resident_rows(today))]
        elder = registry.create_resident(s, name="田中 トメ", name_kana="タナカ トメ",
                                         birth_date=date(today.year - 88, 3, 3), district="力昼",
                                         household_code="H099", household_size=1, verification="counter",
                                         registered_at=now - timedelta(days=30))
        card = issue_card(s, elder.id, CARD_ELDER_PIN, number=CARD_ELDER_NUMBER)
        parents = Segment(name="新生児のいる世帯", description="子どもが生まれた世帯（出産祝い給付金の対象）",
                          criteria={"min_children": 1, "age_max": 50})
        seniors = Segment(name="70歳以上", description="冬の暮らし応援券の対象", criteria={"age_min": 70})
        s.add_all([parents, seniors])
        s.flush()
        ids = {mt: _mt_id(s, mt) for mt in ("BIRTH", "HEAT", "VOL")}
        s.add(GrantProgram(code="BIRTH2026", name="出産祝い給付金", name_en="Childbirth grant",
                           money_type_id=ids["BIRTH"], amount=50_000, mode="push", segment_id=parents.id,
                           budget_cap=5_000_000))
        s.add(GrantProgram(code="HEAT2026", name="冬の暮らし応援券", name_en="Winter support grant",
                           money_type_id=ids["HEAT"], amount=10_000, mode="claim", segment_id=seniors.id,
                           starts_at=now - timedelta(days=1), ends_at=jst_midnight_utc(today + timedelta(days=90)),
                           budget_cap=20_000_000))
        s.add(Event(code="KAIGAN", name="海岸清掃ボランティア", name_en="Beach clean-up (volunteer)",
                    money_type_id=ids["VOL"], points=500, starts_at=now - timedelta(hours=1),
                    ends_at=now + timedelta(days=7), capacity=100, place="苫前海岸", place_en="Tomamae beach"))
        s.add(SaleOffer(code="PREM2026", name="とままえプレミアム商品券2026", name_en="Tomamae premium vouchers 2026",
                        price=10_000,
                        components={"PREM": 6_500, "PREM_LOCAL": 6_500}, per_resident_limit=5))
        s.add(SaleOffer(code="PREM2026B", name="プレミアム商品券 第2弾（抽選）",
                        name_en="Premium vouchers, second round (lottery)", price=10_000,
                        components={"PREM": 6_500, "PREM_LOCAL": 6_500}, per_resident_limit=2, total_sets=300,
                        lottery=True, starts_at=now - timedelta(days=1),
                        ends_at=jst_midnight_utc(today + timedelta(days=14))))
        resident_ids = [r.id for r in residents]
        elder_id, card_number = elder.id, card.number
        if core.config.is_dev:
            staff.demo_account(s, DEMO_ADMIN_PASSWORD, DEMO_ADMIN_TOTP)
    _history(core, resident_ids, elder_id, now)
    core.sealer.seal(core.db)
    return {"card_number": card_number, "card_pin": CARD_ELDER_PIN, "residents": len(resident_ids) + 1,
            "console_admin": core.config.is_dev}


def _mt_id(s: Session, code: str) -> int:
    return s.execute(select(MoneyType.id).where(MoneyType.code == code)).scalar_one()


def _history(core: TownCore, resident_ids: list[int], elder_id: int, now: datetime) -> None:
    """A few weeks of sales, payments and points, so balances and reports are not empty."""
    shops = {code: i + 1 for i, (code, *_r) in enumerate(SHOPS)}
    for day in range(20, 0, -1):
        at = now - timedelta(days=day, hours=3)
        uow = UnitOfWork(core.db, core.bus, Policy(), clock=lambda at=at: at)
        for n, rid in enumerate(resident_ids):
            if day == 20 and n % 2 == 0:
                sales.sell(uow, resident_id=rid, offer_code="PREM2026", sets=1 + n % 2, idempotency_key=f"demo-sale-{rid}")
            if day == 20 and n % 5 == 1:
                issuing_svc.issue(uow, resident_id=rid, money_type="VOL", amount=500 * (1 + n % 3),
                                  idempotency_key=f"demo-vol-{rid}", reason="points", ref="demo", actor="demo")
            if day < 20 and n % 2 == 0 and (n + day) % 4 == 0:
                code = list(shops)[(n + day) % len(shops)]
                try:
                    payments.pay(uow, resident_id=rid, merchant_code=code, amount=300 + (n * 137 + day * 53) % 2700,
                                 idempotency_key=f"demo-pay-{rid}-{day}", channel="cpm" if day % 2 else "mpm")
                except Exception:  # noqa: BLE001,S112 - a demo resident who ran out simply stops paying
                    continue
        if day == 10:
            sales.sell(uow, resident_id=elder_id, offer_code="PREM2026", sets=1, idempotency_key="demo-sale-elder")
    uow_now = UnitOfWork(core.db, core.bus, Policy(), clock=lambda: now - timedelta(minutes=30))
    checkins.check_in(uow_now, event_code="KAIGAN", resident_id=resident_ids[1])
