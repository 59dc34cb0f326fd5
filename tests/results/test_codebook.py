from __future__ import annotations

import argparse
import copy
import csv
import json
import random
import re
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pyreadstat
import pytest
import xlsxwriter

from lambdas.admin import export
from lambdas.results import codebook, synth
from lambdas.survey import catalog, questionnaire
from lambdas.survey.questionnaire import Questionnaire, Survey
from tests.lambdas.answers import valid_answers
from tests.results.test_synth import make_site

HOSTILE_LABEL = '=HYPERLINK("http://evil.example/","点击领奖")'
HOSTILE_TEXTS = ("=1+1", "+cmd|' /C calc'!A0", "@SUM(A1)", "＝1+1", " \u200b=2", "-3+4")


@pytest.fixture(scope="module")
def survey() -> Survey:
    return questionnaire.load()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_site(tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory, survey: Survey, site: Path) -> Path:
    out = tmp_path_factory.mktemp("parquet")
    synth.generate(out, survey, catalog.load(site / "sponsors.json"), 3000, seed=5)
    return out


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory, survey: Survey, data: Path) -> Path:
    out = tmp_path_factory.mktemp("exports")
    paths = codebook.write(data, survey, out)
    assert {p.name for p in paths} == {
        "codebook.csv", "codebook-index.csv", "codebook.xlsx",
        *(f"submissions-{q}-labelled.{ext}" for q in survey.questionnaires for ext in ("csv", "xlsx")),
        *(f"submissions-{q}.sav" for q in survey.questionnaires)}
    return out


def read_csv(path: Path) -> list[dict[str, str]]:
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 by its byte-order mark
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def sheet_xml(path: Path, number: int = 1) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(f"xl/worksheets/sheet{number}.xml").decode("utf-8")


def stored(qn: Questionnaire, answers: dict[str, Any], n: int, **meta: Any) -> dict[str, Any]:
    """A stored submission as the export reads it from the table."""
    return {"id": f"sub{n:05d}", "questionnaire": qn.id, "day": "2020-07-22", "received": "2020-07-22T01:00:00.000Z",
            "sponsor": "beijing-ccs", "channel": "website", "claimed": "", "province": answers["region"]["province"],
            "valid": True, "reasons": [], "seconds": 300, "answers": json.dumps(answers, ensure_ascii=False), **meta}


def test_the_codebook_lists_every_question_option_and_label(written: Path, survey: Survey) -> None:
    book = read_csv(written / "codebook.csv")
    for qid, qn in survey.questionnaires.items():
        mine = [r for r in book if r["questionnaire"] == qid]
        for q in qn.questions:
            lines = [r for r in mine if r["question"] == q.id]
            assert lines and all(r["type"] == q.type and q.text in r["text"] for r in lines), q.id
            if q.type == "single":
                assert [(r["code"], r["value"], r["label"]) for r in lines] == \
                       [(str(i + 1), o, label) for i, (o, label) in enumerate(q.options)]
            elif q.type == "multi":
                assert {r["variable"] for r in lines} == {f"{q.id}.{o}" for o, _ in q.options}
                for o, label in q.options:
                    dummy = [r for r in lines if r["variable"] == f"{q.id}.{o}"]
                    assert dummy[0]["text"].endswith(label) and [r["code"] for r in dummy] == ["0", "1"]
            elif q.type in ("rating", "matrix"):
                assert {r["label"] for r in lines} == {q.low, q.high}
                if q.type == "matrix":
                    assert {r["variable"] for r in lines} == {f"{q.id}.{row}" for row, _ in q.rows}
            if q.show_if:
                assert all(r["shown_if"].startswith(q.show_if[0]) for r in lines)
        assert {r["variable"] for r in mine} >= set(export.META)
        # every index item names its domain in the codebook and has its line in the index sheet
        index = [r for r in read_csv(written / "codebook-index.csv") if r["questionnaire"] == qid]
        assert qn.index is not None
        for d in qn.index.domains:
            for item in d.items:
                assert any(r["variable"] == item.column and d.title in r["index"] for r in mine)
                assert any(r["variable"] == item.column and r["domain"] == d.id for r in index)
    workbook = zipfile.ZipFile(written / "codebook.xlsx").read("xl/workbook.xml").decode()
    assert 'name="codebook"' in workbook and 'name="index"' in workbook
    assert "您对当前网络安全状况的总体感受" in sheet_xml(written / "codebook.xlsx")


