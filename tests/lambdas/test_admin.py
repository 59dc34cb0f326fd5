"""The secretariat's commands against moto: recount, export, report, snapshot; and what they need of AWS settings."""

from __future__ import annotations

import csv
import json
import os
import string
import subprocess
import sys
import unicodedata
from datetime import datetime, timedelta

import boto3
import pyarrow.parquet as pq
import pytest

from lambdas import local
from lambdas.admin.__main__ import main
from lambdas.admin.export import safe
from lambdas.survey.catalog import BEIJING
from tests.conftest import ROOT
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


# Formulas in disguise: full-width signs, and blanks or invisible characters before a sign, which a spreadsheet may
# skip or fold on import; the last is a lone hyphen, which is text, as the unattributed marker is.
DISGUISED = ["＝1+1", "＋1", "－2-2", "＠SUM(A1:A9)", "\u200b=cmd|' /C calc'!A0", "\ufeff@SUM(A1)", "\u2060+1",
             "\u200d\u3000－2", "\u200c \t=1+1", "-"]
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"


def _read_as_formula(cell: str) -> bool:
    """What a spreadsheet may make of a text cell: it skips blanks and invisible characters, folds full-width forms
    (＝ is =) and starts a formula at =, +, - or @; a tab or carriage return first is unsafe too. A lone "-" is text."""
    head = unicodedata.normalize("NFKC", cell).lstrip(string.whitespace + "\u3000" + INVISIBLE)
    return cell.startswith(("\t", "\r")) or (cell != "-" and head.startswith(("=", "+", "-", "@")))


def test_export_round_trips_hostile_text_and_no_cell_is_a_formula(seeded, tmp_path, capsys):
    it = seeded["intake"]
    opening = datetime(2020, 7, 22, 10, 0, tzinfo=BEIJING)
    unattributed = ""
    for n, text in enumerate(DISGUISED):
        now = opening + timedelta(days=n % 3, hours=1, minutes=n)
        # The last names a sponsor the list does not know: it is stored with sponsor and channel "-"
        body = payload(it, seed=100 + n, now=now, sponsor="no-such-sponsor" if n == len(DISGUISED) - 1 else
                       "zhejiang-cyberspace")
        body["answers"]["suggestions"] = text
        assert it.submit(request(body, now)).status == 200
        unattributed = body["id"]
    hostile = HOSTILE + DISGUISED
    out = tmp_path / "export"
    assert run(seeded, "export", "--out", str(out)) == 0
    assert f"public {len(hostile)} rows" in capsys.readouterr().out
    raw = (out / "submissions-public.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    with open(out / "submissions-public.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(hostile) and set(seeded["ids"]) <= {r["id"] for r in rows}
    for row in rows:
        for cell in row.values():
            assert not _read_as_formula(cell), repr(cell)
    texts = sorted(r["suggestions"].removeprefix("'") if r["suggestions"].startswith("'") else r["suggestions"] for r in rows)
    assert texts == sorted(h.strip() for h in hostile)  # stored trimmed; otherwise only the apostrophe was added
    [row] = [r for r in rows if r["id"] == unattributed]
    assert (row["sponsor"], row["channel"], row["suggestions"]) == ("-", "-", "-")  # groups as "-" in a pivot table
    with open(out / "suggestions.csv", encoding="utf-8-sig", newline="") as fh:
        free = list(csv.DictReader(fh))
    assert sum(r["question"] == "suggestions" for r in free) == len(hostile)
    assert all(not _read_as_formula(cell) for r in free for cell in r.values())
    assert [r["sponsor"] for r in free if r["id"] == unattributed] == ["-"]
    free_text = {q.id for q in it.survey.questionnaires["public"].questions if q.type in ("text", "textarea")}
    assert {r["question"] for r in free} <= free_text
    table = pq.read_table(out / "submissions-public.parquet")
    assert table.num_rows == len(hostile)
    assert sorted(table.column("suggestions").to_pylist()) == sorted(h.strip() for h in hostile)  # Parquet: raw text
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
    assert safe("=1") == "'=1" and safe("-1") == "'-1" and safe("a=1") == "a=1" and safe(5) == 5
    assert safe("\tx") == "'\tx" and safe("\rx") == "'\rx" and safe("@x") == "'@x" and safe("+x") == "'+x"
    assert safe("-") == "-"  # the unattributed marker stays itself, so a spreadsheet groups it


@pytest.mark.parametrize("text", [
    "＝1+1", "＋1", "－1", "＠SUM(A1)", "－",  # full-width forms, folded to = + - @
    " =1", "  +1", "\n=1", "\r\n@x", "\u3000=1", "\u3000\u3000＠x", "\x0b=1",  # blanks first
    "\u200b=1", "\u200c+1", "\u200d-1", "\u2060@x", "\ufeff=1", "\ufeff\u3000＝1", " \u200b\t-2",  # invisible first
])
def test_safe_neutralises_formulas_behind_full_width_signs_blanks_and_invisible_characters(text):
    assert safe(text) == "'" + text


@pytest.mark.parametrize("text", ["a-b", " a", "\u3000你好", "\u200b你好", "1-2", "name@example.org", "—破折号", "",
                                  "'=1"])
def test_safe_leaves_text_that_is_no_formula(text):
    assert safe(text) == text


# ---- AWS settings -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("host", "how"), [("127.0.0.1", "--endpoint-url"), ("localhost", "AWS_ENDPOINT_URL_DYNAMODB")])
def test_commands_against_the_local_stack_need_no_aws_settings(no_aws, campaign_catalog, capsys, host, how):
    table = f"admin-{host.replace('.', '-')}"
    with local.database() as url:  # the local stack's database
        client = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1", aws_access_key_id="local",
                              aws_secret_access_key="local")
        client.create_table(**local.table_definition(local.template(), table))
        endpoint = url.replace("127.0.0.1", host)
        argv = ["--table", table, "--site", str(campaign_catalog.parent)]
        if how == "--endpoint-url":
            argv += ["--endpoint-url", endpoint]
        else:
            no_aws.setenv(how, endpoint)
        try:
            assert main([*argv, "recount"]) == 0
        finally:
            client.delete_table(TableName=table)  # moto's data outlives its server in this process
    assert "0 drifted counter(s); 0 submission(s) pending" in capsys.readouterr().out


