"""Reading a Flex text in a test as a resident reads it."""
from __future__ import annotations

import re

_SET_BREAK = re.compile(r"(?<=[\u3000-\u3001\u3003-\u9fff\uff00-\uff00\uff02-\uff1e\uff20-\uffef])\n"
                        r"(?=[\u3000-\u9fff\uff00-\uffef])")


def read_across_lines(text: str) -> str:
    """A Flex text as it reads: the renderer sets long Japanese titles and values on several lines
    between phrases (bot.render._fit), and a reader reads 「お支払いを／受け付けました」 as one phrase.
    A line that ends a sentence (。！？) stays a line of its own."""
    return _SET_BREAK.sub("", text)
