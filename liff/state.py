"""What the LIFF layer keeps for the life of the app: the ID-token verifier, the QR token signer,
the money type names and the rotating event codes' checker. Kept on the Machi container so tests can reach and adjust them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from ledger.event_codes import RotatingCodes
from liff.auth import IdTokenVerifier
from liff.present import MoneyTypeNames
from liff.tokens import CpmTokens

KEY = "liff"


@dataclass
class LiffState:
    verifier: IdTokenVerifier
    tokens: CpmTokens
    names: MoneyTypeNames
    event_codes: RotatingCodes


def build(machi: Any) -> LiffState:
    config = machi.config
    return LiffState(verifier=IdTokenVerifier(config.line_api_host, config.line_login_channel_id),
                     tokens=CpmTokens(config.derived_key("qr")), names=MoneyTypeNames(machi.db.engine),
                     event_codes=RotatingCodes(config.secret_key))


def state() -> LiffState:
    return current_app.extensions["machi"].extras[KEY]
