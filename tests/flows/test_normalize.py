"""What residents type, and what the normalizers make of it (or why they refuse it)."""
from __future__ import annotations

from datetime import date

import pytest

from flows.normalize import (
    InputError,
    format_phone,
    kanji_to_int,
    parse_birth_year,
    parse_birthdate,
    parse_choice,
    parse_date,
    parse_int,
    parse_kana,
    parse_phone,
    parse_text,
    parse_yesno,
)
from flows.wareki import to_wareki

TODAY = date(2026, 4, 1)


def refused(fn, *args, **kw) -> InputError:
    with pytest.raises(InputError) as exc:
        fn(*args, **kw)
    return exc.value


# ------------------------------------------------------------------------------------ numbers


@pytest.mark.parametrize("typed, value", [
    ("１，０００円", 1000), ("1,000", 1000), ("１０００", 1000), ("3人", 3), ("３名", 3), ("三人", 3),
    ("十五", 15), ("二〇二四", 2024), ("1万5000円", 15000), ("¥500", 500), (" 7 ", 7), ("0", 0),
])
def test_numbers_in_any_width(typed, value):
    assert parse_int(typed) == value


@pytest.mark.parametrize("typed, reason", [("1.5", "整数"), ("１．５", "整数"), ("たくさん", "数字で"), ("", "数字で")])
def test_numbers_refused_with_a_reason(typed, reason):
    assert reason in refused(parse_int, typed).message_ja


def test_number_range_is_explained_in_both_languages():
    err = refused(parse_int, "１２", min=1, max=10)
    assert err.message("ja") == "1から10までの数で入力してください。"
    assert err.message("en") == "Please enter a number from 1 to 10."
    assert "以上" in refused(parse_int, "0", min=1).message_ja
    assert "以下" in refused(parse_int, "11", max=10).message_ja


def test_kanji_numerals():
    assert kanji_to_int("三百二十") == 320
    assert kanji_to_int("千") == 1000
    assert kanji_to_int("二万") == 20000
    assert kanji_to_int("あ") is None


# --------------------------------------------------------------------------------------- kana


@pytest.mark.parametrize("typed", ["やまだ　はなこ", "ヤマダ ハナコ", "ﾔﾏﾀﾞ ﾊﾅｺ", "やまだ  ハナコ", " ヤマダ　ﾊﾅｺ "])
def test_kana_in_every_form_becomes_full_width_katakana(typed):
    assert parse_kana(typed) == "ヤマダ ハナコ"


def test_kana_keeps_voiced_marks_and_long_vowels():
    assert parse_kana("ｴﾐﾘｰ ｳｫｰｶｰ") == "エミリー ウォーカー"
    assert parse_kana("ゔぃくとりあ") == "ヴィクトリア"
    assert parse_kana("エミリ-") == "エミリー"


@pytest.mark.parametrize("typed, bad", [("山田 花子", "山"), ("yamada", "y"), ("ヤマダ1", "1")])
def test_non_kana_is_refused_naming_the_character(typed, bad):
    err = refused(parse_kana, typed)
    assert f"「{bad}」はカナではありません" in err.message_ja
    assert "katakana" in err.message_en


def test_empty_kana_is_refused():
    assert "カタカナ" in refused(parse_kana, "　").message_ja


# --------------------------------------------------------------------------------- birth dates


@pytest.mark.parametrize("typed", [
    "昭和40年5月3日", "S40.5.3", "s40/5/3", "Ｓ４０．５．３", "S40-5-3", "昭40.5.3", "昭和 40年 5月 3日",
    "昭和四十年五月三日", "㍼40年5月3日", "1965/5/3", "1965年5月3日", "１９６５年５月３日", "1965-05-03",
    "19650503", "1965.5.3", "昭和40年5月3日生",
])
def test_birth_dates_in_seireki_and_wareki(typed):
    assert parse_birthdate(typed, today=TODAY) == date(1965, 5, 3)


@pytest.mark.parametrize("typed, value", [
    ("平成元年1月8日", date(1989, 1, 8)), ("H1.1.8", date(1989, 1, 8)), ("平成元年12月31日", date(1989, 12, 31)),
    ("令和元年5月1日", date(2019, 5, 1)), ("令和2年1月1日", date(2020, 1, 1)), ("R2/1/1", date(2020, 1, 1)),
    ("昭和元年12月25日", date(1926, 12, 25)), ("昭和64年1月7日", date(1989, 1, 7)),
    ("大正15年12月24日", date(1926, 12, 24)), ("T10.3.3", date(1921, 3, 3)), ("平成31年4月30日", date(2019, 4, 30)),
])
def test_era_boundaries_and_gannen(typed, value):
    assert parse_birthdate(typed, today=TODAY) == value


