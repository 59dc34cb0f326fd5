"""Report: per-province and per-sponsor summaries, as Markdown for reading and CSV for spreadsheets.

For the regional reports (does a province have enough samples of its own?) and the awards (who brought in most).
"""

from __future__ import annotations

import csv
from pathlib import Path

from lambdas.survey import counts
from lambdas.survey.catalog import KIND_LABELS, Catalog

from .export import safe

def write(out: Path, rows: list[counts.Row], cat: Catalog, updated: str,
          flagged: list[tuple[str, float, tuple[str, ...]]] | None = None) -> list[Path]:
    """The summaries; with `flagged` ((sponsor, anomaly score, reasons) of sponsors showing signs of inflated
    counts), a section listing them for the secretariat to look into."""
    out.mkdir(parents=True, exist_ok=True)
    total = counts.campaign(rows, cat.days())["total"]
    provinces = counts.provinces(rows)
    board = counts.leaderboard(rows, cat)
    p_rows = [[p["province"], p["received"], p["valid"], _share(p["valid"], total["valid"]), p["sponsors"]] for p in provinces]
    s_rows = [[e["rank"], e["name"], KIND_LABELS.get(e["kind"], e["kind"]), e["province"], e["received"], e["valid"],
               (e.get("group") or {}).get("valid", "")] for e in board]
    p_head = ["省份（答题者所在地）", "收到", "有效", "有效占比", "带来样本的单位数"]
    s_head = ["排名", "单位", "类别", "所在省份", "收到", "有效", "含推荐支持单位的有效数"]
    paths = [out / "provinces.csv", out / "sponsors.csv", out / "report.md"]
    for path, head, data in ((paths[0], p_head, p_rows), (paths[1], s_head, s_rows)):
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(head)
            w.writerows([[safe(c) for c in r] for r in data])
    lines = ["# 样本统计报告", "", f"数据截至 {updated}；收到 {total['received']} 份，有效 {total['valid']} 份。", "",
             "## 各省份样本", "", _table(p_head, p_rows), "", "## 各单位样本", "", _table(s_head, s_rows), ""]
    if flagged is not None:
        names = {slug: info.name for slug, info in cat.sponsors.items()}
        lines += ["## 异常信号（供秘书处核查，不公开）", "",
                  "得分越高，样本中自动提交或刷量的迹象越多；详见 anomalies.html。" if flagged else "未发现需要核查的单位。", ""]
        if flagged:
            lines += [_table(["单位", "得分", "依据"], [[names.get(s, s), f"{score:.0f}", "；".join(why)]
                                                     for s, score, why in flagged]), ""]
    paths[2].write_text("\n".join(lines), encoding="utf-8")
    return paths


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "0.0%"


def _table(head: list[str], rows: list[list[object]]) -> str:
    def cell(v: object) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(out)
