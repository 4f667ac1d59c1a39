"""Turn what residents actually type into clean values, or say why not.

Residents type full-width digits (１，０００円), kanji numerals (三人), hiragana or half-width
kana for a kana name, birth dates in 和暦 (昭和40年5月3日, S40.5.3) and phone numbers with
any kind of dash. Every function returns the value or raises `InputError(message_ja, message_en)`
whose message is shown before the same question is asked again.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, timedelta

import jaconv

from flows.errors import InputError
from flows.wareki import ERA_PATTERN, Era, era_by_key, western_year
from ledger.clock import today_jst

__all__ = [
    "InputError", "format_phone", "kanji_to_int", "narrow", "parse_birth_year", "parse_birthdate", "parse_choice",
    "parse_date", "parse_int", "plain", "parse_kana", "parse_phone", "parse_text", "parse_yesno",
]

# ----------------------------------------------------------------------------- width and numerals

_DASHES = "-‐‑‒–—―−－ｰー"
_KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
                 "八": 8, "九": 9}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
_KANJI_BIG = {"万": 10_000, "億": 100_000_000}
_NUMERAL_RUN = re.compile("[0-9" + "".join([*_KANJI_DIGITS, *_KANJI_UNITS, *_KANJI_BIG]) + "]+")


def narrow(text: str) -> str:
    """Full-width ASCII and digits to half-width, ideographic spaces to spaces, stripped."""
    s = jaconv.z2h(text or "", kana=False, ascii=True, digit=True)
    return s.replace("\u3000", " ").strip()


def kanji_to_int(text: str) -> int | None:
    """'三百二十' → 320, '二〇二四' → 2024, '1万5000' → 15000; None if not a numeral."""
    total = section = 0
    digits: int | None = None
    for ch in text:
        if ch.isdigit() or ch in _KANJI_DIGITS:
            d = int(ch) if ch.isdigit() else _KANJI_DIGITS[ch]
            digits = d if digits is None else digits * 10 + d
        elif ch in _KANJI_UNITS:
            section += (1 if digits is None else digits) * _KANJI_UNITS[ch]
            digits = None
        elif ch in _KANJI_BIG:
            section += digits or 0
            total += (section or 1) * _KANJI_BIG[ch]
            section, digits = 0, None
        else:
            return None
    if not text:
        return None
    return total + section + (digits or 0)


def _numerals_to_digits(text: str) -> str:
    """Replace each run of kanji numerals by its digits, leaving plain digit runs alone."""
    def repl(m: re.Match[str]) -> str:
        run = m.group(0)
        if run.isdigit():
            return run
        value = kanji_to_int(run)
        return str(value) if value is not None else run
    return _NUMERAL_RUN.sub(repl, text)


# ----------------------------------------------------------------------------------- numbers

_UNIT_SUFFIX = re.compile(r"(円|えん|人|名|にん|めい|個|こ|枚|まい|歳|才|さい|件|回|本|点|ポイント|ぽいんと|pt|"
                          r"セット|せっと|組|口|くち|yen|people|sets?|points?)$", re.IGNORECASE)


def parse_int(text: str, *, min: int | None = None, max: int | None = None, example: int | None = None) -> int:
    """'１，０００円' → 1000, '三人' → 3, '２せっと' → 2; refuses decimals and values outside [min, max].

    The example in the message is `example`, else 3 moved inside [min, max] (never 3 when the limit is 2)."""
    s = _numerals_to_digits(narrow(text))
    s = re.sub(r"[,、，\s]", "", s).lstrip("¥￥")
    s = _UNIT_SUFFIX.sub("", s)
    if re.fullmatch(r"\d+\.\d+", s):
        raise InputError("小数ではなく、整数で入力してください。", "Please enter a whole number.")
    if not re.fullmatch(r"-?\d+", s):
        shown = example if example is not None else _inside(3, min, max)
        raise InputError(f"数字で入力してください（例：{shown}）。", f"Please enter a number (e.g. {shown}).")
    return _check_range(int(s), min, max)


def _inside(n: int, lo: int | None, hi: int | None) -> int:
    if hi is not None:
        n = hi if n > hi else n
    if lo is not None:
        n = lo if n < lo else n
    return n


def _check_range(n: int, lo: int | None, hi: int | None) -> int:
    if lo is not None and hi is not None and not lo <= n <= hi:
        raise InputError(f"{lo}から{hi}までの数で入力してください。", f"Please enter a number from {lo} to {hi}.")
    if lo is not None and n < lo:
        raise InputError(f"{lo}以上の数で入力してください。", f"Please enter {lo} or more.")
    if hi is not None and n > hi:
        raise InputError(f"{hi}以下の数で入力してください。", f"Please enter {hi} or less.")
    return n


# -------------------------------------------------------------------------------------- kana

_KATAKANA = re.compile(r"[\u30A1-\u30FA\u30FC\u30FD\u30FE・ ]+")


def parse_kana(text: str, *, max_len: int = 50) -> str:
    """Hiragana, half-width or full-width katakana → full-width katakana; spaces → one space.

    'やまだ　たろう' → 'ヤマダ タロウ', 'ﾔﾏﾀﾞ ﾀﾛｳ' → 'ヤマダ タロウ'. Kanji and letters are refused.
    """
    s = jaconv.h2z(text or "", kana=True, ascii=False, digit=False)
    s = unicodedata.normalize("NFC", s)
    s = jaconv.hira2kata(s)
    s = re.sub(r"[\s\u3000]+", " ", s).strip()
    s = re.sub(f"(?<=[\u30A1-\u30FA])[{_DASHES}]", "ー", s)  # long vowel typed as a dash
    if not s:
        raise InputError("フリガナをカタカナかひらがなで入力してください。",
                         "Please enter the reading in katakana or hiragana.")
    if not _KATAKANA.fullmatch(s):
        bad = next(ch for ch in s if not _KATAKANA.fullmatch(ch))
        raise InputError(f"「{bad}」はカナではありません。カタカナかひらがなで入力してください。",
                         f"“{bad}” is not kana. Please use katakana or hiragana.")
    if len(s) > max_len:
        raise InputError(f"{max_len}文字以内で入力してください。", f"Please use at most {max_len} characters.")
    return s


# ------------------------------------------------------------------------------------- phone


def parse_phone(text: str) -> str:
    """'０１６４－６４－２２１１' / '090 1234 5678' / '+81 90-...' → digits only, 10 or 11 of them."""
    s = narrow(text)
    s = re.sub(f"[{_DASHES}\\s()（）]", "", s)
    if s.startswith("+81"):
        s = "0" + s[3:].lstrip("0")
    if not s.isdigit():
        raise InputError("電話番号は数字で入力してください（例：0164-64-2211）。",
                         "Please enter the phone number in digits (e.g. 0164-64-2211).")
    if not s.startswith("0"):
        raise InputError("電話番号は市外局番（0から）から入力してください。",
                         "Please include the area code, starting with 0.")
    mobile = s[:3] in ("050", "060", "070", "080", "090") or s.startswith("0800")
    if len(s) != (11 if mobile else 10):
        raise InputError("電話番号の桁数が違います。市外局番から入力してください（携帯は11桁）。",
                         "That number has the wrong length: 10 digits, or 11 for a mobile.")
    return s


def format_phone(digits: str) -> str:
    """Hyphens where they are unambiguous (mobiles 090-1234-5678, 0120-123-456); landline area
    codes vary in length, so those stay as digits."""
    if len(digits) == 11:
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if len(digits) == 10 and digits.startswith("0120"):
        return f"{digits[:4]}-{digits[4:7]}-{digits[7:]}"
    return digits


# ------------------------------------------------------------------------------------ yes/no

_YES = {"はい", "ハイ", "うん", "ええ", "yes", "y", "ok", "okay", "おけ", "おk", "そうです", "はいそうです",
        "お願いします", "おねがいします", "同意します", "同意する", "いいです", "大丈夫です", "だいじょうぶ", "sure"}
_NO = {"いいえ", "イイエ", "いや", "いえ", "no", "n", "ちがう", "違う", "ちがいます", "違います", "しない",
       "しません", "いらない", "いりません", "だめ", "ダメ", "nope", "同意しない", "同意しません"}


def plain(text: str) -> str:
    """For comparing words: NFKC, case-folded, without trailing punctuation."""
    s = unicodedata.normalize("NFKC", text or "").strip().casefold()
    return re.sub(r"[\s。．.!！、,？?〜~]+$", "", s).strip()


def parse_yesno(text: str) -> bool:
    s = plain(text)
    if s in _YES:
        return True
    if s in _NO:
        return False
    raise InputError("「はい」か「いいえ」でお答えください。", "Please answer “yes” or “no”.")


# ----------------------------------------------------------------------------------- choices


def parse_choice(text: str, choices: Iterable[Mapping[str, object]]) -> object:
    """The value of the choice whose value or label (any language) matches what was typed."""
    typed = plain(narrow(text))
    options = list(choices)
    for field in ("value", "label", "bare label"):
        for choice in options:
            candidates = choice.get(field.removeprefix("bare "))
            names = candidates.values() if isinstance(candidates, Mapping) else [candidates]
            for name in (plain(narrow(str(n))) for n in names if n is not None):
                if field == "bare label":  # '5 とても満足' is also 'とても満足'
                    name = re.sub(r"^\d+[\s.:)]*", "", name)
                if name and typed == name:
                    return choice["value"]
    raise InputError("下のボタンから選んでください。", "Please choose one of the buttons below.")


# -------------------------------------------------------------------------------------- text


def parse_text(text: str, *, min_len: int = 1, max_len: int = 200, pattern: str | None = None,
               pattern_error: str | Mapping[str, str] | None = None) -> str:
    s = re.sub(r"\s+", " ", (text or "").replace("\u3000", " ")).strip()
    if len(s) < min_len:
        raise InputError("入力してください。" if min_len <= 1 else f"{min_len}文字以上で入力してください。",
                         "Please type your answer." if min_len <= 1 else f"Please use at least {min_len} characters.")
    if len(s) > max_len:
        raise InputError(f"{max_len}文字以内で入力してください。", f"Please use at most {max_len} characters.")
    if pattern and not re.fullmatch(pattern, s):
        err = {"ja": pattern_error, "en": pattern_error} if isinstance(pattern_error, str) else pattern_error or {}
        raise InputError(err.get("ja", "入力の形が正しくありません。"), err.get("en", "That does not look right."))
    return s


# ------------------------------------------------------------------------------------- dates

_SEP = r"\s*(?:[年月/.\-]|\s)\s*"
_ERA_FULL = re.compile(rf"(?P<era>{ERA_PATTERN})\s*(?P<y>\d{{1,2}}|元){_SEP}(?P<m>\d{{1,2}}){_SEP}(?P<d>\d{{1,2}})\s*日?")
_WEST_FULL = re.compile(rf"(?P<y>\d{{4}}){_SEP}(?P<m>\d{{1,2}}){_SEP}(?P<d>\d{{1,2}})\s*日?")
_COMPACT = re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})")
_ERA_YEAR = re.compile(rf"(?P<era>{ERA_PATTERN})\s*(?P<y>\d{{1,2}}|元)\s*年?(?:生まれ)?")
_WEST_YEAR = re.compile(r"(?P<y>\d{4})\s*年?(?:生まれ)?")
_MONTH_DAY = re.compile(rf"(?P<m>\d{{1,2}}){_SEP}(?P<d>\d{{1,2}})\s*日?")
_YEAR_MONTH = re.compile(rf"(?:(?:{ERA_PATTERN})\s*(?:\d{{1,2}}|元)|\d{{4}}){_SEP}\d{{1,2}}\s*月?")

_DATE_EXAMPLE = InputError("日付は「2025年4月1日」や「令和7年4月1日」のように入力してください。",
                           "Please enter a date like 2025-04-01.")
_BIRTH_EXAMPLE = InputError("生年月日は「昭和40年5月3日」や「1965/5/3」のように入力してください。",
                            "Please enter your birth date like 1965/5/3 or 昭和40年5月3日.")


def _date_text(text: str) -> str:
    """NFKC (full-width digits, ㍼ → 昭和) and kanji numerals to digits; '生' and spaces tidied."""
    s = unicodedata.normalize("NFKC", text or "").strip()
    s = _numerals_to_digits(s)
    return re.sub(r"\s+", " ", s).removesuffix("生").strip()


def _era_year(era_key: str, year: str) -> tuple[Era, int, int]:
    era = era_by_key(era_key)
    era_year = 1 if year == "元" else int(year)
    return era, era_year, western_year(era, era_year)


def _make_date(y: int, m: int, d: int) -> date:
    if not 1 <= m <= 12:
        raise InputError(f"{m}月はありません。月は1から12で入力してください。",
                         f"There is no month {m}. Months go from 1 to 12.")
    try:
        return date(y, m, d)
    except ValueError:
        raise InputError(f"{y}年{m}月{d}日はありません。日付を確かめてください。",
                         f"{y}-{m:02d}-{d:02d} does not exist. Please check the date.") from None


def _check_in_era(day: date, era: Era, era_year: int) -> date:
    if day < era.first_day or (era.last_day is not None and day > era.last_day):
        shown = f"{era.name}{'元' if era_year == 1 else era_year}年{day.month}月{day.day}日"
        if day < era.first_day:
            f = era.first_day
            raise InputError(f"{shown}はありません（{era.name}は{f.year}年{f.month}月{f.day}日からです）。",
                             f"That date is before {era.name_en} began ({f.isoformat()}).")
        last = era.last_day
        assert last is not None
        raise InputError(f"{shown}はありません（{era.name}は{last.year}年{last.month}月{last.day}日までです）。",
                         f"That date is after {era.name_en} ended ({last.isoformat()}).")
    return day


def _parse_full_date(s: str) -> date | None:
    """A complete date in 和暦 or 西暦, or None if `s` is not written as one."""
    if m := _ERA_FULL.fullmatch(s):
        era, era_year, year = _era_year(m["era"], m["y"])
        return _check_in_era(_make_date(year, int(m["m"]), int(m["d"])), era, era_year)
    if m := _WEST_FULL.fullmatch(s) or _COMPACT.fullmatch(s):
        return _make_date(int(m["y"]), int(m["m"]), int(m["d"]))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T[\d:]+", s):  # a date-time picker's value
        return _make_date(int(s[:4]), int(s[5:7]), int(s[8:10]))
    return None


def parse_date(text: str, *, min: date | None = None, max: date | None = None,
               today: date | None = None) -> date:
    """A date in 西暦 or 和暦, '5月3日' (this year), 今日/明日; within [min, max] if given."""
    today = today or today_jst()
    s = _date_text(text)
    relative = {"今日": 0, "きょう": 0, "today": 0, "明日": 1, "あした": 1, "あす": 1, "tomorrow": 1}
    if s.casefold() in relative:
        day: date | None = today + timedelta(days=relative[s.casefold()])
    else:
        day = _parse_full_date(s)
        if day is None and (m := _MONTH_DAY.fullmatch(s)):
            day = _make_date(today.year, int(m["m"]), int(m["d"]))
    if day is None:
        raise _DATE_EXAMPLE
    if min is not None and day < min:
        raise InputError(f"{_ja(min)}以降の日付を入力してください。", f"Please choose {min.isoformat()} or later.")
    if max is not None and day > max:
        raise InputError(f"{_ja(max)}までの日付を入力してください。", f"Please choose {max.isoformat()} or earlier.")
    return day


def parse_birthdate(text: str, *, today: date | None = None) -> date:
    """'昭和40年5月3日', 'S40.5.3', 's40/5/3', '1965/5/3', '1965年5月3日', '平成元年1月8日' → a date.

    A birth date must be complete, exist (no 昭和65年, no 2月30日), and not be in the future.
    """
    today = today or today_jst()
    s = _date_text(text)
    day = _parse_full_date(s)
    if day is None:
        if _ERA_YEAR.fullmatch(s) or _WEST_YEAR.fullmatch(s) or _YEAR_MONTH.fullmatch(s):
            if m := _ERA_YEAR.fullmatch(s):
                _era_year(m["era"], m["y"])  # say first if the year itself does not exist
            raise InputError("月と日も入力してください（例：昭和40年5月3日）。",
                             "Please include the month and day (e.g. 1965/5/3).")
        raise _BIRTH_EXAMPLE
    return _check_birth(day, today)


def _check_birth(day: date, today: date) -> date:
    if day > today:
        raise InputError("生年月日に未来の日付は入れられません。", "A birth date cannot be in the future.")
    if day.year < today.year - 125:
        raise InputError("生年月日をもう一度お確かめください。", "Please check the birth date again.")
    return day


def parse_birth_year(text: str, *, today: date | None = None) -> int:
    """'昭和40年' / 'S40' / '1965' / '平成元年' (or a full birth date) → the western year."""
    today = today or today_jst()
    s = _date_text(text)
    if m := _ERA_YEAR.fullmatch(s):
        year = _era_year(m["era"], m["y"])[2]
    elif m := _WEST_YEAR.fullmatch(s):
        year = int(m["y"])
    elif (day := _parse_full_date(s)) is not None:
        year = _check_birth(day, today).year
    else:
        raise InputError("生まれた年を「昭和40年」や「1965」のように入力してください。",
                         "Please enter your birth year, e.g. 1965.")
    if year > today.year:
        raise InputError("生まれた年に未来の年は入れられません。", "A birth year cannot be in the future.")
    if year < today.year - 125:
        raise InputError("生まれた年をもう一度お確かめください。", "Please check the birth year again.")
    return year


def _ja(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"
