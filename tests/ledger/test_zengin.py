"""Zengin 総合振込 files: record layout, totals, bank codes and half-width kana."""

from __future__ import annotations

from datetime import date

import pytest

from ledger import zengin
from ledger.kana import to_zengin_kana, validate_zengin_kana
from ledger.zengin import (
    CRLF,
    RECORD_LENGTH,
    Remitter,
    Transfer,
    build_transfer_file,
    parse_transfer_file,
    validate_account,
    validate_bank,
)

REMITTER = Remitter(
    code="1234567890",
    name_kana="マチノマチ チイキツウカ",
    bank_code="0501",  # 北洋銀行
    branch_code="028",  # 本店営業部
    account_type="1",
    account_number="1234567",
)

TRANSFERS = [
    Transfer("0001", "001", "1", "7654321", "マチノパンヤ", 12_345, customer_code="42"),
    Transfer("0501", "091", "普通", "123", "株式会社 るもいさかな", 1_000_000),
    Transfer("1022", "001", "2", "0000009", "ｷｯﾁﾝ ｼﾞｮｰ", 5),
]

DAY = date(2025, 3, 7)


def build(transfers=TRANSFERS, **kwargs) -> bytes:
    return build_transfer_file(REMITTER, transfers, DAY, **kwargs)


def records(data: bytes) -> list[bytes]:
    return data.split(CRLF)


def field(record: bytes, start: int, length: int) -> str:
    """Bytes ``start``..``start+length`` (0-based offsets, as in the 全銀 layout)."""
    return record[start : start + length].decode("cp932")


# --------------------------------------------------------------------------- layout


def test_every_record_is_120_bytes_and_separated_by_crlf():
    data = build()
    recs = records(data)
    assert len(recs) == 1 + len(TRANSFERS) + 1 + 1
    assert [len(r) for r in recs] == [RECORD_LENGTH] * len(recs)
    assert [r[:1] for r in recs] == [b"1", b"2", b"2", b"2", b"8", b"9"]
    assert not data.endswith(CRLF)
    assert len(data) == 6 * 120 + 5 * 2


def test_separator_is_a_parameter():
    lf = build(separator=b"\n")
    assert lf.count(b"\n") == 5 and b"\r" not in lf
    flat = build(separator=b"")
    assert len(flat) == 6 * RECORD_LENGTH
    assert parse_transfer_file(flat) == parse_transfer_file(build()) == parse_transfer_file(lf)


def test_header_fields_at_their_offsets():
    header = records(build())[0]
    assert field(header, 0, 1) == "1"  # データ区分
    assert field(header, 1, 2) == "21"  # 種別コード 総合振込
    assert field(header, 3, 1) == "0"  # コード区分 JIS
    assert field(header, 4, 10) == "1234567890"  # 依頼人コード
    assert field(header, 14, 40) == "ﾏﾁﾉﾏﾁ ﾁｲｷﾂｳｶ".ljust(40)  # 依頼人名
    assert field(header, 54, 4) == "0307"  # 振込指定日 MMDD
    assert field(header, 58, 4) == "0501"  # 仕向銀行番号
    assert field(header, 62, 15) == "ﾎｸﾖｳ".ljust(15)  # 仕向銀行名
    assert field(header, 77, 3) == "028"  # 仕向支店番号
    assert field(header, 80, 15) == "ﾎﾝﾃﾝ".ljust(15)  # 仕向支店名
    assert field(header, 95, 1) == "1"  # 預金種目
    assert field(header, 96, 7) == "1234567"  # 口座番号
    assert field(header, 103, 17) == " " * 17  # ダミー