def test_the_sav_reads_back_with_variable_and_value_labels(written: Path, data: Path, survey: Survey) -> None:
    for qid, qn in survey.questionnaires.items():
        frame, meta = pyreadstat.read_sav(str(written / f"submissions-{qid}.sav"))
        variables = codebook.variables(qn)
        assert list(frame.columns) == [v.name for v in variables] and meta.file_encoding == "UTF-8"
        rows = pq.read_table(data / f"submissions-{qid}.parquet").to_pylist()
        assert len(frame) == len(rows)
        for q in qn.questions:
            if q.type == "single":
                assert meta.column_names_to_labels[q.id] == q.text
                assert meta.variable_value_labels[q.id] == {i + 1: label for i, (_, label) in enumerate(q.options)}
                codes = {o: i + 1 for i, (o, _) in enumerate(q.options)}
                for i in random.Random(1).sample(range(len(rows)), 200):
                    expected = codes.get(rows[i][q.id])
                    got = frame[q.id][i]
                    assert (got == expected) if expected else got != got, (q.id, i)  # NaN where unanswered
            elif q.type in ("rating", "matrix"):
                for name in q.field_names():
                    assert meta.variable_value_labels[name] == {1: q.low, 5: q.high}
                    assert meta.variable_measure[name] == "ordinal"
            elif q.type == "multi":
                for o, label in q.options:
                    name = f"{q.id}.{o}"
                    assert meta.column_names_to_labels[name] == f"{q.text}：{label}"
                    assert meta.variable_value_labels[name] == {0: "未选", 1: "选中"}
                    ticked = [bool(r[q.id]) and o in r[q.id].split(";") for r in rows]
                    answered = [r[q.id] is not None for r in rows]
                    assert [v == 1 for v in frame[name]] == ticked
                    assert [v == v for v in frame[name]] == answered  # missing where not asked
        assert frame["id"].tolist() == [r["id"] for r in rows]
        assert frame["suggestions"].fillna("").tolist() == [r["suggestions"] or "" for r in rows]
        assert frame["day"][0] == date.fromisoformat(rows[0]["day"])
        assert meta.variable_value_labels["region.province"][frame["region.province"][0]] == rows[0]["province"]
        assert meta.variable_value_labels["valid"] == {0: "无效", 1: "有效"}


def test_variable_labels_are_cut_to_what_spss_keeps(tmp_path: Path, data: Path, survey: Survey) -> None:
    raw = questionnaire.read()
    long = "您对以下方面网络安全工作的满意程度" * 12
    raw["questionnaires"]["public"]["sections"][0]["questions"][1]["text"] = long  # the gender question
    hostile = questionnaire.parse(raw, questionnaire.SOURCE)
    codebook.write(data, hostile, tmp_path, ("sav",))
    _, meta = pyreadstat.read_sav(str(tmp_path / "submissions-public.sav"), metadataonly=True)
    label = meta.column_names_to_labels["gender"]
    assert long.startswith(label) and len(label.encode()) <= 255 and len(label) == 255 // 3


def test_the_labelled_csv_shows_labels(written: Path, data: Path, survey: Survey) -> None:
    qn = survey.questionnaires["public"]
    rows = pq.read_table(data / "submissions-public.parquet").to_pylist()
    labelled = read_csv(written / "submissions-public-labelled.csv")
    assert list(labelled[0]) == [v.name for v in codebook.variables(qn)]
    labels = {q.id: dict(q.options) for q in qn.questions if q.type == "single"}
    for row, out in zip(rows, labelled):
        assert out["gender"] == labels["gender"][row["gender"]] and out["age"] == labels["age"][row["age"]]
        assert out["victim_loss"] == (labels["victim_loss"][row["victim_loss"]] if row["victim_loss"] else "")
        assert out["region.city"] == row["region.city"] and out["overall"] == str(row["overall"])
        concerns = row["top_concerns"].split(";")
        assert out["top_concerns.fraud"] == ("1" if "fraud" in concerns else "0")
        assert out["leak_signs.other"] == ("" if row["leak_signs"] is None else
                                           "1" if "other" in row["leak_signs"].split(";") else "0")
        assert out["suggestions"] == (row["suggestions"] or "")


