"""Writing a KPI report: a Markdown summary with its charts, and a CSV per table (UTF-8 with BOM so
Excel opens it in Japanese)."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from types import ModuleType
from typing import Any

from ledger.errors import InvalidInput
from town.reports.kpi import Kpi

LABELS = {
    "period": "期間", "registered_users": "登録者数（期末）", "new_registrations": "新規登録", "payments": "支払件数",
    "payment_volume": "支払額", "refunded": "返金額", "net_volume": "支払額（返金後）", "active_users": "利用者数（1回以上支払い）",
    "average_payment": "1回あたり平均支払額", "payments_per_active_user": "利用者1人あたり支払回数",
    "grants_issued_total": "給付額（累計）", "points_issued": "ポイント付与", "points_redeemed": "ポイント交換",
    "satisfaction_mean": "満足度（平均、5段階）", "shop_to_shop": "店舗間の再利用額（店→店）",
    "local_circulation": "域内循環率（店の受取のうち町内の店で再利用された割合）",
}
YEN = {"payment_volume", "refunded", "net_volume", "average_payment", "grants_issued_total", "shop_to_shop"}


def _csv(rows: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\r\n")
        w.writeheader()
        w.writerows(rows)
    return buf.getvalue().encode("utf-8-sig")


def _fmt(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if key == "local_circulation":
        return f"{value * 100:.1f}%"
    if key in YEN:
        return f"{int(value):,}円"
    return f"{value:,}" if isinstance(value, int | float) else str(value)


def _md_table(rows: list[dict[str, Any]], cols: list[tuple[str, str]]) -> list[str]:
    if not rows:
        return ["（該当なし）", ""]
    out = ["| " + " | ".join(h for _k, h in cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        out.append("| " + " | ".join(_cell(k, r[k]) for k, _h in cols) + " |")
    return [*out, ""]


def _cell(key: str, value: Any) -> str:
    if key in ("share", "uptake"):
        return f"{value * 100:.1f}%"
    if key in ("amount", "issued"):
        return f"{int(value):,}円"
    return f"{value:,}" if isinstance(value, int) else str(value)


NO_CHARTS = ("グラフ（PNG）を作る部品（matplotlib）が入っていません。"
             "`pip install 'machi-wallet[reports]'` で入れるか、--no-charts を付けてください。")


def _charts() -> ModuleType:
    """The chart module, whose matplotlib is an optional extra (`reports`): a server need not carry it."""
    try:
        from town.reports import charts
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] != "matplotlib":
            raise
        raise InvalidInput(NO_CHARTS) from exc
    return charts


def write(k: Kpi, out: Path, *, formats: set[str], with_charts: bool = True,
          anchors: list[str] | None = None) -> dict[str, str]:
    """`anchors`: each day's last seal anchor, copied into the report so a printed copy pins the ledger."""
    charts = _charts() if with_charts else None  # before anything is written
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    tables = {"summary": [{"kpi": key, "label": LABELS.get(key, key), "value": v} for key, v in k.summary.items()],
              "daily": k.daily, "by_money_type": k.by_money_type, "by_shop": k.by_shop,
              "by_district": k.by_district, "by_age_band": k.by_age_band, "grants": k.grants, "points": k.points,
              "satisfaction": k.satisfaction}
    if "csv" in formats:
        for name, rows in tables.items():
            path = out / f"kpi_{name}.csv"
            path.write_bytes(_csv(rows))
            files[f"csv_{name}"] = str(path)
    pngs: dict[str, Path] = {}
    if charts is not None:
        days = [r["date"] for r in k.daily]
        pngs["registered"] = charts.line(days, [r["registered_total"] for r in k.daily], "登録者数の推移", "人",
                                         out / "kpi_registered.png")
        pngs["daily"] = charts.bars_by_day(days, [r["amount"] for r in k.daily], "日ごとの支払額", "円",
                                           out / "kpi_payments_daily.png")
        pngs["money_type"] = charts.bars([r["name"] for r in k.by_money_type], [r["amount"] for r in k.by_money_type],
                                         "券種別の支払額", "円", out / "kpi_by_money_type.png")
        pngs["district"] = charts.bars([r["district"] for r in k.by_district], [r["amount"] for r in k.by_district],
                                       "地区別の支払額", "円", out / "kpi_by_district.png", "地区")
        pngs["age_band"] = charts.bars([r["age_band"] for r in k.by_age_band], [r["amount"] for r in k.by_age_band],
                                       "年代別の支払額", "円", out / "kpi_by_age_band.png", "年代")
        top = k.by_shop[:20]
        pngs["shop"] = charts.bars([r["name"] for r in top], [r["amount"] for r in top], "店舗別の支払額（上位20店）",
                                   "円", out / "kpi_by_shop.png")
        files.update({f"png_{n}": str(p) for n, p in pngs.items()})
    if "md" in formats:
        md = [f"# まちウォレット 利用状況（{k.start}〜{k.end}）", "", "## 主な指標", "", "| 指標 | 値 |", "|---|---|"]
        md += [f"| {LABELS.get(key, key)} | {_fmt(key, v)} |" for key, v in k.summary.items() if key != "period"]
        md += [""]
        sections = [
            ("登録者数の推移", "registered", None),
            ("日ごとの支払額", "daily", None),
            ("券種別", "money_type", (k.by_money_type, [("name", "券種"), ("kind", "種類"), ("amount", "支払額"), ("share", "割合")])),
            ("店舗別", "shop", (k.by_shop, [("merchant", "コード"), ("name", "店名"), ("payments", "件数"), ("amount", "支払額"), ("share", "割合")])),
            ("地区別", "district", (k.by_district, [("district", "地区"), ("residents", "住民"), ("active_users", "利用者"), ("payments", "件数"), ("amount", "支払額"), ("share", "割合")])),
            ("年代別", "age_band", (k.by_age_band, [("age_band", "年代"), ("active_users", "利用者"), ("payments", "件数"), ("amount", "支払額"), ("share", "割合")])),
        ]
        for title, chart, tbl in sections:
            md += [f"## {title}", ""]
            if chart in pngs:
                md += [f"![{title}]({pngs[chart].name})", ""]
            if tbl:
                md += _md_table(*tbl)
        md += ["## 給付の受け取り状況", ""]
        md += _md_table(k.grants, [("program", "事業"), ("name", "名称"), ("mode", "型"), ("received", "受け取り"),
                                   ("eligible_not_received", "未受け取り"), ("uptake", "受取率"), ("issued", "給付額")])
        md += ["## ポイント", ""]
        md += _md_table(k.points, [("money_type", "券種"), ("issued", "付与"), ("redeemed", "交換"), ("expired", "失効")])
        md += ["## 満足度アンケート", ""]
        md += _md_table(k.satisfaction, [("survey", "アンケート"), ("responses", "回答数"), ("mean", "平均（5段階）")])
        md += ["域内循環率: 期間中にお店が受け取ったお支払い（返金後）のうち、お店が町内の別のお店への支払い（店→店の送金）に"
               "使った額の割合です。", ""]
        if anchors:
            md += ["## 台帳の封印（各日の最後のアンカー）", "",
                   "`machi audit verify` がこの行と台帳を照合します。控えとして保管してください。", "", "```"]
            md += anchors + ["```", ""]
        path = out / "kpi.md"
        path.write_text("\n".join(md), encoding="utf-8")
        files["md"] = str(path)
    return files
