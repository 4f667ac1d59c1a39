"""The printable poster, and the pages as HTML (the shim only where there is no LINE)."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from config import load_config
from liff.poster import font_path, make_poster
from liff.qr import matrix
from tests.prod_values import PROD_VALUES


def test_poster_png_and_pdf():
    png, pdf = make_poster("こむぎベーカリー", "M001", "https://liff.line.me/1-abc/scan?shop=M001")
    img = Image.open(io.BytesIO(png))
    assert img.size == (1240, 1754) and img.format == "PNG"
    assert pdf.startswith(b"%PDF") and b"IPAexGothic" in pdf
    assert font_path().name == "ipaexg.ttf"


def test_poster_without_url_holds_the_static_payload():
    png, _pdf = make_poster("とても長い名前のお店 苫前町商店街 本店 レストラン＆ショップ", "M008", None)
    assert Image.open(io.BytesIO(png)).size == (1240, 1754)
    assert len(matrix("MWS.M008")) < len(matrix("https://liff.line.me/1234567890-devliff/scan?shop=M008"))


@pytest.mark.parametrize("name", ["pay", "scan", "till", "checkin", "history"])
def test_pages_load_the_shim_in_test(client, name):
    resp = client.get(f"/liff/{name}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "/liff/static/liff-shim.js" in html and "static.line-scdn.net" not in html
    assert 'lang="ja"' in html and "/liff/static/common.js" in html


def test_unknown_page_is_404(client):
    assert client.get("/liff/admin").status_code == 404


def test_liff_endpoint_root_keeps_liff_state(client):
    resp = client.get("/liff/?liff.state=%2Fscan%3Fshop%3DM001")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/liff/pay?liff.state=%2Fscan%3Fshop%3DM001")


def test_production_pages_load_the_real_sdk(db_url):
    from app import create_app

    config = load_config(database_url=db_url, **PROD_VALUES)
    app = create_app(config)
    try:
        html = app.test_client().get("/liff/pay").get_data(as_text=True)
    finally:
        app.extensions["machi"].close(grace=0)  # its relay thread (prod: `thread` mode) stops too
    assert "https://static.line-scdn.net/liff/edge/2/sdk.js" in html and "liff-shim" not in html


def test_static_files_are_served(client):
    for name in ("liff-shim.js", "common.js", "pay.js", "scan.js", "till.js", "checkin.js", "history.js", "style.css"):
        assert client.get(f"/liff/static/{name}").status_code == 200, name