def test_data_fields_at_their_offsets():
    first, second, third = records(build())[1:4]
    assert field(first, 0, 1) == "2"  # データ区分
    assert field(first, 1, 4) == "0001"  # 被仕向銀行番号
    assert field(first, 5, 15) == "ﾐｽﾞﾎ".ljust(15)  # 被仕向銀行名
    assert field(first, 20, 3) == "001"  # 被仕向支店番号
    assert field(first, 23, 15) == "ﾄｳｷﾖｳ".ljust(15)  # 被仕向支店名
    assert field(first, 38, 4) == "    "  # 手形交換所番号
    assert field(first, 42, 1) == "1"  # 預金種目
    assert field(first, 43, 7) == "7654321"  # 口座番号
    assert field(first, 50, 30) == "ﾏﾁﾉﾊﾟﾝﾔ".ljust(30)  # 受取人名
    assert field(first, 80, 10) == "0000012345"  # 振込金額
    assert field(first, 90, 1) == "0"  # 新規コード
    assert field(first, 91, 10) == "0000000042"  # 顧客コード1
    assert field(first, 101, 10) == " " * 10  # 顧客コード2
    assert field(first, 111, 1) == "7"  # 振込指定区分
    assert field(first, 112, 1) == " "  # 識別表示
    assert field(first, 113, 7) == " " * 7  # ダミー

    assert field(second, 42, 1) == "1"  # "普通" -> 1
    assert field(second, 43, 7) == "0000123"  # zero-padded
    assert field(second, 50, 30) == "ｶ)ﾙﾓｲｻｶﾅ".ljust(30)
    assert field(second, 80, 10) == "0001000000"
    assert field(second, 91, 20) == " " * 20

    assert field(third, 5, 15) == "ﾙﾓｲｼﾝｷﾝ".ljust(15)
    assert field(third, 23, 15) == "ﾁﾕｳｵｳ".ljust(15)
    assert field(third, 42, 1) == "2"
    assert field(third, 50, 30) == "ｷﾂﾁﾝ ｼﾞﾖｰ".ljust(30)  # small kana made large


def test_trailer_and_end_record():
    trailer, end = records(build())[4:]
    assert field(trailer, 0, 1) == "8"
    assert field(trailer, 1, 6) == "000003"  # 合計件数
    assert field(trailer, 7, 12) == "000001012350"  # 合計金額 12,345 + 1,000,000 + 5
    assert field(trailer, 19, 101) == " " * 101
    assert end == b"9" + b" " * 119


def test_long_names_are_truncated_to_the_field():
    name = "ア" * 45
    data = build_transfer_file(
        Remitter("1234567890", name, "0501", "028", "1", "1"),
        [Transfer("0001", "001", "1", "1", name, 1)],
        DAY,
    )
    header, data_record = records(data)[:2]
    assert field(header, 14, 40) == "ｱ" * 40
    assert field(header, 54, 4) == "0307"
    assert field(data_record, 50, 30) == "ｱ" * 30
    assert field(data_record, 80, 10) == "0000000001"


def test_round_trip_through_parse():
    header, rows, trailer = parse_transfer_file(build())
    assert header["type_code"] == "21"
    assert header["remitter_code"] == "1234567890"
    assert header["remitter_name"] == "ﾏﾁﾉﾏﾁ ﾁｲｷﾂｳｶ"
    assert header["transfer_date"] == "0307"
    assert (header["bank_code"], header["branch_code"]) == ("0501", "028")
    assert [
        (
            r["bank_code"],
            r["branch_code"],
            r["account_type"],
            r["account_number"],
            r["holder_name"],
            r["amount"],
        )
        for r in rows
    ] == [
        ("0001", "001", "1", "7654321", "ﾏﾁﾉﾊﾟﾝﾔ", 12_345),
        ("0501", "091", "1", "0000123", "ｶ)ﾙﾓｲｻｶﾅ", 1_000_000),
        ("1022", "001", "2", "0000009", "ｷﾂﾁﾝ ｼﾞﾖｰ", 5),
    ]
    assert rows[0]["customer_code1"] == "0000000042"
    assert rows[0]["bank_name"] == "ﾐｽﾞﾎ" and rows[2]["branch_name"] == "ﾁﾕｳｵｳ"
    assert trailer == {"data_type": "8", "count": 3, "total": 1_012_350}


def test_parse_refuses_broken_files():
    data = build()
    recs = records(data)
    with pytest.raises(ValueError, match="120バイト"):
        parse_transfer_file(CRLF.join([recs[0][:119], *recs[1:]]))
    bad_total = recs[4][:7] + b"000000000001" + recs[4][19:]
    with pytest.raises(ValueError, match="合計金額"):
        parse_transfer_file(CRLF.join([*recs[:4], bad_total, recs[5]]))
    with pytest.raises(ValueError, match="合計件数"):
        parse_transfer_file(CRLF.join([recs[0], recs[1], *recs[4:]]))
    with pytest.raises(ValueError, match="エンドレコード"):
        parse_transfer_file(CRLF.join(recs[:5]))
    # A trailing CRLF and an EOF mark are tolerated.
    assert parse_transfer_file(data + CRLF + b"\x1a")[2]["count"] == 3


