"""Backups of the whole database, and restoring one into a new, empty database.

SQLite: SQLite's online backup API copies the file page by page while the server keeps taking
payments (a plain file copy of a database in WAL mode can miss what is still in the WAL); the copy
is a single self-contained file. PostgreSQL: `pg_dump -Fc` (one consistent snapshot) and
`pg_restore` in one transaction. The password, if the URL has one, goes to the tools in their
environment, never on a command line other users can read.

A restore refuses a target that is not empty (it never mixes two ledgers) and a file that is not a
backup of the same kind of database, and then gives the restored copy a new installation id
(`ledger.installation.mark_restored`): its keys to LINE must not be the original's.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

import schema
from ledger import installation
from ledger.db import Database, make_engine
from ledger.errors import InvalidInput, LedgerError, NotAllowed

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


class BackupFailed(LedgerError):
    code = "backup_failed"
    message = "バックアップ・復元に失敗しました。"


@dataclass(frozen=True)
class Restored:
    revision: str | None  # the restored schema's revision
    head: str | None  # this code's
    installation_id: str  # the new one
    restored_from: str | None


# --------------------------------------------------------------------------- backup


def backup(url: str, target: Path) -> int:
    """Write a backup of the database at `url` to `target` (which must not exist); returns its size."""
    if target.exists():
        raise NotAllowed(f"{target} はすでにあります。上書きはしません。別のファイル名を指定してください。")
    if not target.parent.is_dir():
        raise InvalidInput(f"保存先のフォルダ {target.parent} がありません。")
    part = target.with_name(target.name + ".part")
    part.unlink(missing_ok=True)
    try:
        if _is_sqlite(url):
            _sqlite_backup(_sqlite_path(url), part)
        else:
            _run(["pg_dump", "--format=custom", "--no-owner", f"--file={part}"], url)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    return target.stat().st_size


def _sqlite_backup(path: Path, part: Path) -> None:
    if not path.is_file():
        raise InvalidInput(f"データベースのファイル {path} がありません。")
    src = sqlite3.connect(path, timeout=30)
    dst = sqlite3.connect(part)
    try:
        src.backup(dst)  # online: writers go on; what is copied is one consistent moment
        dst.execute("PRAGMA journal_mode=DELETE")  # one file, no WAL beside it
    except sqlite3.Error as exc:
        raise BackupFailed(f"SQLite のバックアップに失敗しました（{exc}）。") from exc
    finally:
        dst.close()
        src.close()


# --------------------------------------------------------------------------- restore


def restore(url: str, source: Path) -> Restored:
    """Restore the backup `source` into the empty database at `url`, then mark it a restored copy."""
    if not source.is_file():
        raise InvalidInput(f"バックアップファイル {source} がありません。")
    kind = _kind(source)
    if _is_sqlite(url):
        if kind != "sqlite":
            raise InvalidInput(_wrong_kind(source, kind, "SQLite"))
        _sqlite_restore(source, _sqlite_path(url))
    else:
        if kind != "postgresql":
            raise InvalidInput(_wrong_kind(source, kind, "PostgreSQL"))
        _refuse_unless_empty(url)
        _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
              str(source)], url)
    return _mark(url)


def _sqlite_restore(source: Path, target: Path) -> None:
    if target.exists() and target.stat().st_size > 0:
        _refuse_unless_empty(f"sqlite:///{target}")
    if not target.parent.is_dir():
        raise InvalidInput(f"戻し先のフォルダ {target.parent} がありません。")
    part = target.with_name(target.name + ".part")
    part.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(part)
    try:
        src.backup(dst)
        ok = dst.execute("PRAGMA quick_check").fetchone()[0]
        if ok != "ok":
            raise BackupFailed(f"バックアップファイル {source} が壊れています（{ok}）。別のバックアップを使ってください。")
    except sqlite3.DatabaseError as exc:
        raise BackupFailed(f"バックアップファイル {source} を読めません（{exc}）。") from exc
    finally:
        dst.close()
        src.close()
    try:
        for leftover in (Path(f"{target}-wal"), Path(f"{target}-shm")):
            leftover.unlink(missing_ok=True)  # of the empty database: they must not be replayed over the copy
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)


def _refuse_unless_empty(url: str) -> None:
    engine = make_engine(url)
    try:
        tables = inspect(engine).get_table_names()
    except OperationalError as exc:
        raise InvalidInput("戻し先のデータベースに接続できません。先に空のデータベースを作ってください"
                           "（PostgreSQL: createdb）。") from exc
    finally:
        engine.dispose()
    if tables:
        raise NotAllowed(f"戻し先のデータベースは空ではありません（テーブルが {len(tables)} 個あります）。"
                         "台帳が混ざらないよう、新しい空のデータベースにだけ復元します。")


def _mark(url: str) -> Restored:
    db = Database(url)
    try:
        revision, head = schema.current_revision(db.engine), schema.head_revision(url)
        if "installation" not in inspect(db.engine).get_table_names():
            # A backup from before migration 0008: `machi db upgrade` makes the table with a new id.
            return Restored(revision, head, "", None)
        copy = installation.mark_restored(db)
    finally:
        db.dispose()
    return Restored(revision, head, str(copy.installation_id),
                    str(copy.restored_from) if copy.restored_from else None)


def _kind(path: Path) -> str:
    with path.open("rb") as f:
        head = f.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    return "unknown"


def _wrong_kind(source: Path, kind: str, target: str) -> str:
    if kind == "unknown":
        return f"{source} はまちウォレットのバックアップではありません（SQLite のファイルでも pg_dump -Fc の形式でもありません）。"
    made = "SQLite" if kind == "sqlite" else "PostgreSQL"
    return f"{source} は {made} のバックアップです。{target} のデータベースには戻せません。"


# --------------------------------------------------------------------------- helpers


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_path(url: str) -> Path:
    raw = url.removeprefix("sqlite:///")
    if raw in ("", ":memory:") or not url.startswith("sqlite:///"):
        raise InvalidInput("メモリ上の SQLite はバックアップ・復元できません。ファイルのデータベースを指定してください。")
    return Path(raw)


def _run(args: list[str], url: str) -> None:
    """Run a PostgreSQL client tool on the database at `url` (password in the environment)."""
    tool = args[0]
    if shutil.which(tool) is None:
        raise BackupFailed(f"{tool} が見つかりません。PostgreSQL のクライアント（postgresql-client）を入れてください。")
    u = make_url(url)
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    conn = [f"--host={u.host or 'localhost'}", f"--port={u.port or 5432}", f"--dbname={u.database or ''}"]
    if u.username:
        conn.append(f"--username={u.username}")
    done = subprocess.run([tool, "--no-password", *conn, *args[1:]], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise BackupFailed(f"{tool} が失敗しました（終了コード {done.returncode}）: {lines[-1] if lines else ''}")
