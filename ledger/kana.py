"""Half-width kana for Zengin (全銀協) transfer files.

Account-holder names in a Zengin file may only use JIS X 0201 half-width katakana, uppercase
A-Z, digits, the space and a handful of symbols. :func:`to_zengin_kana` turns a name typed in
full-width katakana, hiragana, half-width katakana or ASCII into that character set (using
``jaconv`` for the width and kana conversion); :func:`validate_zengin_kana` checks a string and
names the first character a bank would refuse.

Pure functions: no database, no I/O.
"""

from __future__ import annotations

import re
import unicodedata

import jaconv

__all__ = [
    "ALLOWED_SYMBOLS",
    "LEGAL_ENTITY_ABBREVIATIONS",
    "is_zengin_kana",
    "to_zengin_kana",
    "validate_zengin_kana",
]

#: Symbols allowed in Zengin name fields besides kana, A-Z, 0-9 and the space.
ALLOWED_SYMBOLS = "()-./,"

# Half-width katakana block: ｦ (U+FF66), ｰ (U+FF70), ｱ..ﾝ (U+FF71..U+FF9D), ﾞ ﾟ (U+FF9E, U+FF9F).
# Small kana ｧ..ｯ (U+FF67..U+FF6F) and the half-width punctuation ｡｢｣､･ (U+FF61..U+FF65) are not
# allowed.
_HALF_KANA = "ｦｰ" + "".join(chr(c) for c in range(0xFF71, 0xFFA0))
_ALLOWED = frozenset(_HALF_KANA + "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 " + ALLOWED_SYMBOLS)

#: Legal-entity words and their Zengin abbreviations (longest words first when matching).
#: The abbreviation is placed as ``ｶ)ﾏﾁﾉﾊﾟﾝ`` (前株), ``ﾏﾁﾉﾊﾟﾝ(ｶ`` (後株) or ``ﾏﾁﾉ(ｶ)ﾊﾟﾝ`` (中株).
LEGAL_ENTITY_ABBREVIATIONS: dict[str, str] = {
    "株式会社": "ｶ",
    "有限会社": "ﾕ",
    "合同会社": "ﾄﾞ",
    "合名会社": "ﾒ",
    "合資会社": "ｼ",
    "相互会社": "ｿ",
    "医療法人社団": "ｲ",
    "医療法人財団": "ｲ",
    "社会医療法人": "ｲ",
    "医療法人": "ｲ",
    "一般財団法人": "ｻﾞｲ",
    "公益財団法人": "ｻﾞｲ",
    "財団法人": "ｻﾞｲ",
    "一般社団法人": "ｼﾔ",
    "公益社団法人": "ｼﾔ",
    "社団法人": "ｼﾔ",
    "宗教法人": "ｼﾕｳ",
    "学校法人": "ｶﾞｸ",
    "社会福祉法人": "ﾌｸ",
    "更生保護法人": "ﾎｺﾞ",
    "特定非営利活動法人": "ﾄｸﾋ",
    "地方独立行政法人": "ﾁﾄﾞｸ",
    "独立行政法人": "ﾄﾞｸ",
    "農事組合法人": "ﾉｳ",
    "税理士法人": "ｾﾞｲ",
    "弁護士法人": "ﾍﾞﾝ",
    "司法書士法人": "ｼﾎｳ",
    "行政書士法人": "ｷﾞﾖ",
}

# Katakana spellings (already with small kana enlarged) and bracketed short forms people type.
_ENTITY_ALIASES: dict[str, str] = {
    "カブシキガイシヤ": "株式会社",
    "カブシキカイシヤ": "株式会社",
    "ユウゲンガイシヤ": "有限会社",
    "ユウゲンカイシヤ": "有限会社",
    "ゴウドウガイシヤ": "合同会社",
    "ゴウドウカイシヤ": "合同会社",
    "(株)": "株式会社",
    "(有)": "有限会社",
    "(同)": "合同会社",
    "(名)": "合名会社",
    "(資)": "合資会社",
    "(医)": "医療法人",
    "(財)": "財団法人",
    "(社)": "社団法人",
    "(宗)": "宗教法人",
    "(学)": "学校法人",
    "(福)": "社会福祉法人",
    "(特非)": "特定非営利活動法人",
}

_ENTITY_RE = re.compile(
    "|".join(
        re.escape(word)
        for word in sorted([*LEGAL_ENTITY_ABBREVIATIONS, *_ENTITY_ALIASES], key=len, reverse=True)
    )
)

