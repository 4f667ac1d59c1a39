"""Fixtures for the `machi` staff command: a runner bound to the test database, a demo town, table row
counts (to show a refused command changed nothing) and a reader for the text of the PDFs we write."""
from __future__ import annotations

import json
import re
import shutil
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

import models_registry
from admin_cli.main import cli
from app import build_core
from config import load_config
from ledger.db import make_engine
from tests.conftest import PG_URL
from town.demo_town import seed

Machi = Callable[..., Result]


@pytest.fixture(autouse=True)
def _staff_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MACHI_STAFF", "役場 テスト係")
    monkeypatch.delenv("DATABASE_URL", raising=False)


def _runner(url: str) -> Machi:
    def run(*args: str, json_output: bool = False) -> Result:
        head = ["--database-url", url] + (["--json"] if json_output else [])
        return CliRunner().invoke(cli, [*head, *map(str, args)], catch_exceptions=False)

    return run


@pytest.fixture
def machi(db_url: str) -> Machi:
    """`machi ...` on an empty migrated database."""
    return _runner(db_url)


def _seed(url: str) -> None:
    core = build_core(load_config(database_url=url, env="test"))
    try:
        seed(core)
    finally:
        core.db.dispose()


@pytest.fixture(scope="session")
def _seeded_template(template_db: str, tmp_path_factory: pytest.TempPathFactory) -> str | None:
    """SQLite: the demo town built once and copied for each test (seeding takes seconds)."""
    if PG_URL:
        return None
    path = tmp_path_factory.mktemp("town") / "town.db"
    shutil.copyfile(template_db, path)
    _seed(f"sqlite:///{path}")
    return str(path)


@pytest.fixture
def town_url(db_url: str, _seeded_template: str | None) -> str:
    """A database holding `machi demo seed`'s town."""
    if _seeded_template is None:
        _seed(db_url)
        return db_url
    target = Path(db_url.removeprefix("sqlite:///"))
    shutil.copyfile(_seeded_template, target)
    return db_url


@pytest.fixture
def town(town_url: str) -> Machi:
    return _runner(town_url)


def row_counts(url: str) -> dict[str, int]:
    """Rows per table: a refused command must leave every count as it was."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                    for t in models_registry.metadata().sorted_tables}
    finally:
        engine.dispose()


def query(url: str, sql: str, **params) -> list[tuple]:
    from sqlalchemy import text  # noqa: PLC0415

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def refused(result: Result, *fragments: str) -> None:
    """A refusal people can read: exit code non-zero, Japanese message, no traceback."""
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", result.output), result.output
    for f in fragments:
        assert f in result.output, result.output


def as_json(result: Result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# --- PDFs: fpdf2 writes text as 2-byte glyph codes with a ToUnicode CMap; decoding both is enough
# to read back what a person would see on the page.

_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)


def _streams(data: bytes) -> list[bytes]:
    out = []
    for m in _STREAM.finditer(data):
        raw = m.group(1)
        try:
            out.append(zlib.decompress(raw))
        except zlib.error:
            out.append(raw)
    return out


def _literal_strings(content: bytes) -> list[bytes]:
    """The (…) strings of Tj operators, with PDF escapes undone."""
    out, i = [], 0
    while (i := content.find(b"(", i)) != -1:
        buf, depth, i = bytearray(), 1, i + 1
        while depth:
            c = content[i]
            if c == 0x5C:  # backslash
                nxt = content[i + 1]
                esc = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}
                if chr(nxt).isdigit():
                    digits = re.match(rb"[0-7]{1,3}", content[i + 1:i + 4]).group(0)
                    buf.append(int(digits, 8))
                    i += 1 + len(digits)
                    continue
                buf.append(esc.get(nxt, nxt))
                i += 2
                continue
            if c == 0x28:
                depth += 1
            elif c == 0x29:
                depth -= 1
                if depth == 0:
                    i += 1
                    break
            buf.append(c)
            i += 1
        out.append(bytes(buf))
    return out


def pdf_text(path: Path) -> str:
    data = path.read_bytes()
    streams = _streams(data)
    cmap: dict[int, str] = {}
    for s in streams:
        for code, uni in re.findall(rb"<([0-9A-Fa-f]{4})>\s*<([0-9A-Fa-f]{4,8})>", s if b"begincmap" in s else b""):
            cmap[int(code, 16)] = bytes.fromhex(uni.decode()).decode("utf-16-be")
    lines = []
    for s in streams:
        if b"Tj" not in s:
            continue
        for lit in _literal_strings(s):
            lines.append("".join(cmap.get(int.from_bytes(lit[j:j + 2], "big"), "")
                                 for j in range(0, len(lit) - 1, 2)))
    return "\n".join(lines)


def pdf_pages(path: Path) -> int:
    data = path.read_bytes()
    assert data.startswith(b"%PDF-"), "not a PDF"
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", data))
