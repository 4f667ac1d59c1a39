"""Resident search (name, kana in any script and width, birth date), the audited resident page, the
counter's 本人確認済みにする, and bad input answered beside the field with nothing changed."""
from __future__ import annotations

import pytest

from ledger.models import Resident
from town.staff import COUNTER

SEARCH = "/console/residents"


@pytest.fixture
def counter(browser, make_staff):
    who = make_staff(COUNTER)
    browser.sign_in(who)
    return who


@pytest.mark.parametrize("kana", ["タナカ", "たなか", "ﾀﾅｶ", "たなかとめ", "タナカ　トメ"])
def test_kana_in_any_script_or_width_finds_the_resident(browser, counter, residents, kana):
    r = browser.post(SEARCH, {"kana": kana}, page=SEARCH)
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "検索結果 1 件" in body and ">田中 トメ</a>" in body and ">佐藤 花子</a>" not in body


def test_name_and_birth_date_narrow_the_search(browser, counter, residents):
    body = browser.post(SEARCH, {"name": "佐藤", "birth": "1990/4/12"}, page=SEARCH).get_data(as_text=True)
    assert "佐藤 花子" in body and "検索結果 1 件" in body
    none = browser.post(SEARCH, {"name": "佐藤", "birth": "1990-04-13"}, page=SEARCH).get_data(as_text=True)
    assert "該当する方はいません" in none


@pytest.mark.parametrize("form, field, message", [
    ({}, "name", "どれかを入れてください"),
    ({"birth": "昨日"}, "birth", "生年月日は 1938-03-03 のように"),
    ({"birth": "1990-02-30"}, "birth", "生年月日は 1938-03-03 のように"),
    ({"kana": "tanaka"}, "kana", "ひらがなかカタカナで"),
])
def test_bad_search_input_is_answered_beside_its_field(browser, counter, residents, audit_rows, form, field, message):
    r = browser.post(SEARCH, form, page=SEARCH)
    body = r.get_data(as_text=True)
    assert r.status_code == 400 and message in body
    assert f'id="{field}-error"' in body and f'aria-describedby="{field}-hint {field}-error"' in body
    assert audit_rows("console.resident.search") == []


def test_opening_a_resident_page_is_audited(browser, counter, residents, audit_rows):
    r = browser.get(f"/console/residents/{residents['hanako']}")
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "佐藤 花子" in body and "残高はありません" in body and "苫前" in body
    rows = audit_rows("console.resident.view")
    assert [(a.actor, a.params) for a in rows] == [(f"console:{counter.login}", {"resident_id": residents["hanako"]})]
    assert rows[0].at is not None


def test_searches_are_audited_without_the_personal_data_searched_for(browser, counter, residents, audit_rows):
    browser.post(SEARCH, {"kana": "たなか", "birth": "1938-03-03"}, page=SEARCH)
    [row] = audit_rows("console.resident.search")
    assert row.params == {"fields": ["kana", "birth"]} and row.result == "1 found"
    assert "たなか" not in str(row.params) and "1938" not in str(row.params)


def test_the_counter_verifies_a_resident(browser, counter, residents, audit_rows, core):
    page = f"/console/residents/{residents['tome']}"
    assert "本人確認済みにする" in browser.get(page).get_data(as_text=True)
    r = browser.post(f"{page}/verify", page=page)
    assert r.status_code == 302
    done = browser.get(r.headers["Location"]).get_data(as_text=True)
    assert "本人確認済みにしました" in done and "窓口で確認済み" in done and "本人確認済みにする</button>" not in done
    with core.db.session() as s:
        tome = s.get(Resident, residents["tome"])
        assert tome.verification == "counter" and tome.verified_at is not None
    assert [a.params for a in audit_rows("console.resident.verify")] == [
        {"resident_id": residents["tome"], "method": "counter"}]


def test_an_unknown_resident_is_a_japanese_404(browser, counter):
    r = browser.get("/console/residents/999999")
    assert r.status_code == 404 and "この番号の住民はいません" in r.get_data(as_text=True)
    assert browser.post("/console/residents/999999/verify", page="/console/").status_code == 404


def test_no_name_travels_in_a_url(browser, counter, residents):
    r = browser.post(SEARCH, {"name": "佐藤"}, page=SEARCH)
    assert r.request.url.endswith(SEARCH) and "佐藤" not in r.request.url
