"""The bot's own words (the flows carry theirs in YAML): notes outside any conversation."""
from __future__ import annotations

from flows.messages import QuickReply, Text
from flows.present import say

GROUP_NOTE = ("まちウォレットは、1対1のトークでご利用いただけるサービスです。グループではお返事できません。"
              "友だち追加して、個別のトークからお使いください。\n"
              "Machi Wallet works in one-to-one chats only. Please add it as a friend and use it there.")


def group_note() -> Text:
    return Text(GROUP_NOTE)


def welcome_back(name: str, lang: str, menu: list[QuickReply]) -> Text:
    return Text(say(lang, f"{name}さん、おかえりなさい。登録内容と残高はそのままです。下のメニューからどうぞ。",
                    f"Welcome back, {name}. Your registration and balance are as you left them."), menu)
