"""Zengin (全銀協) 総合振込 transfer files, used to pay shops by bank transfer.

The format is the 全銀協規定 fixed-length one: every record is 120 bytes of JIS X 0201 /
Shift_JIS (half-width kana are one byte each), records are separated by CRLF (configurable).
A file is one header record (データ区分 1), one data record per transfer (2), a trailer (8) and an
end record (9).

Numeric fields (N) are right-aligned and zero-padded; an unused numeric field (e.g. 手形交換所番号)
is filled with spaces. Alphanumeric fields (C) are left-aligned, space-padded and truncated at
their length.

Pure functions only: no database and no I/O besides returning ``bytes``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import zengin_code

from ledger.kana import to_zengin_kana

__all__ = [
    "ACCOUNT_TYPES",
    "CRLF",
    "DATA_FIELDS",
    "END_FIELDS",
    "HEADER_FIELDS",
    "MAX_AMOUNT",
    "MAX_RECORDS",
    "MAX_TOTAL",
    "RECORD_LENGTH",
    "TRAILER_FIELDS",
    "Remitter",
    "Transfer",
    "bank_display_name",
    "build_transfer_file",
    "parse_transfer_file",
    "validate_account",
    "validate_bank",
]

RECORD_LENGTH = 120
CRLF = b"\r\n"
ENCODING = "cp932"

TYPE_CODE_GENERAL_TRANSFER = "21"  # 種別コード: 総合振込
CODE_DIVISION_JIS = "0"  # コード区分: JIS (Shift_JIS)
TRANSFER_KIND_TELEGRAPHIC = "7"  # 振込指定区分: テレ振込

MAX_RECORDS = 999_999  # 合計件数: 6 digits
MAX_AMOUNT = 9_999_999_999  # 振込金額: 10 digits
MAX_TOTAL = 999_999_999_999  # 合計金額: 12 digits

#: 預金種目 code -> name.
ACCOUNT_TYPES: dict[str, str] = {"1": "普通", "2": "当座", "4": "貯蓄"}
_ACCOUNT_TYPE_WORDS: dict[str, str] = {
    "普通": "1",
    "普通預金": "1",
    "総合": "1",
    "当座": "2",
    "当座預金": "2",
    "貯蓄": "4",
    "貯蓄預金": "4",
}

# (key, length, kind): kind "N" numeric, "C" alphanumeric (half-width kana etc.).
Field = tuple[str, int, str]

HEADER_FIELDS: tuple[Field, ...] = (
    ("data_type", 1, "N"),  # データ区分 = 1
    ("type_code", 2, "N"),  # 種別コード = 21 総合振込
    ("code_division", 1, "N"),  # コード区分 = 0 JIS
    ("remitter_code", 10, "N"),  # 振込依頼人コード
    ("remitter_name", 40, "C"),  # 振込依頼人名
    ("transfer_date", 4, "N"),  # 振込指定日 MMDD
    ("bank_code", 4, "N"),  # 仕向銀行番号
    ("bank_name", 15, "C"),  # 仕向銀行名
    ("branch_code", 3, "N"),  # 仕向支店番号
    ("branch_name", 15, "C"),  # 仕向支店名
    ("account_type", 1, "N"),  # 預金種目（依頼人）
    ("account_number", 7, "N"),  # 口座番号（依頼人）
    ("dummy", 17, "C"),  # ダミー
)

DATA_FIELDS: tuple[Field, ...] = (
    ("data_type", 1, "N"),  # データ区分 = 2
    ("bank_code", 4, "N"),  # 被仕向銀行番号
    ("bank_name", 15, "C"),  # 被仕向銀行名
    ("branch_code", 3, "N"),  # 被仕向支店番号
    ("branch_name", 15, "C"),  # 被仕向支店名
    ("clearing_house", 4, "N"),  # 手形交換所番号 (unused: spaces)
    ("account_type", 1, "N"),  # 預金種目
    ("account_number", 7, "N"),  # 口座番号
    ("holder_name", 30, "C"),  # 受取人名
    ("amount", 10, "N"),  # 振込金額
    ("new_code", 1, "N"),  # 新規コード = 0
    ("customer_code1", 10, "N"),  # 顧客コード1
    ("customer_code2", 10, "N"),  # 顧客コード2
    ("transfer_kind", 1, "N"),  # 振込指定区分 = 7 テレ振込
    ("edi_flag", 1, "C"),  # 識別表示 (space)
    ("dummy", 7, "C"),  # ダミー
)

TRAILER_FIELDS: tuple[Field, ...] = (
    ("data_type", 1, "N"),  # データ区分 = 8
    ("count", 6, "N"),  # 合計件数
    ("total", 12, "N"),  # 合計金額
    ("dummy", 101, "C"),  # ダミー
)

END_FIELDS: tuple[Field, ...] = (
    ("data_type", 1, "N"),  # データ区分 = 9
    ("dummy", 119, "C"),  # ダミー
)

for _fields in (HEADER_FIELDS, DATA_FIELDS, TRAILER_FIELDS, END_FIELDS):
    assert sum(length for _, length, _ in _fields) == RECORD_LENGTH, _fields


# --------------------------------------------------------------------------- validation


def _digits(value: Any, label: str, length: int, *, pad: bool = True) -> str:
    """Normalise a code to ``length`` ASCII digits (full-width digits accepted).

    Shorter numeric input is zero-padded when ``pad`` (spreadsheets drop leading zeros).
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"{label}は数字で指定してください")
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text or not text.isascii() or not text.isdigit():
        raise ValueError(f"{label}は{length}桁の数字で指定してください（「{value}」）")
    if len(text) > length or (len(text) < length and not pad):
        raise ValueError(f"{label}は{length}桁の数字で指定してください（「{value}」）")
    return text.zfill(length)