# --------------------------------------------------------------------------- banks and accounts


def test_real_bank_and_branch_codes():
    assert validate_bank("0001", "001") == ("ﾐｽﾞﾎ", "ﾄｳｷﾖｳ")  # みずほ銀行 東京営業部
    assert validate_bank("0001", "813") == ("ﾐｽﾞﾎ", "ｻﾂﾎﾟﾛ")  # みずほ銀行 札幌
    assert validate_bank("0501", "091") == ("ﾎｸﾖｳ", "ﾙﾓｲ")  # 北洋銀行 留萌
    assert validate_bank("1022", "001") == ("ﾙﾓｲｼﾝｷﾝ", "ﾁﾕｳｵｳ")  # 留萌信用金庫 中央


def test_full_width_and_short_codes_are_accepted():
    assert validate_bank("０００１", "００１") == validate_bank("0001", "001")
    assert validate_bank("501", "91") == validate_bank("0501", "091")  # leading zeros lost by Excel


def test_unknown_bank_code():
    with pytest.raises(ValueError, match="^金融機関コード 9999 は存在しません$"):
        validate_bank("9999", "001")


def test_unknown_branch_code_names_the_bank():
    with pytest.raises(ValueError, match="^支店コード 999 は みずほ銀行 にありません$"):
        validate_bank("0001", "999")
    with pytest.raises(ValueError, match="^支店コード 999 は 留萌信金 にありません$"):
        validate_bank("1022", "999")


@pytest.mark.parametrize(
    "bank, branch", [("00001", "001"), ("ABCD", "001"), ("", "001"), ("0001", "1234"), ("0001", "1-2")]
)
def test_malformed_codes(bank, branch):
    with pytest.raises(ValueError, match="桁の数字"):
        validate_bank(bank, branch)


def test_account_types_and_numbers():
    assert validate_account("1", "1234567") == ("1", "1234567")
    assert validate_account("普通", "123") == ("1", "0000123")
    assert validate_account("当座", "７６５４３２１") == ("2", "7654321")
    assert validate_account("4", "1") == ("4", "0000001")
    with pytest.raises(ValueError, match="預金種目"):
        validate_account("3", "1234567")
    with pytest.raises(ValueError, match="口座番号"):
        validate_account("1", "12345678")
    with pytest.raises(ValueError, match="口座番号"):
        validate_account("1", "12-3456")
    with pytest.raises(ValueError, match="口座番号"):
        validate_account("1", "")


# --------------------------------------------------------------------------- kana


@pytest.mark.parametrize(
    "given, expected",
    [
        ("マチノパンヤ", "ﾏﾁﾉﾊﾟﾝﾔ"),
        ("まちのぱんや", "ﾏﾁﾉﾊﾟﾝﾔ"),
        ("ﾏﾁﾉﾊﾟﾝﾔ", "ﾏﾁﾉﾊﾟﾝﾔ"),
        ("キッチン　ジョー", "ｷﾂﾁﾝ ｼﾞﾖｰ"),
        ("ｧｨｩｪｫｬｭｮｯ", "ｱｲｳｴｵﾔﾕﾖﾂ"),
        ("ショップ abc－１２３", "ｼﾖﾂﾌﾟ ABC-123"),
        ("株式会社マチノパンヤ", "ｶ)ﾏﾁﾉﾊﾟﾝﾔ"),
        ("株式会社 まちのぱんや", "ｶ)ﾏﾁﾉﾊﾟﾝﾔ"),
        ("マチノパンヤ株式会社", "ﾏﾁﾉﾊﾟﾝﾔ(ｶ"),
        ("有限会社ヤマダ", "ﾕ)ﾔﾏﾀﾞ"),
        ("ヤマダ有限会社", "ﾔﾏﾀﾞ(ﾕ"),
        ("㈱ルモイ", "ｶ)ﾙﾓｲ"),
        ("（株）ルモイ", "ｶ)ﾙﾓｲ"),
        ("ヴィレッジ・カフェ", "ｳﾞｲﾚﾂｼﾞ.ｶﾌｴ"),
    ],
)
def test_to_zengin_kana(given, expected):
    assert to_zengin_kana(given) == expected
    validate_zengin_kana(expected)