@pytest.mark.parametrize("typed, reason_ja", [
    ("昭和65年1月1日", "昭和65年はありません（昭和は64年までです）"),
    ("S65.1.1", "昭和は64年まで"),
    ("昭和64年1月8日", "昭和は1989年1月7日までです"),
    ("平成31年5月1日", "平成は2019年4月30日までです"),
    ("平成元年1月7日", "平成は1989年1月8日からです"),
    ("令和元年4月30日", "令和は2019年5月1日からです"),
    ("大正16年1月1日", "大正は15年まで"),
    ("昭和0年1月1日", "昭和0年はありません"),
    ("1990年2月30日", "1990年2月30日はありません"),
    ("昭和40年2月30日", "1965年2月30日はありません"),
    ("2023/2/29", "2023年2月29日はありません"),
    ("1965/13/1", "13月はありません"),
])
def test_dates_that_do_not_exist_are_refused_with_why(typed, reason_ja):
    assert reason_ja in refused(parse_birthdate, typed, today=TODAY).message_ja


def test_leap_day_exists_in_a_leap_year():
    assert parse_birthdate("昭和39年2月29日", today=TODAY) == date(1964, 2, 29)


@pytest.mark.parametrize("typed", ["令和8年4月2日", "2030/1/1", "令和20年1月1日"])
def test_future_birth_dates_are_refused(typed):
    err = refused(parse_birthdate, typed, today=TODAY)
    assert "未来" in err.message_ja and "future" in err.message_en


def test_birth_date_today_is_allowed_and_very_old_ones_are_questioned():
    assert parse_birthdate("令和8年4月1日", today=TODAY) == TODAY
    assert "確かめ" in refused(parse_birthdate, "明治30年1月1日", today=TODAY).message_ja


@pytest.mark.parametrize("typed", ["平成元年", "昭和40年", "1965", "1965年5月", "S40.5"])
def test_birth_date_needs_month_and_day(typed):
    assert "月と日も" in refused(parse_birthdate, typed, today=TODAY).message_ja


def test_a_year_only_that_does_not_exist_says_so_first():
    assert "昭和65年はありません" in refused(parse_birthdate, "昭和65年", today=TODAY).message_ja


@pytest.mark.parametrize("typed", ["こんにちは", "5月3日", "65/5/3", ""])
def test_unreadable_birth_dates_show_an_example(typed):
    assert "昭和40年5月3日" in refused(parse_birthdate, typed, today=TODAY).message_ja


# --------------------------------------------------------------------------------- birth years


@pytest.mark.parametrize("typed, year", [
    ("昭和40年", 1965), ("昭和40", 1965), ("S40", 1965), ("ｓ４０", 1965), ("平成元年", 1989), ("令和元年生まれ", 2019),
    ("1965", 1965), ("1965年", 1965), ("１９６５年生まれ", 1965), ("昭和四十年", 1965), ("昭和64年", 1989),
    ("昭和40年5月3日", 1965), ("大正15年", 1926),
])
def test_birth_years(typed, year):
    assert parse_birth_year(typed, today=TODAY) == year


@pytest.mark.parametrize("typed, reason", [
    ("昭和65年", "昭和65年はありません"), ("平成32年", "平成32年はありません"), ("2030", "未来"),
    ("令和9年", "未来"), ("むかし", "昭和40年"),
])
def test_birth_years_refused(typed, reason):
    assert reason in refused(parse_birth_year, typed, today=TODAY).message_ja


def test_to_wareki():
    assert to_wareki(date(1965, 5, 3)) == "昭和40年"
    assert to_wareki(date(1989, 1, 7)) == "昭和64年"
    assert to_wareki(date(1989, 1, 8)) == "平成元年"
    assert to_wareki(date(2019, 5, 1)) == "令和元年"


# ------------------------------------------------------------------------------- other dates