def bank_display_name(bank: zengin_code.Bank) -> str:
    """The bank's name for messages: ``みずほ`` -> ``みずほ銀行``, ``留萌信金`` unchanged."""
    name = bank.name
    if bank.code < "1000" and not name.endswith("銀行") and "バンク" not in name:
        name += "銀行"
    return name


def validate_bank(bank_code: str, branch_code: str) -> tuple[str, str]:
    """Check a 4-digit 金融機関コード and 3-digit 支店コード against the ``zengin_code`` data.

    Full-width digits are accepted and shorter codes are zero-padded. Returns the bank's and
    the branch's half-width kana names as written in a transfer file, e.g.
    ``validate_bank("0001", "001") == ("ﾐｽﾞﾎ", "ﾄｳｷﾖｳ")``.
    """
    bank_code = _digits(bank_code, "金融機関コード", 4)
    branch_code = _digits(branch_code, "支店コード", 3)
    bank = zengin_code.Bank.all.get(bank_code)
    if bank is None:
        raise ValueError(f"金融機関コード {bank_code} は存在しません")
    branch = bank.branches.get(branch_code)
    if branch is None:
        raise ValueError(f"支店コード {branch_code} は {bank_display_name(bank)} にありません")
    return (
        to_zengin_kana(bank.kana, label="金融機関名"),
        to_zengin_kana(branch.kana, label="支店名"),
    )


def _normalize_codes(bank_code: Any, branch_code: Any) -> tuple[str, str]:
    return _digits(bank_code, "金融機関コード", 4), _digits(branch_code, "支店コード", 3)


def validate_account(account_type: str, account_number: str) -> tuple[str, str]:
    """Check 預金種目 and 口座番号; return ``(type digit, 7-digit number)``.

    ``account_type`` is ``1`` 普通, ``2`` 当座 or ``4`` 貯蓄 (the words are accepted too).
    ``account_number`` is up to 7 digits; shorter numbers are zero-padded.
    """
    if isinstance(account_type, bool) or not isinstance(account_type, (str, int)):
        raise ValueError("預金種目は 1(普通)・2(当座)・4(貯蓄) のいずれかで指定してください")
    kind = unicodedata.normalize("NFKC", str(account_type)).strip()
    kind = _ACCOUNT_TYPE_WORDS.get(kind, kind)
    if kind not in ACCOUNT_TYPES:
        raise ValueError(f"預金種目「{account_type}」は使えません（1(普通)・2(当座)・4(貯蓄) のいずれか）")
    number = _digits(account_number, "口座番号", 7)
    return kind, number


def _kana_field(value: Any, label: str, *, required: bool = True) -> str:
    kana = to_zengin_kana(value, label=label)
    if required and not kana:
        raise ValueError(f"{label}が空です")
    return kana


