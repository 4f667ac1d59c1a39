"""What the LIFF layer keeps for the life of the app: the ID-token verifier, the QR token signer
and the money type names. Kept on the Machi container so tests can reach and adjust them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from liff.auth import IdTokenVerifier
from liff.present import MoneyTypeNames
from liff.tokens import CpmTokens

KEY = "liff"


@dataclass
class LiffState:
    verifier: IdTokenVerifier
    tokens: CpmTokens
    names: MoneyTypeNames


def build(machi: Any) -> LiffState:
    config = machi.config
    return LiffState(verifier=IdTokenVerifier(config.line_api_host, config.line_login_channel_id),
                     tokens=CpmTokens(config.derived_key("qr")), names=MoneyTypeNames(machi.db.engine))


def state() -> LiffState:
    return current_app.extensions["machi"].extras[KEY]