def test_dates_for_appointments():
    assert parse_date("2026年4月10日", today=TODAY) == date(2026, 4, 10)
    assert parse_date("令和8年4月10日", today=TODAY) == date(2026, 4, 10)
    assert parse_date("4月10日", today=TODAY) == date(2026, 4, 10)
    assert parse_date("４/１０", today=TODAY) == date(2026, 4, 10)
    assert parse_date("明日", today=TODAY) == date(2026, 4, 2)
    assert parse_date("今日", today=TODAY) == TODAY
    assert parse_date("2026-04-10T09:30", today=TODAY) == date(2026, 4, 10)


def test_date_ranges_are_explained():
    assert "2026年4月1日以降" in refused(parse_date, "3月31日", min=TODAY, today=TODAY).message_ja
    assert "2026年4月30日まで" in refused(parse_date, "5月1日", max=date(2026, 4, 30), today=TODAY).message_ja
    assert "2025年4月1日" in refused(parse_date, "いつか", today=TODAY).message_ja


# ------------------------------------------------------------------------------------- phones


@pytest.mark.parametrize("typed, digits", [
    ("０１６４－６４－２２１１", "0164642211"), ("0164-64-2211", "0164642211"), ("090-1234-5678", "09012345678"),
    ("０９０ １２３４ ５６７８", "09012345678"), ("(0164)64-2211", "0164642211"), ("（０１６４）６４ー２２１１", "0164642211"),
    ("+81 90-1234-5678", "09012345678"), ("0120‐123‐456", "0120123456"),
])
def test_phone_numbers_with_any_dash_or_width(typed, digits):
    assert parse_phone(typed) == digits


@pytest.mark.parametrize("typed, reason", [
    ("64-2211", "市外局番"), ("164642211", "市外局番"), ("090-1234-567", "桁数"), ("0164-64-22111", "桁数"),
    ("でんわ", "数字で"),
])
def test_phone_numbers_refused(typed, reason):
    assert reason in refused(parse_phone, typed).message_ja


def test_phone_display():
    assert format_phone("09012345678") == "090-1234-5678"
    assert format_phone("0120123456") == "0120-123-456"
    assert format_phone("0164642211") == "0164642211"


# --------------------------------------------------------------------------- yes/no, choices


@pytest.mark.parametrize("typed", ["はい", "はい。", "ハイ", "OK", "ｏｋ", "Yes", "y", "うん", "お願いします"])
def test_yes(typed):
    assert parse_yesno(typed) is True


@pytest.mark.parametrize("typed", ["いいえ", "いいえ。", "No", "ＮＯ", "n", "いや", "違います"])
def test_no(typed):
    assert parse_yesno(typed) is False


def test_neither_yes_nor_no():
    err = refused(parse_yesno, "たぶん")
    assert "「はい」か「いいえ」" in err.message_ja and "yes" in err.message_en


def test_choices_match_value_label_or_label_without_its_number():
    choices = [{"value": "5", "label": {"ja": "5 とても満足", "en": "5 Very satisfied"}},
               {"value": "1", "label": {"ja": "1 とても不満", "en": "1 Very dissatisfied"}}]
    assert parse_choice("５", choices) == "5"
    assert parse_choice("5 とても満足", choices) == "5"
    assert parse_choice("とても満足", choices) == "5"
    assert parse_choice("very dissatisfied", choices) == "1"
    assert "ボタン" in refused(parse_choice, "まあまあ", choices).message_ja


def test_text_limits_and_patterns():
    assert parse_text("  山田　花子  ") == "山田 花子"
    assert "入力してください" in refused(parse_text, "   ").message_ja
    assert "3文字以内" in refused(parse_text, "abcd", max_len=3).message_ja
    err = refused(parse_text, "12", pattern=r"\d{3}", pattern_error={"ja": "3桁で", "en": "3 digits"})
    assert err.message("en") == "3 digits"


@pytest.mark.parametrize("typed", ["2セット", "２せっと", "二セット", "2 sets", "２組", "2口"])
def test_sets_are_numbers(typed):
    assert parse_int(typed, min=1, max=2) == 2


def test_the_example_for_a_number_stays_inside_its_limits():
    assert "例：2" in refused(parse_int, "たくさん", min=1, max=2).message_ja
    assert "例：1" in refused(parse_int, "たくさん", min=1, max=1).message_ja
    assert "例：500" in refused(parse_int, "たくさん", min=1, max=1500, example=500).message_ja