def _customer_code(value: Any, label: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    return _digits(value, label, 10)


def _amount(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"振込金額は円単位の整数で指定してください（{value!r}）")
    if value <= 0:
        raise ValueError(f"振込金額は1円以上にしてください（{value}）")
    if value > MAX_AMOUNT:
        raise ValueError(f"振込金額 {value:,} 円は10桁を超えています")
    return value


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Remitter:
    """振込依頼人: the town's account the transfers are paid from."""

    code: str  # 依頼人コード (10 digits, assigned by the bank)
    name_kana: str
    bank_code: str
    branch_code: str
    account_type: str
    account_number: str


@dataclass(frozen=True)
class Transfer:
    """One payment to a shop's account."""

    bank_code: str
    branch_code: str
    account_type: str
    account_number: str
    holder_kana: str
    amount: int
    customer_code: str = ""  # 顧客コード1 (up to 10 digits, optional)
    customer_code2: str = ""  # 顧客コード2 (up to 10 digits, optional)


def _render(fields: Sequence[Field], values: dict[str, Any]) -> bytes:
    out = bytearray()
    for key, length, kind in fields:
        value = values.get(key, "")
        if kind == "N":
            text = str(value)
            if text == "":
                out += b" " * length
                continue
            if not (text.isascii() and text.isdigit()) or len(text) > length:
                raise ValueError(f"{key}: {text!r} does not fit N({length})")  # internal error
            out += text.rjust(length, "0").encode("ascii")
        else:
            raw = str(value).encode(ENCODING)
            out += raw[:length].ljust(length, b" ")
    if len(out) != RECORD_LENGTH:  # pragma: no cover - guarded by the field tables
        raise AssertionError(f"record is {len(out)} bytes")
    return bytes(out)


def _header_record(remitter: Remitter, transfer_date: date) -> bytes:
    try:
        code = _digits(remitter.code, "依頼人コード", 10, pad=False)
        name = _kana_field(remitter.name_kana, "依頼人名")
        bank_code, branch_code = _normalize_codes(remitter.bank_code, remitter.branch_code)
        bank_name, branch_name = validate_bank(bank_code, branch_code)
        kind, number = validate_account(remitter.account_type, remitter.account_number)
    except ValueError as exc:
        raise ValueError(f"依頼人: {exc}") from exc
    return _render(
        HEADER_FIELDS,
        {
            "data_type": "1",
            "type_code": TYPE_CODE_GENERAL_TRANSFER,
            "code_division": CODE_DIVISION_JIS,
            "remitter_code": code,
            "remitter_name": name,
            "transfer_date": transfer_date.strftime("%m%d"),
            "bank_code": bank_code,
            "bank_name": bank_name,
            "branch_code": branch_code,
            "branch_name": branch_name,
            "account_type": kind,
            "account_number": number,
        },
    )


def _data_record(transfer: Transfer) -> tuple[bytes, int]:
    bank_code, branch_code = _normalize_codes(transfer.bank_code, transfer.branch_code)
    bank_name, branch_name = validate_bank(bank_code, branch_code)
    kind, number = validate_account(transfer.account_type, transfer.account_number)
    holder = _kana_field(transfer.holder_kana, "受取人名")
    amount = _amount(transfer.amount)
    record = _render(
        DATA_FIELDS,
        {
            "data_type": "2",
            "bank_code": bank_code,
            "bank_name": bank_name,
            "branch_code": branch_code,
            "branch_name": branch_name,
            "clearing_house": "",
            "account_type": kind,
            "account_number": number,
            "holder_name": holder,
            "amount": str(amount),
            "new_code": "0",
            "customer_code1": _customer_code(transfer.customer_code, "顧客コード1"),
            "customer_code2": _customer_code(transfer.customer_code2, "顧客コード2"),
            "transfer_kind": TRANSFER_KIND_TELEGRAPHIC,
            "edi_flag": " ",
        },
    )
    return record, amount


def build_transfer_file(
    remitter: Remitter,
    transfers: Iterable[Transfer],
    transfer_date: date,
    *,
    separator: bytes = CRLF,
) -> bytes:
    """Build a Zengin 総合振込 file: header, one data record per transfer, trailer, end record.

    Every record is exactly 120 bytes of cp932; records are joined with ``separator`` (CRLF by
    default, ``b""`` for a file without line breaks). Raises :class:`ValueError` with a Japanese
    message naming the row (``3件目: 受取人名に使えない文字「漢」があります``).
    """
    if not isinstance(transfer_date, date):
        raise ValueError("振込指定日は日付で指定してください")
    if not isinstance(separator, bytes) or separator.strip(b"\r\n"):
        raise ValueError("separator must be CRLF, LF or empty bytes")
    records = [_header_record(remitter, transfer_date)]
    total = 0
    count = 0
    for count, transfer in enumerate(transfers, start=1):
        if count > MAX_RECORDS:
            raise ValueError(f"振込データが {MAX_RECORDS:,} 件を超えています")
        try:
            if not isinstance(transfer, Transfer):
                raise ValueError("振込データの形式が正しくありません")
            record, amount = _data_record(transfer)
        except ValueError as exc:
            raise ValueError(f"{count}件目: {exc}") from exc
        total += amount
        if total > MAX_TOTAL:
            raise ValueError(f"{count}件目: 合計金額が12桁（{MAX_TOTAL:,} 円）を超えています")
        records.append(record)
    if count == 0:
        raise ValueError("振込データが1件もありません")
    records.append(_render(TRAILER_FIELDS, {"data_type": "8", "count": str(count), "total": str(total)}))
    records.append(_render(END_FIELDS, {"data_type": "9"}))
    return separator.join(records)


# --------------------------------------------------------------------------- parsing


def _split_records(data: bytes) -> list[bytes]:
    """Cut ``data`` into 120-byte records, with or without CRLF / LF between them."""
    records: list[bytes] = []
    pos = 0
    size = len(data)
    while pos < size:
        if data[pos : pos + 1] in (b"\r", b"\n", b"\x1a"):  # separators, EOF mark
            pos += 1
            continue
        record = data[pos : pos + RECORD_LENGTH]
        number = len(records) + 1
        if len(record) < RECORD_LENGTH or b"\r" in record or b"\n" in record:
            cut = min((i for i in (record.find(b"\r"), record.find(b"\n")) if i >= 0), default=len(record))
            raise ValueError(f"{number}レコード目の長さが {cut} バイトです（120バイト必要）")
        records.append(record)
        pos += RECORD_LENGTH
    return records


def _parse_record(record: bytes, fields: Sequence[Field], where: str) -> dict[str, str]:
    values: dict[str, str] = {}
    pos = 0
    for key, length, kind in fields:
        raw = record[pos : pos + length]
        pos += length
        try:
            text = raw.decode(ENCODING)
        except UnicodeDecodeError as exc:
            raise ValueError(f"{where}: {key} を Shift_JIS として読めません") from exc
        if key == "dummy":
            continue
        if kind == "N":
            stripped = text.strip()
            if stripped and not (stripped.isascii() and stripped.isdigit()):
                raise ValueError(f"{where}: 数字項目 {key} に数字以外「{text}」があります")
            values[key] = stripped
        else:
            values[key] = text.rstrip(" ")
    return values


def parse_transfer_file(data: bytes) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """Read a 総合振込 file back: ``(header, data records, trailer)``.

    Keys follow :data:`HEADER_FIELDS`, :data:`DATA_FIELDS` and :data:`TRAILER_FIELDS`
    (dummies left out); codes stay strings, ``amount``, ``count`` and ``total`` are ints.
    Raises :class:`ValueError` if the structure is wrong or the trailer's totals do not match.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise ValueError("ファイルの内容は bytes で渡してください")
    records = _split_records(bytes(data))
    if not records:
        raise ValueError("ファイルが空です")
    kinds = [r[:1] for r in records]
    if kinds[0] != b"1":
        raise ValueError("1レコード目がヘッダー（データ区分1）ではありません")
    header = _parse_record(records[0], HEADER_FIELDS, "ヘッダー")
    if header["type_code"] != TYPE_CODE_GENERAL_TRANSFER:
        raise ValueError(f"種別コード {header['type_code']} は総合振込（21）ではありません")

    rows: list[dict[str, Any]] = []
    index = 1
    while index < len(records) and kinds[index] == b"2":
        row: dict[str, Any] = _parse_record(records[index], DATA_FIELDS, f"{index}件目")
        if not row["amount"]:
            raise ValueError(f"{index}件目: 振込金額が空です")
        row["amount"] = int(row["amount"])
        rows.append(row)
        index += 1
    if index >= len(records) or kinds[index] != b"8":
        raise ValueError(f"{index + 1}レコード目がトレーラー（データ区分8）ではありません")
    trailer: dict[str, Any] = _parse_record(records[index], TRAILER_FIELDS, "トレーラー")
    index += 1
    if index >= len(records) or kinds[index] != b"9":
        raise ValueError("エンドレコード（データ区分9）がありません")
    if index + 1 != len(records):
        raise ValueError("エンドレコードの後にデータがあります")

    trailer["count"] = int(trailer["count"] or 0)
    trailer["total"] = int(trailer["total"] or 0)
    if trailer["count"] != len(rows):
        raise ValueError(f"トレーラーの合計件数 {trailer['count']} がデータ件数 {len(rows)} と一致しません")
    total = sum(row["amount"] for row in rows)
    if trailer["total"] != total:
        raise ValueError(f"トレーラーの合計金額 {trailer['total']:,} が明細の合計 {total:,} と一致しません")
    return header, rows, trailer
