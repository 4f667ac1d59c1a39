"""The engine's own words in Japanese (default) and English, kept short for large type.

Flow YAML carries its own texts (a string, or `{ja: ..., en: ...}`); `pick` chooses from those.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LANGS = ("ja", "en")

CATALOGUE: dict[str, dict[str, str]] = {
    # navigation
    "cancel": {"ja": "やめる", "en": "Cancel"},
    "back": {"ja": "戻る", "en": "Back"},
    "skip": {"ja": "とばす", "en": "Skip"},
    "yes": {"ja": "はい", "en": "Yes"},
    "no": {"ja": "いいえ", "en": "No"},
    "pick_date": {"ja": "日付をえらぶ", "en": "Pick a date"},
    "send_location": {"ja": "位置を送る", "en": "Send location"},
    "camera": {"ja": "カメラ", "en": "Camera"},
    "camera_roll": {"ja": "写真をえらぶ", "en": "Photos"},
    # cancel / back / timeout / resume
    "cancelled": {
        "ja": "手続きをやめました。内容は何も変更されていません。",
        "en": "Stopped. Nothing has been changed.",
    },
    "nothing_to_cancel": {"ja": "いま進めている手続きはありません。", "en": "There is nothing in progress."},
    "cannot_go_back": {"ja": "これより前には戻れません。", "en": "You cannot go back any further."},
    "timed_out": {
        "ja": "時間が経ったため、手続きを中断しました。内容は変更されていません。",
        "en": "It has been a while, so the procedure was stopped. Nothing has been changed.",
    },
    "resume": {"ja": "「{title}」の続きです。", "en": "Back to “{title}”."},
    "dropped": {"ja": "「{title}」は中断しました。", "en": "“{title}” was stopped."},
    "continue_here": {"ja": "続きからどうぞ。", "en": "Please continue."},
    "stale_button": {
        "ja": "そのボタンは前の質問のものです。いまの質問にお答えください。",
        "en": "That button belongs to an earlier question. Please answer this one.",
    },
    "flow_gone": {
        "ja": "手続きの内容が変わったため、中断しました。もう一度はじめからお願いします。",
        "en": "This procedure has changed, so it was stopped. Please start again.",
    },
    # confirm / correction
    "confirm_title": {"ja": "内容の確認", "en": "Please check"},
    "confirm_question": {"ja": "この内容でよろしいですか？", "en": "Is this correct?"},
    "confirm_yes": {"ja": "はい、送る", "en": "Yes, send"},
    "confirm_fix": {"ja": "直す", "en": "Change"},
    "which_fix": {"ja": "どれを直しますか？", "en": "What would you like to change?"},
    "fix_item": {"ja": "{label}を直す", "en": "Change {label}"},
    "confirm_hint": {
        "ja": "「はい」か「直す」を選んでください。",
        "en": "Please choose “Yes” or “Change”.",
    },
    "not_answered": {"ja": "（なし）", "en": "(none)"},
    # errors
    "invalid_choice": {
        "ja": "下のボタンから選んでください。",
        "en": "Please choose one of the buttons below.",
    },
    "action_failed": {
        "ja": "うまく処理できませんでした。時間をおいて、もう一度お試しください。",
        "en": "Something went wrong. Please try again later.",
    },
    "not_ready": {
        "ja": "この手続きはまだ準備中です。窓口にお問い合わせください。",
        "en": "This is not available yet. Please ask at the town office.",
    },
    "need_date": {"ja": "日付を入力してください。", "en": "Please enter a date."},
    "need_location": {
        "ja": "下の「位置を送る」から場所を送ってください。",
        "en": "Please send a location with the button below.",
    },
    "need_image": {
        "ja": "下のボタンから写真を送ってください。",
        "en": "Please send a photo with the buttons below.",
    },
    "need_text": {"ja": "文字で入力してください。", "en": "Please type your answer."},
    # help
    "help": {
        "ja": "ご用件を下のボタンから選んでください。",
        "en": "Please choose what you would like to do.",
    },
    "welcome": {
        "ja": "友だち追加ありがとうございます。まちウォレットです。",
        "en": "Thank you for adding us. This is Machi Wallet.",
    },
    # surveys
    "already_answered": {"ja": "すでに回答済みです。ありがとうございました。", "en": "You have already answered. Thank you."},
    # display of values
    "date": {"ja": "{y}年{m}月{d}日", "en": "{month} {d}, {y}"},
}

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def norm_lang(lang: str | None) -> str:
    """LINE reports e.g. 'en', 'en-US', 'ja'; anything English is 'en', the rest Japanese."""
    return "en" if (lang or "").lower().startswith("en") else "ja"


def t(key: str, lang: str | None = "ja", **kw: Any) -> str:
    """The catalogue text for `key`, English when lang is English, else Japanese."""
    entry = CATALOGUE[key]
    text = entry.get(norm_lang(lang)) or entry["ja"]
    return text.format(**kw) if kw else text


def pick(value: str | Mapping[str, str] | None, lang: str | None = "ja") -> str:
    """A YAML text: a plain string, or a {ja, en} mapping with Japanese as the fallback."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return value.get(norm_lang(lang)) or value.get("ja") or next(iter(value.values()), "")


def month_name(month: int) -> str:
    return _MONTHS[month - 1]
