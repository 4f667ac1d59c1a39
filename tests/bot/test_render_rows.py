"""Rows of a card never break a value in the middle of a word on a narrow phone: a pair that fits
on one line stays side by side with the value unwrapped, a longer one puts the value under its label
(the values of the issue: 「500ポイン/ト」, 「いちばん近い期/限」, 「出産祝い給/付金」, 「スズキ ケン/タ」)."""
from __future__ import annotations

import pytest

from bot.render import Renderer
from flows.messages import Card

ROWS = [("ポイント", "500ポイント"), ("いちばん近い期限", "2027年12月4日まで"), ("給付金", "出産祝い給付金"),
        ("お名前", "スズキ ケンタ"), ("生年月日", "1990年5月3日"), ("金額", "800円")]


def rendered_rows(label: str, value: str) -> dict:
    bubble = Renderer("liff").bubble(Card(title="t", rows=[(label, value)]))
    return bubble["body"]["contents"][-1]


@pytest.mark.parametrize(("label", "value"), ROWS)
def test_a_value_is_never_squeezed_beside_its_label(label, value):
    row = rendered_rows(label, value)
    label_part, value_part = row["contents"]
    assert label_part["text"] == label and value_part["text"] == value
    if row["layout"] == "horizontal":
        assert value_part["wrap"] is False and value_part["flex"] == 0  # takes the width it needs
    else:
        assert row["layout"] == "vertical" and "flex" not in value_part  # the whole line is the value's


def test_short_pairs_stay_side_by_side_and_long_ones_stack():
    assert rendered_rows("金額", "800円")["layout"] == "horizontal"
    assert rendered_rows("いちばん近い期限", "2027年12月4日まで")["layout"] == "vertical"
    assert rendered_rows("使えるお店", "町内のすべての加盟店")["layout"] == "vertical"


# Japanese longer than a line of a narrow phone is set on lines between phrases (LINE itself breaks
# Japanese at any character: 「プレミ／アム商品券」); English is left to LINE, which breaks at spaces.
LONG = [("500ポイント → プレミアム商品券（共通券） 500円分", ["500ポイント →", "プレミアム商品券", "（共通券） 500円分"]),
        ("1945年5月3日（昭和20年）", ["1945年5月3日", "（昭和20年）"])]


@pytest.mark.parametrize(("value", "lines"), LONG)
def test_a_long_japanese_value_is_set_on_lines_between_phrases(value, lines):
    _label, shown = rendered_rows("交換", value)["contents"]
    assert shown["text"].split("\n") == lines


def test_titles_keep_whole_words_a_size_smaller_or_on_two_lines():
    def title(text: str) -> dict:
        return Renderer("liff").bubble(Card(title=text))["body"]["contents"][0]

    assert (title("残高の合計")["text"], title("残高の合計")["size"]) == ("残高の合計", "xl")
    assert (title("お支払いが完了しました")["text"], title("お支払いが完了しました")["size"]) == ("お支払いが完了しました", "lg")
    assert title("退会の前にご確認ください")["text"] == "退会の前に\nご確認ください"
    assert title("Before you withdraw, please read this")["text"] == "Before you withdraw, please read this"


def test_a_long_amount_is_set_a_size_smaller_not_broken():
    amount = Renderer("liff").bubble(Card(title="t", amount="12,500ポイント"))["body"]["contents"][1]
    assert amount["text"] == "12,500ポイント" and amount["size"] == "xl"
