"""The secretariat's commands against moto: recount, export, report, snapshot."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta

import pyarrow.parquet as pq
import pytest

from lambdas.admin.__main__ import main
from lambdas.admin.export import safe
from lambdas.survey.catalog import BEIJING
from tests.lambdas.conftest import TABLE, make_intake, payload, request

HOSTILE = ["=cmd|' /C calc'!A0", "+1+1", "-2-2", "@SUM(A1:A9)", "\tTAB开头", "\r回车开头", 'He said "hi", then left',
           "第一行\n第二行", "表情😀🔐", "长" * 1000, "normal text，普通文字"]


@pytest.fixture
def seeded(ddb, campaign_catalog, survey):
    it = make_intake(ddb, campaign_catalog, survey)
    opening = datetime(2020, 7, 22, 10, 0, tzinfo=BEIJING)
    ids = []
    for n, text in enumerate(HOSTILE):
        now = opening + timedelta(days=n % 3, minutes=n)
        body = payload(it, seed=n, now=now, homepage="" if n % 4 else "bot",
                       sponsor="zhejiang-cyberspace" if n % 2 else "guangdong-infosec")
        body["answers"]["suggestions"] = text
        assert it.submit(request(body, now)).status == 200
        ids.append(body["id"])
    return {"site": campaign_catalog.parent, "ids": ids, "intake": it}


def run(seeded, *args: str) -> int:
    return main(["--table", TABLE, "--site", str(seeded["site"]), "--shards", "4", *args])


def test_export_round_trips_hostile_text_and_no_cell_is_a_formula(seeded, tmp_path, capsys):
    out = tmp_path / "export"
    assert run(seeded, "export", "--out", str(out)) == 0
    assert "public 11 rows" in capsys.readouterr().out
    raw = (out / "submissions-public.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    with open(out / "submissions-public.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["id"] for r in rows) == sorted(seeded["ids"])
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    texts = sorted(r["suggestions"].removeprefix("'") if r["suggestions"].startswith("'") else r["suggestions"] for r in rows)
    assert texts == sorted(h.strip() for h in HOSTILE)  # stored trimmed; otherwise only the apostrophe was added
    with open(out / "suggestions.csv", encoding="utf-8-sig", newline="") as fh:
        free = list(csv.DictReader(fh))
    assert sum(r["question"] == "suggestions" for r in free) == len(HOSTILE)
    free_text = {q.id for q in seeded["intake"].survey.questionnaires["public"].questions if q.type in ("text", "textarea")}
    assert {r["question"] for r in free} <= free_text
    table = pq.read_table(out / "submissions-public.parquet")
    assert table.num_rows == len(HOSTILE)
    assert sorted(table.column("suggestions").to_pylist()) == sorted(h.strip() for h in HOSTILE)  # Parquet: raw text
    assert table.schema.field("overall").type == "int64"
    assert pq.read_table(out / "submissions-pro.parquet").num_rows == 0


@pytest.mark.parametrize(("args", "expected"), [
    (["--valid", "yes"], 8), (["--valid", "no"], 3), (["--day", "2020-07-22"], 4),
    (["--sponsor", "zhejiang-cyberspace"], 5), (["--province", "北京市"], None),
])
def test_export_filters(seeded, tmp_path, args, expected):
    out = tmp_path / "filtered"
    assert run(seeded, "export", "--out", str(out), "--format", "csv", *args) == 0
    with open(out / "submissions-public.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if expected is None:
        assert all(r["province"] == "北京市" for r in rows)
    else:
        assert len(rows) == expected


def test_safe_neutralises_only_formula_starts():
    assert safe("=1") == "'=1" and safe("-") == "'-" and safe("a=1") == "a=1" and safe(5) == 5
    assert safe("\tx") == "'\tx" and safe("\rx") == "'\rx" and safe("@x") == "'@x" and safe("+x") == "'+x"


def test_recount_reports_drift_and_fixes_it(seeded, ddb, capsys):
    assert run(seeded, "recount") == 0
    assert "0 drifted counter(s); 0 submission(s) pending" in capsys.readouterr().out
    [counter] = list(seeded["intake"].store.scan("C#"))[:1]
    ddb.delete_item(TableName=TABLE, Key={"pk": {"S": counter["pk"]}, "sk": {"S": counter["sk"]}})
    assert run(seeded, "recount") == 1
    out = capsys.readouterr().out
    day, sponsor = counter["pk"].split("#")[1], counter["sk"].split("#")[1]
    assert f"drift {day} {sponsor}" in out and "counter missing" in out
    assert run(seeded, "recount", "--fix") == 0
    assert "fixed 1" in capsys.readouterr().out
    assert run(seeded, "recount") == 0


def test_report_per_province_and_per_sponsor(seeded, tmp_path):
    out = tmp_path / "report"
    assert run(seeded, "report", "--out", str(out)) == 0
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "收到 11 份，有效 8 份" in md and "## 各省份样本" in md
    with open(out / "sponsors.csv", encoding="utf-8-sig", newline="") as fh:
        rows = {r["单位"]: r for r in csv.DictReader(fh)}
    zj = rows["浙江省网络空间安全协会"]
    assert zj["收到"] == "5" and zj["有效"] == str(sum(1 for n in range(1, 11, 2) if n % 4))
    with open(out / "provinces.csv", encoding="utf-8-sig", newline="") as fh:
        provinces = list(csv.DictReader(fh))
    assert len(provinces) == 31 and sum(int(p["收到"]) for p in provinces) == 11


def test_snapshots_chain_and_an_edited_day_is_detected(seeded, tmp_path, capsys):
    folder = tmp_path / "snapshots"
    assert run(seeded, "snapshot", "--out", str(folder)) == 0
    files = sorted(folder.glob("*.json"))
    assert [f.stem for f in files] == [f"2020-07-{d}" for d in range(22, 32)]
    first = json.loads(files[0].read_text(encoding="utf-8"))
    assert first["previous"] == "0" * 64 and first["total"] == {"received": 4, "valid": 3}
    assert run(seeded, "snapshot", "--verify", str(folder)) == 0
    # Frozen: running again writes nothing and changes nothing
    before = {f.name: f.read_bytes() for f in files}
    assert run(seeded, "snapshot", "--out", str(folder)) == 0
    assert {f.name: f.read_bytes() for f in folder.glob("*.json")} == before
    # WHEN someone edits a past day to move a sponsor up
    edited = json.loads(files[1].read_text(encoding="utf-8"))
    edited["sponsors"]["guangdong-infosec"]["valid"] += 100
    files[1].write_text(json.dumps(edited, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert run(seeded, "snapshot", "--verify", str(folder)) == 1
    err = capsys.readouterr().err
    assert "2020-07-24.json" in err and "changed after it was frozen" in err


def test_snapshot_waits_for_the_day_to_end(seeded, tmp_path):
    from lambdas.admin import snapshot
    from lambdas.survey import catalog as catalogs, counts

    cat = catalogs.load(seeded["site"] / "sponsors.json")
    rows = counts.rows_from_items(i for d in cat.days() for i in seeded["intake"].store.counters(d))
    during = datetime(2020, 7, 24, 23, 59, tzinfo=BEIJING)
    assert snapshot.freeze(tmp_path, rows, cat, during) == ["2020-07-22", "2020-07-23"]
    assert snapshot.freeze(tmp_path, rows, cat, during + timedelta(minutes=2)) == ["2020-07-24"]
    assert snapshot.verify(tmp_path) == []
