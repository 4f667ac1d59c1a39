"""Limits and rules a town sets. Integers only: yen, days, basis points."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    max_payment: int = 100_000          # 1回の支払い上限
    max_wallet_balance: int = 500_000   # 1人の残高上限 (all money types together)
    refund_window_days: int = 30        # a shop may refund a payment this long after it
    refund_grace_days: int = 14         # refunded money whose lot expired meanwhile lives this long
    conflict_retries: int = 8
    # A shop's charge on a customer's QR waits for her 支払う on her own phone from this many yen
    # (1: every one; None: never), for this many seconds.
    cpm_confirm_from: int | None = 1
    cpm_confirm_seconds: int = 90