def test_conversion_is_idempotent():
    once = to_zengin_kana("株式会社 きっちん・じょー")
    assert to_zengin_kana(once) == once


def test_kanji_is_refused_with_the_character_named():
    with pytest.raises(ValueError, match="使えない文字「山」"):
        to_zengin_kana("山田パン")
    with pytest.raises(ValueError, match="^受取人名に使えない文字「漢」があります$"):
        validate_zengin_kana("ｶﾝ漢", label="受取人名")
    with pytest.raises(ValueError, match="「ｯ」"):
        validate_zengin_kana("ｷｯﾁﾝ")
    with pytest.raises(ValueError, match="「a」"):
        validate_zengin_kana("abc")


# --------------------------------------------------------------------------- file validation


def test_bad_holder_name_names_the_row():
    transfers = [*TRANSFERS[:2], Transfer("0001", "001", "1", "1", "漢字パン", 100)]
    with pytest.raises(ValueError, match="^3件目: 受取人名に使えない文字「漢」があります$"):
        build(transfers)


def test_bad_bank_and_branch_name_the_row():
    with pytest.raises(ValueError, match="^2件目: 金融機関コード 9999 は存在しません$"):
        build([TRANSFERS[0], Transfer("9999", "001", "1", "1", "ｱ", 1)])
    with pytest.raises(ValueError, match="^1件目: 支店コード 999 は 北洋銀行 にありません$"):
        build([Transfer("0501", "999", "1", "1", "ｱ", 1)])


def test_bad_remitter_is_reported():
    with pytest.raises(ValueError, match="^依頼人: 依頼人コード"):
        build_transfer_file(Remitter("12345", "ﾏﾁ", "0501", "028", "1", "1"), TRANSFERS, DAY)
    with pytest.raises(ValueError, match="^依頼人: 依頼人名に使えない文字「町」"):
        build_transfer_file(Remitter("1234567890", "町", "0501", "028", "1", "1"), TRANSFERS, DAY)


@pytest.mark.parametrize("amount", [0, -1, 1.5, 100.0, True, "100", None, 10_000_000_000])
def test_amounts_must_be_positive_ints_of_at_most_ten_digits(amount):
    with pytest.raises(ValueError, match="^1件目: 振込金額"):
        build([Transfer("0001", "001", "1", "1", "ｱ", amount)])


def test_largest_amount_is_accepted():
    _, rows, trailer = parse_transfer_file(build([Transfer("0001", "001", "1", "1", "ｱ", 9_999_999_999)]))
    assert rows[0]["amount"] == trailer["total"] == 9_999_999_999


def test_total_over_twelve_digits_is_refused():
    transfers = [Transfer("0001", "001", "1", "1", "ｱ", 9_999_999_999)] * 101
    with pytest.raises(ValueError, match="^101件目: 合計金額が12桁"):
        build(transfers)


def test_record_count_limit(monkeypatch):
    assert zengin.MAX_RECORDS == 999_999  # 合計件数 is 6 digits
    monkeypatch.setattr(zengin, "MAX_RECORDS", 3)  # building a million records would be slow
    row = Transfer("0001", "001", "1", "1", "ｱ", 1)
    assert parse_transfer_file(build([row] * 3))[2]["count"] == 3
    with pytest.raises(ValueError, match="振込データが 3 件を超えています"):
        build([row] * 4)


def test_empty_file_and_empty_name_are_refused():
    with pytest.raises(ValueError, match="1件もありません"):
        build([])
    with pytest.raises(ValueError, match="^1件目: 受取人名が空です$"):
        build([Transfer("0001", "001", "1", "1", "　", 1)])


def test_customer_code_must_be_digits():
    with pytest.raises(ValueError, match="^1件目: 顧客コード1"):
        build([Transfer("0001", "001", "1", "1", "ｱ", 1, customer_code="SHOP-1")])
