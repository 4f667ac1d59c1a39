"""click's usage errors in Japanese: staff see 「オプション --reason が必要です」, not "Missing option '--reason'".

click words these in English (through gettext, with no Japanese catalogue); their shapes are few and stable,
so each is matched and said again in Japanese. Anything not recognised keeps click's text after a Japanese
lead, so nothing is lost.
"""
from __future__ import annotations

import re
import typing

import click

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Missing option '([^']+)'.*"), "オプション {0} を指定してください。"),
    (re.compile(r"Missing argument '([^']+)'.*"), "{0} を指定してください。"),
    (re.compile(r"No such option:? '?([^'\s]+?)'?\.?(?: Did you mean '?([^'\s?]+?)'?\?)?"),
     "{0} というオプションはありません。"),
    (re.compile(r"No such command '([^']+)'.*"), "「{0}」というコマンドはありません。"),
    (re.compile(r"Option '([^']+)' requires an argument.*"), "オプション {0} には値が必要です。"),
    (re.compile(r"Option '([^']+)' does not take a value.*"), "オプション {0} に値は付けられません。"),
    (re.compile(r"Got unexpected extra arguments? \((.*)\)"), "余分な引数があります: {0}"),
    (re.compile(r"Invalid value for '([^']+)': (.*)", re.S), "{0} の値が正しくありません: {1}"),
    (re.compile(r"Missing command\.?"), "コマンドを指定してください。"),
]


def translate(message: str) -> str:
    for pattern, ja in _PATTERNS:
        m = pattern.fullmatch(message.strip())
        if m:
            text = ja.format(*(g or "" for g in m.groups()))
            if pattern.pattern.startswith("No such option") and m.group(2):
                text += f"（{m.group(2)} のことですか？）"
            return text
    return f"入力が正しくありません: {message}"


class JaUsageError(click.UsageError):
    """A usage error shown in Japanese, with the command's usage line and where to find help."""

    def show(self, file: typing.IO[typing.Any] | None = None) -> None:
        if self.ctx is not None:
            click.echo(self.ctx.get_usage().replace("Usage:", "使い方:", 1), file=file, err=True)
            click.echo(f"使い方は `{self.ctx.command_path} -h` で確かめてください。\n", file=file, err=True)
        click.echo(f"エラー: {self.format_message()}", file=file, err=True)


def japanese(exc: click.UsageError) -> JaUsageError:
    return JaUsageError(translate(exc.format_message()), ctx=exc.ctx)


class JaError(click.ClickException):
    """A refusal (a ledger rule, a missing setting) shown as 「エラー: …」 rather than click's "Error: …"."""

    def show(self, file: typing.IO[typing.Any] | None = None) -> None:
        click.echo(f"エラー: {self.format_message()}", file=file, err=True)