# A few characters that are not a matter of width: obsolete / extra-small kana with no
# half-width form, and punctuation banks ask to be written with the allowed ASCII symbols.
_SPECIAL = str.maketrans(
    {
        "ヮ": "ワ",
        "ヵ": "カ",
        "ヶ": "ケ",
        "ヰ": "イ",
        "ヱ": "エ",
        "ヷ": "ヴ",  # rare; becomes ｳﾞ
        "・": ".",
        "･": ".",
        "、": ",",
        "，": ",",
        "。": ".",
        "．": ".",
        "\u3000": " ",
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u2012": "-",  # figure dash
        "\u2013": "-",  # en dash
        "\u2212": "-",  # minus sign
        "\uff0d": "-",  # full-width hyphen-minus
        "㈱": "(株)",
        "㈲": "(有)",
        "㍿": "株式会社",
    }
)


def _place_entities(text: str) -> str:
    """Replace legal-entity words by ｶ) / (ｶ / (ｶ) depending on where they stand."""

    def repl(match: re.Match[str]) -> str:
        word = _ENTITY_ALIASES.get(match.group(0), match.group(0))
        abbr = LEGAL_ENTITY_ABBREVIATIONS[word]
        before = match.string[: match.start()].strip()
        after = match.string[match.end() :].strip()
        if not before and after:
            return f"\x00{abbr})\x00"  # 前株: ｶ)ﾏﾁﾉﾊﾟﾝ
        if before and not after:
            return f"\x00({abbr}\x00"  # 後株: ﾏﾁﾉﾊﾟﾝ(ｶ
        if not before and not after:
            return f"\x00{abbr}\x00"
        return f"\x00({abbr})\x00"  # 中株: ﾏﾁﾉ(ｶ)ﾊﾟﾝ

    marked = _ENTITY_RE.sub(repl, text)
    # Drop the spaces people put between the entity word and the name ("株式会社 マチノ").
    return re.sub(r" *\x00 *", "", marked)


def to_zengin_kana(text: str, *, label: str = "カナ名義") -> str:
    """Convert a name to the characters allowed in Zengin name fields.

    Accepts full-width katakana, hiragana, half-width katakana and (full- or half-width) ASCII::

        >>> to_zengin_kana("マチノパンヤ")
        'ﾏﾁﾉﾊﾟﾝﾔ'
        >>> to_zengin_kana("株式会社 まちのぱんや")
        'ｶ)ﾏﾁﾉﾊﾟﾝﾔ'
        >>> to_zengin_kana("キッチン ジョー")
        'ｷﾂﾁﾝ ｼﾞﾖｰ'

    Small kana become large ones (ｯ→ﾂ, ｬ→ﾔ ...), letters are upper-cased, runs of spaces are
    collapsed and the result is stripped. Raises :class:`ValueError` (see
    :func:`validate_zengin_kana`) if a character cannot be represented, e.g. kanji.
    """
    if not isinstance(text, str):
        raise ValueError(f"{label}は文字列で指定してください")
    # Half-width kana -> full-width (joins ﾊﾟ into パ), so everything below sees one form.
    s = jaconv.h2z(text, kana=True, ascii=False, digit=False)
    s = unicodedata.normalize("NFC", s)  # combining (semi-)voiced marks
    s = jaconv.hira2kata(s)
    s = jaconv.z2h(s, kana=False, ascii=True, digit=True)  # ＡＢＣ１２３（） -> ABC123()
    s = s.translate(_SPECIAL)
    s = jaconv.enlarge_smallkana(s)
    s = s.upper()
    s = re.sub(r"\s+", " ", s).strip()
    s = _place_entities(s)
    s = jaconv.z2h(s, kana=True, ascii=False, digit=False)
    validate_zengin_kana(s, label=label)
    return s


def is_zengin_kana(text: str) -> bool:
    """True if every character of ``text`` is allowed in a Zengin name field."""
    return isinstance(text, str) and all(ch in _ALLOWED for ch in text)


def validate_zengin_kana(text: str, *, label: str = "カナ名義") -> None:
    """Raise :class:`ValueError` naming the first character not allowed in a Zengin name field.

    ``label`` names the field in the message, e.g. ``受取人名に使えない文字「漢」があります``.
    """
    if not isinstance(text, str):
        raise ValueError(f"{label}は文字列で指定してください")
    for ch in text:
        if ch not in _ALLOWED:
            shown = ch if ch.isprintable() else f"U+{ord(ch):04X}"
            hint = ""
            if "\uff67" <= ch <= "\uff6f":
                hint = "（小さいカナは大きいカナにしてください）"
            elif "a" <= ch <= "z":
                hint = "（英字は大文字にしてください）"
            raise ValueError(f"{label}に使えない文字「{shown}」があります{hint}")
