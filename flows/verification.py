"""Identity verification (本人確認) after registration, behind one small interface.

A new registration is `unverified` until someone checks who the person is. Today that is the
town office counter: the resident shows an ID card and staff complete it (`machi resident
verify`, which calls `CounterVerifier.complete`). Verification with the My Number Card (公的個人
認証, JPKI) needs a certified provider and an app; `MyNumberCardVerifier` is its place in the
design, and until a provider is contracted it refuses honestly: it never reports a success it
did not check.
"""
from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from flows.errors import ActionError
from flows.present import say
from ledger.clock import utcnow
from ledger.errors import NotFound
from ledger.models import Resident


class Verifier(Protocol):
    """Starts verification for a resident and tells them, in their language, what happens next."""

    method: str

    def start(self, resident_id: int, lang: str) -> str: ...


class CounterVerifier:
    """In person at the town office: the resident brings an ID; staff mark them verified."""

    method = "counter"

    def __init__(self, office: str = "役場の窓口（産業振興課）", office_en: str = "the town office (Industry Promotion)") -> None:
        self.office, self.office_en = office, office_en

    def start(self, resident_id: int, lang: str) -> str:
        return say(lang,
                   f"本人確認のため、運転免許証・マイナンバーカード・保険証などをお持ちのうえ、{self.office}へお越しください。"
                   "確認が済むと、給付金の受け取りなどすべての機能をご利用いただけます。",
                   f"To confirm who you are, please bring an ID (driving licence, My Number Card or residence card) "
                   f"to {self.office_en}. Once checked, every feature, benefits included, is open to you.")

    def complete(self, s: Session, resident_id: int) -> Resident:
        """Staff saw the ID at the counter (called by the staff command, inside its transaction)."""
        resident = s.get(Resident, resident_id)
        if resident is None:
            raise NotFound("利用者が見つかりません。", message_en="Resident not found.")
        resident.verification, resident.verified_at = "counter", utcnow()
        return resident


class MyNumberCardVerifier:
    """Online verification with the My Number Card, not available until a JPKI provider is in place."""

    method = "mynumber"

    def start(self, resident_id: int, lang: str) -> str:
        raise ActionError("マイナンバーカードでの本人確認は準備中です。お手数ですが、役場の窓口で本人確認をお願いします。",
                          "Verification with the My Number Card is not available yet. "
                          "Please have your identity checked at the town office.")


VERIFIERS: dict[str, type] = {"counter": CounterVerifier, "mynumber": MyNumberCardVerifier}
