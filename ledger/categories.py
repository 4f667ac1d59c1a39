"""Shop categories, which decide where 専用券 (shop-only certificates) may be spent."""
from __future__ import annotations

CATEGORIES = {"small": "地元の中小店舗", "large": "大型店"}
CATEGORIES_EN = {"small": "small local shops", "large": "large stores"}


def label(category: str | None, lang: str = "ja") -> str:
    table = CATEGORIES_EN if lang == "en" else CATEGORIES
    return table.get(category or "", category or "")
