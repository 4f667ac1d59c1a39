"""An English-reading resident reads English names: offers, events, districts and money types come
from the town's data with their English names (Japanese where the town gave none); shop names and
people's names stay as they are written."""
from __future__ import annotations

import re

from sqlalchemy import update

from ledger.models import District
from tests.bot.conftest import EMILY

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff01-\uff5e]")


def test_offer_event_district_and_history_in_english(phone):
    emily = phone(EMILY)
    emily.say("vouchers")
    assert "Premium vouchers, second round (lottery)" in emily.text() and not JAPANESE.search(emily.text())
    emily.say("cancel")
    emily.say("check in")
    emily.say("KAIGAN")
    assert "Beach clean-up (volunteer)" in emily.text()
    emily.say("history")
    said = emily.text()
    assert "Beach clean-up (volunteer) · Volunteer points" in said and "海岸" not in said
    emily.say("change details")
    assert "Tomamae" in emily.text() and "苫前" not in emily.text()


def test_a_district_without_an_english_name_reads_as_written(phone, machi):
    with machi.db.write() as s:
        s.execute(update(District).where(District.name == "苫前").values(name_en=""))
    emily = phone(EMILY)
    emily.say("change details")
    assert "苫前" in emily.text()