def test_formulas_in_labels_and_answers_are_neutralised(tmp_path: Path, survey: Survey) -> None:
    # GIVEN a questionnaire with a hostile option label and submissions with hostile suggestions, exported for real
    raw = copy.deepcopy(questionnaire.read())
    raw["questionnaires"]["public"]["sections"][0]["questions"][1]["options"]["male"] = HOSTILE_LABEL
    hostile = questionnaire.parse(raw, questionnaire.SOURCE)
    qn = hostile.questionnaires["public"]
    subs = []
    for n, text in enumerate(HOSTILE_TEXTS):
        answers = valid_answers(qn, random.Random(n))
        answers.update(gender="male", suggestions=text)
        subs.append(stored(qn, answers, n))
    export.export(subs, hostile, tmp_path / "export", export.Filters(), ("parquet",))
    # WHEN the analysts' files are written
    codebook.write(tmp_path / "export", hostile, tmp_path / "out")
    # THEN no text cell starts like a formula, in the codebook, the labelled CSV or the workbook
    book = read_csv(tmp_path / "out" / "codebook.csv")
    assert any(r["label"] == "'" + HOSTILE_LABEL for r in book)
    labelled = read_csv(tmp_path / "out" / "submissions-public-labelled.csv")
    assert [r["gender"] for r in labelled] == ["'" + HOSTILE_LABEL] * len(HOSTILE_TEXTS)
    assert [r["suggestions"] for r in labelled] == [export.safe(t) for t in HOSTILE_TEXTS]
    assert all(r["suggestions"].startswith("'") for r in labelled[:-1]) and labelled[-1]["suggestions"] == "'-3+4"
    for path in (tmp_path / "out" / "submissions-public-labelled.xlsx", tmp_path / "out" / "codebook.xlsx"):
        cells = re.findall(r"<t(?: [^>]*)?>([^<]*)</t>", sheet_xml(path))
        unsafe = [c for c in cells if c.lstrip(" \u200b").startswith(("=", "+", "@", "＝")) or c.startswith("-3")]
        assert not unsafe, path.name
    assert "'=HYPERLINK" in sheet_xml(tmp_path / "out" / "codebook.xlsx")


def test_the_workbooks_rows_are_those_xlsxwriter_writes(tmp_path: Path, survey: Survey) -> None:
    # GIVEN rows with every kind of awkward text: markup, control characters, Excel's own escapes, edge blanks
    qn = survey.questionnaires["pro"]
    odd = ["a&b<c>d\"e", "\x01ctl", "lit_x0041_eral", " leading", "trailing\n", "\u3000全角空格", "", "中文",
           "tab\there", "\ufffe"]
    subs = []
    for n, text in enumerate(odd):
        answers = valid_answers(qn, random.Random(n))
        answers["suggestions"] = text
        subs.append(stored(qn, answers, n, claimed=odd[-n - 1]))
    export.export(subs, survey, tmp_path / "export", export.Filters(), ("parquet",))
    codebook.write(tmp_path / "export", survey, tmp_path / "out", ("xlsx",))
    # WHEN XlsxWriter writes the same labelled rows cell by cell
    variables = codebook.variables(qn)
    schema = codebook.pa.schema([(v.name, codebook._labelled_type(v)) for v in variables])
    batch = next(pq.ParquetFile(tmp_path / "export" / "submissions-pro.parquet").iter_batches())
    reference = tmp_path / "reference.xlsx"
    with xlsxwriter.Workbook(str(reference), codebook._XLSX_OPTIONS) as wb:
        ws = codebook._sheet(wb, "pro", variables, wb.add_format({"bold": True}))
        for r, row in enumerate(codebook._labelled(batch, variables, schema).to_pylist(), start=1):
            ws.write_row(r, 0, list(row.values()))
    # THEN the sheets are the same, byte for byte
    assert sheet_xml(tmp_path / "out" / "submissions-pro-labelled.xlsx") == sheet_xml(reference)


def test_a_workbook_goes_on_in_further_sheets_past_the_row_limit(tmp_path: Path, data: Path, survey: Survey,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codebook, "SHEET_ROWS", 120)
    monkeypatch.setattr(codebook, "BATCH", 50)
    codebook.write(data, survey, tmp_path, ("xlsx",))
    path = tmp_path / "submissions-pro-labelled.xlsx"  # 300 rows: 120 + 120 + 60
    workbook = zipfile.ZipFile(path).read("xl/workbook.xml").decode()
    assert re.findall(r'<sheet name="([^"]+)"', workbook) == ["pro", "pro (2)", "pro (3)"]
    ids = [re.findall(r'<c r="A(\d+)" t="inlineStr"><is><t>(syn[^<]+)</t>', sheet_xml(path, k)) for k in (1, 2, 3)]
    assert [len(i) for i in ids] == [120, 120, 60]
    assert [r for r, _ in ids[1]] == [str(n) for n in range(2, 122)]
    order = [v for sheet in ids for _, v in sheet]
    assert order == pq.read_table(data / "submissions-pro.parquet", columns=["id"]).column(0).to_pylist()
    assert '<dimension ref="A1:' in sheet_xml(path, 3) and sheet_xml(path, 3).count("<row ") == 61


def test_the_command_writes_the_files_asked_for(tmp_path: Path, site: Path, data: Path) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--site", type=Path)
    codebook.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["--site", str(site), "codebook", "--data", str(data), "--out", str(tmp_path),
                              "--format", "codebook", "sav"])
    assert args.run(args) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["codebook-index.csv", "codebook.csv", "codebook.xlsx",
                                                          "submissions-pro.sav", "submissions-public.sav"]
    with pytest.raises(ValueError, match="unknown format"):
        codebook.write(data, questionnaire.load(), tmp_path, ("pdf",))
