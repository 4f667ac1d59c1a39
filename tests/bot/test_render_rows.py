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
