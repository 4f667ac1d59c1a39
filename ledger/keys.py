"""Keys the ledger derives from the app's secret, one per purpose.

The secret (`MACHI_SECRET_KEY`) lives outside the database, so someone who can edit the tables
cannot recompute a seal. Each use gets its own key (a distinct label), so a key leaked through one
use (a QR token) says nothing about another (the seals).
"""
from __future__ import annotations

import hashlib
import hmac

SEAL_PURPOSE = b"machi-ledger-seal-v1"


def derive(secret: str | bytes, purpose: bytes) -> bytes:
    """HMAC-SHA256(secret, purpose): a 32-byte key for one purpose."""
    raw = secret.encode() if isinstance(secret, str) else secret
    if not raw:
        raise ValueError("an empty secret cannot key the seals")
    return hmac.new(raw, purpose, hashlib.sha256).digest()


def seal_key(secret: str | bytes) -> bytes:
    """The key of the ledger's and the audit log's hash chains."""
    return derive(secret, SEAL_PURPOSE)
