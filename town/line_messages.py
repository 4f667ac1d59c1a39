"""The LINE messages staff commands send, as plain LINE JSON (text or Flex), checked against LINE's
official OpenAPI spec (`bot.line_check`: LINE's spec files, or the SDK's models) before anything is
stored or sent."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from bot import line_check
from ledger.errors import InvalidInput

MAX_MESSAGES = 5
MAX_TEXT = 5000


def text(body: str) -> dict[str, Any]:
    return {"type": "text", "text": body}


def check(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Refuse what LINE would refuse, before it is stored: 1–5 messages, each valid per the spec."""
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        raise InvalidInput(f"メッセージは1〜{MAX_MESSAGES}件です。")
    for m in messages:
        if not isinstance(m, dict):
            raise InvalidInput("メッセージの形式が正しくありません（LINEのメッセージオブジェクトのJSON）。")
        if m.get("type") == "text" and not str(m.get("text", "")).strip():
            raise InvalidInput("本文が空です。")
    problems = line_check.validate_messages(messages)
    if problems:
        raise InvalidInput("LINEが受け付けない形式です: " + "; ".join(problems[:3]))
    return messages


def from_flex_file(path: Path, alt_text: str) -> dict[str, Any]:
    """A Flex message from a JSON file holding either a whole message or just its bubble/carousel."""
    try:
        body = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"Flexメッセージのファイル「{path}」を読めません（JSONではありません）。") from exc
    if isinstance(body, dict) and body.get("type") == "flex":
        return body
    if not alt_text.strip():
        raise InvalidInput("Flexメッセージには通知に出る代替テキスト（--alt-text）が必要です。")
    return {"type": "flex", "altText": alt_text[:1500], "contents": body}


def lottery_won(offer_name: str, sets: int, until: date) -> dict[str, Any]:
    return text(f"【当選のお知らせ】{offer_name}の抽選に当選しました（{sets}セット）。\n"
                f"{until:%Y年%-m月%-d日}までに、役場・商工会の窓口またはLINEでご購入ください。")


def lottery_lost(offer_name: str) -> dict[str, Any]:
    return text(f"【抽選結果のお知らせ】{offer_name}の抽選は、残念ながら落選となりました。"
                "たくさんのお申し込みをありがとうございました。")


def grant_issued(program_name: str, amount: int, money_name: str, valid_text: str,
                 language: str = "ja") -> dict[str, Any]:
    """The notice of a push-type grant: the same for every recipient, so it goes out by multicast."""
    en = language == "en"
    title = "A benefit has arrived" if en else "給付金が届きました"
    shown = f"{amount:,} yen" if en else f"{amount:,}円"
    rows: list[dict[str, Any]] = [
        {"type": "text", "text": title, "size": "sm", "color": "#0B3D91", "weight": "bold"},
        {"type": "text", "text": program_name, "size": "xl", "weight": "bold", "wrap": True},
        {"type": "text", "text": shown, "size": "xxl", "weight": "bold", "color": "#111111"},
        {"type": "text", "text": f"{'Kind' if en else '種類'}: {money_name}", "size": "md", "wrap": True},
    ]
    if valid_text:
        rows.append({"type": "text", "text": valid_text, "size": "md", "color": "#B00020", "wrap": True})
    label = "See balance" if en else "残高を見る"
    return {
        "type": "flex",
        "altText": f"{title}: {program_name} {shown}",
        "contents": {
            "type": "bubble",
            "body": {"type": "box", "layout": "vertical", "spacing": "md", "contents": rows},
            "footer": {"type": "box", "layout": "vertical", "contents": [{
                "type": "button", "style": "primary", "height": "md",
                "action": {"type": "postback", "label": label, "data": "flow=balance", "displayText": label},
            }]},
        },
    }