@pytest.mark.parametrize(("env", "says", "not_said"), [
    ({}, ["no AWS region", "AWS_REGION", "no AWS credentials", "AWS_PROFILE", "aws configure", "--endpoint-url"], []),
    ({"AWS_REGION": "cn-north-1"}, ["no AWS credentials", "AWS_PROFILE", "aws configure"], ["region"]),
    ({"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x"}, ["no AWS region", "AWS_REGION"],
     ["credentials"]),
    ({"AWS_PROFILE": "campaign"}, ["campaign", "aws configure"], []),
])
def test_commands_against_aws_without_settings_say_in_one_line_what_to_set(no_aws, campaign_catalog, env, says,
                                                                          not_said):
    for k, v in env.items():
        no_aws.setenv(k, v)
    with pytest.raises(SystemExit) as exited:
        main(["--table", TABLE, "--site", str(campaign_catalog.parent), "recount"])
    message = str(exited.value.code)
    assert message.startswith("admin: ") and "\n" not in message, message
    assert all(s in message for s in says) and not any(s in message for s in not_said), message


def test_the_command_without_aws_settings_prints_no_traceback(no_aws, campaign_catalog):
    result = subprocess.run([sys.executable, "-m", "lambdas.admin", "--site", str(campaign_catalog.parent), "report",
                             "--out", str(campaign_catalog.parent / "report")],
                            env=dict(os.environ), capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1 and result.stdout == "", result.stderr
    assert result.stderr.startswith("admin: no AWS region"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


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


def test_anomalies_and_the_reports_section_name_a_sponsor_fed_from_one_address(ddb, campaign_catalog, survey, tmp_path):
    # GIVEN 40 submissions for one sponsor from one address and 40 for another from 40 addresses
    it = make_intake(ddb, campaign_catalog, survey)
    opening = datetime(2020, 7, 22, 10, 0, tzinfo=BEIJING)
    for n in range(80):
        now = opening + timedelta(minutes=7 * n)
        farm = n % 2 == 0
        body = payload(it, seed=n, now=now, sponsor="zhejiang-cyberspace" if farm else "guangdong-infosec")
        ip = "198.51.100.1" if farm else f"203.0.113.{n}"
        assert it.submit(request(body, now, ip=ip)).status == 200
    site = campaign_catalog.parent
    args = ["--table", TABLE, "--site", str(site), "--shards", "4"]
    # WHEN the secretariat asks for the anomalies, and for the report with its section
    assert main([*args, "anomalies", "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "report", "--anomalies", "--out", str(tmp_path / "r")]) == 0
    # THEN the sponsor fed from one address leads, with the reason in Chinese, in the CSV, the page and the report
    with open(tmp_path / "a" / "anomalies.csv", encoding="utf-8-sig", newline="") as fh:
        text = fh.read()
    assert "zhejiang-cyberspace" in text
    md = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    section = md.split("## 异常信号", 1)[1]
    assert "浙江省网络空间安全协会" in section and "同一网络地址" in section
    assert "广东省信息网络安全协会" not in section
    assert (tmp_path / "r" / "anomalies.html").is_file()
