"""QR payloads: short, signed, single-wallet, 60-second customer codes; shop, card and event codes."""
from __future__ import annotations

import pytest

from liff import errors
from liff.auth import bearer_token
from liff.qr import matrix, svg
from liff.tokens import CpmTokens, card_number_from, event_code_from, shop_code_from, shop_payload, shop_url


def test_customer_code_round_trip_and_size():
    tokens = CpmTokens("secret")
    text, tok = tokens.issue(123456)
    assert text.startswith("MW1.") and len(text) < 80
    assert tokens.read(text) == tok and tok.nonce == f"cpm:{tok.token_id}"
    assert len(matrix(text)) <= 45  # QR version 5 or smaller: quick to read on an old phone


def test_customer_code_expires_after_60_seconds():
    now = [1_000_000.0]
    tokens = CpmTokens("secret", clock=lambda: now[0])
    text, tok = tokens.issue(1)
    now[0] += 59
    assert tokens.read(text).resident_id == 1
    now[0] += 2
    with pytest.raises(errors.ApiError) as exc:
        tokens.read(text)
    assert exc.value.code == "token_expired"
    assert tokens.read(text, allow_expired=True) == tok


def test_foreign_and_future_codes_are_refused():
    mine, theirs = CpmTokens("secret"), CpmTokens("other")
    text, _ = theirs.issue(1)
    with pytest.raises(errors.ApiError) as exc:
        mine.read(text)
    assert exc.value.code == "token_invalid"
    future = CpmTokens("secret", clock=lambda: 4_000_000_000)
    text, _ = future.issue(1)
    with pytest.raises(errors.ApiError):
        CpmTokens("secret", clock=lambda: 3_000_000_000).read(text)


@pytest.mark.parametrize("text, code", [
    ("MWS.M001", "M001"), ("mws.M001", "M001"), ("M001", "M001"),
    ("https://liff.line.me/123/scan?shop=M002", "M002"), ("https://x/?a=1", None), ("MW1.abc", None), ("", None),
])
def test_shop_codes(text, code):
    assert shop_code_from(text) == code


def test_shop_payloads():
    assert shop_payload("M001") == "MWS.M001"
    assert shop_url("M001", liff_id="1-abc", public_url="http://x", dev=False) == "https://liff.line.me/1-abc/scan?shop=M001"
    assert shop_url("M001", liff_id="1-abc", public_url="http://x/", dev=True) == "http://x/liff/scan?shop=M001"


@pytest.mark.parametrize("text, number", [
    ("800000000011", "800000000011"), ("8000 0000 0011", "800000000011"), ("８０００-００００-００１１", "800000000011"),
    ("80000000001", None), ("MW1.x", None), ("8000000000112", None),
])
def test_card_codes(text, number):
    assert card_number_from(text) == number


@pytest.mark.parametrize("text, code", [
    ("KAIGAN", "KAIGAN"), ("kaigan", "KAIGAN"), ("MWE.KAIGAN", "KAIGAN"), ("http://x/liff/checkin?code=kaigan", "KAIGAN"),
    ("two words", None), ("", None),
])
def test_event_codes(text, code):
    assert event_code_from(text) == code


def test_bearer_header():
    assert bearer_token("Bearer abc") == "abc" and bearer_token("bearer  abc ") == "abc"
    assert bearer_token("Basic abc") == "" and bearer_token(None) == ""


def test_svg_is_compact_and_escapes_its_label():
    out = svg("MWS.M001", label="<shop>")
    assert out.startswith("<svg") and "&lt;shop&gt;" in out and len(out) < 4_000
