"""The suggestions' summary, on a small export written by the real exporter: 42 suggestions in three provinces, one of
which (广东省) keeps asking about 网贷催收."""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import zipfile
from pathlib import Path

import pytest

from lambdas.admin import export
from lambdas.results import suggestions
from lambdas.results.suggestions import FILLER, GENERIC, Row, SuggestionSummary
from lambdas.survey import questionnaire

GUANGDONG = [  # 网贷催收 in 8 of 14
    "网贷催收太猖狂了，天天打电话骚扰家人",
    "希望整治网贷催收，暴力催收要严惩",
    "网贷催收电话打到单位，影响很坏",
    "网贷催收把通讯录的人都骚扰了一遍",
    "严查网贷催收公司，保护个人信息",
    "网贷催收问题很严重，请有关部门重视",
    "网贷催收泄露个人信息，必须管一管",
    "建议加强监管，网贷催收太多了",
    "希望加强监管，打击电信诈骗",
    "个人信息泄露严重，骚扰电话太多",
    "App弹窗广告关不掉",
    "未成年人沉迷网络游戏，要防沉迷",
    "大数据杀熟要管一管",
    "无",
]
BEIJING = [
    "希望加强监管，打击电信诈骗",
    "加强监管，个人信息泄露太严重了",
    "打击电信诈骗，保护老年人的养老钱",
    "骚扰电话太多，个人信息泄露严重",
    "未成年人沉迷网络游戏，家长管不住",
    "大数据杀熟现象严重，平台要守规矩",
    "App过度收集个人信息，应该整治",
    "网络安全很重要，建议加强网络安全宣传教育",
    "没有意见，很满意",
    "=校园贷坑害学生，打击校园贷",  # starts like a formula
    "=校园贷要管",
    "+校园贷利息太高",
    "@校园贷骗了同学",
    "-校园贷害人",
]
ZHEJIANG = [
    "打击电信诈骗，个人信息要保护好",
    "加强监管，打击电信诈骗团伙",
    "骚扰电话太多了，个人信息泄露",
    "大数据杀熟，购物平台要管",
    "未成年人保护要加强，游戏防沉迷",
    "个人信息泄露问题希望重视",
    "打击电信诈骗，追回被骗的钱",
    "App乱弹广告，过度收集个人信息，骚扰电话一天好几个，" + "平台管理太松，" * 8 + "希望打击电信诈骗。",
    "打击电信诈骗，打击电信诈骗，打击电信诈骗",  # one suggestion, counted once
    "骚扰电话联系13800138000这个号码的都是骗子，个人信息泄露",  # a phone number: never an example
    "暂无",
    "谢谢",
    "网络安全",
    "个人信息泄露，大数据杀熟",
]
INVALID = ["刷票刷票，网贷催收"] * 6  # from invalid samples: never read


def _submission(i: int, province: str, text: str, valid: bool = True, qid: str = "public") -> dict:
    return {"id": f"s{i:04d}", "questionnaire": qid, "day": "2021-09-01", "received": "2021-09-01T02:00:00Z",
            "sponsor": "guangdong-cyber", "channel": "website", "claimed": "", "province": province, "valid": valid,
            "reasons": [] if valid else ["fast"], "seconds": 300,
            "answers": json.dumps({"suggestions": text}, ensure_ascii=False)}


@pytest.fixture(scope="module")
def survey() -> questionnaire.Survey:
    return questionnaire.load()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory, survey: questionnaire.Survey) -> Path:
    out = tmp_path_factory.mktemp("export")
    rows = [(p, t, True) for p, texts in (("广东省", GUANGDONG), ("北京市", BEIJING), ("浙江省", ZHEJIANG))
            for t in texts] + [("广东省", t, False) for t in INVALID]
    subs = [_submission(i, p, t, v) for i, (p, t, v) in enumerate(rows)]
    subs.append(_submission(999, "广东省", "从业者：网贷催收行业需要规范", qid="pro"))
    export.export(subs, survey, out, export.Filters(), ("parquet",))
    return out


@pytest.fixture(scope="module")
def result(data: Path, survey: questionnaire.Survey) -> SuggestionSummary:
    return suggestions.analyse(data, survey, min_count=3, top=30, workers=1)


def _all_rows(result: SuggestionSummary) -> list[tuple[suggestions.Group, Row]]:
    return [(g, r) for g in result.groups for _, rows in g.lists() for r in rows]


def test_only_the_questionnaires_textareas_are_read(survey: questionnaire.Survey) -> None:
    # occupation_other and job_role_other are text questions saying what "other" means: not suggestions
    assert suggestions.free_text_columns(survey) == {"public": ("suggestions",), "pro": ("suggestions",)}


def test_groups_count_the_valid_suggestions(result: SuggestionSummary) -> None:
    assert result.national.suggestions == 43
    assert result.questionnaires["public"].suggestions == 42
    assert result.questionnaires["pro"].suggestions == 1
    assert list(result.provinces) == ["北京市", "浙江省", "广东省"]  # the official order
    assert [g.suggestions for g in result.provinces.values()] == [14, 14, 15]
    # 无, 没有意见，很满意, 暂无, 谢谢 and 网络安全 (generic only) name nothing
    assert result.provinces["浙江省"].substantive == 11
    assert result.national.substantive == 43 - 5


def test_a_provinces_frequent_phrase_is_its_top_phrase_and_distinctive(result: SuggestionSummary) -> None:
    guangdong = result.provinces["广东省"]
    top = guangdong.phrases[0]
    assert (top.term, top.kind, top.count) == ("网贷催收", "phrase", 9)  # 8 public and the practitioner's
    assert top.share == pytest.approx(9 / 15)
    # 网贷 and 催收 are distinctive too, but said only inside the phrase, so the list does not repeat them
    assert [(r.term, r.kind) for r in guangdong.distinctive] == [("网贷催收", "phrase")]
    assert guangdong.distinctive[0].distinctiveness >= suggestions.Z_DISTINCT
    assert {r.term: r.distinctiveness for r in guangdong.terms}["网贷"] >= suggestions.Z_DISTINCT
    assert "网贷催收" not in {r.term for r in result.provinces["北京市"].distinctive}
    # a phrase heard everywhere is frequent but not distinctive of one province
    fraud = next(r for r in result.provinces["浙江省"].phrases if r.term == "打击电信诈骗")
    assert fraud.distinctiveness < suggestions.Z_DISTINCT


def test_counts_are_of_suggestions_not_of_occurrences(result: SuggestionSummary) -> None:
    zhejiang = {r.term: r.count for r in result.provinces["浙江省"].phrases}
    assert zhejiang["打击电信诈骗"] == 5  # written 7 times in 5 suggestions


def test_domain_terms_are_not_split(result: SuggestionSummary) -> None:
    terms, _ = suggestions.words("大数据杀熟、电信诈骗、网络诈骗、骚扰电话和APP过度收集未成年人的个人信息，落实实名制")
    assert {"大数据杀熟", "电信诈骗", "网络诈骗", "骚扰电话", "app", "未成年人", "个人信息", "实名制"} <= terms
    assert not {"大数据", "杀熟", "电信", "诈骗", "骚扰", "电话", "个人", "信息", "实名"} & terms
    national = {r.term for r in result.national.terms}
    assert {"电信诈骗", "个人信息", "骚扰电话", "大数据杀熟", "未成年人"} <= national
    assert "App" in national  # shown in its usual spelling
    assert "实名" in suggestions.words("实名制度要落实")[0]  # a longer ordinary word is not cut into the term


def test_stop_words_never_appear_as_terms(result: SuggestionSummary) -> None:
    for _, r in _all_rows(result):
        if r.kind == "term":
            assert r.term.lower() not in FILLER | GENERIC, r.term
            assert len(r.term) >= 2
    phrases = {r.term for _, r in _all_rows(result) if r.kind == "phrase"}
    assert not {"网络安全", "加强网络安全", "希望加强", "建议加强"} & phrases  # two generic words are no phrase
    assert "加强监管" in {r.term for r in result.national.phrases}  # but a generic word belongs in a phrase


def test_invalid_samples_are_left_out(result: SuggestionSummary) -> None:
    assert "刷票" not in {r.term for _, r in _all_rows(result)}
    assert not any("刷票" in e for _, r in _all_rows(result) for e in r.examples)


def test_examples_contain_their_term_are_short_and_unique(result: SuggestionSummary) -> None:
    listed = _all_rows(result)
    assert all(r.examples for _, r in listed)
    for _, r in listed:
        assert 1 <= len(r.examples) <= suggestions.EXAMPLES
        assert len(set(r.examples)) == len(r.examples)
        for e in r.examples:
            assert r.term.lower() in e.lower()
            assert len(e) <= suggestions.MAX_CHARS
            assert not re.search(r"\d{5,}", e)  # the phone number's suggestion is never quoted
    # a long suggestion is quoted as a window around the term, cut where marked
    calls = next(r for r in result.provinces["浙江省"].terms if r.term == "骚扰电话")
    cut = next(e for e in calls.examples if e.startswith("App乱弹广告"))
    assert cut.endswith("…") and len(cut) == suggestions.MAX_CHARS
    # examples come from the group's own suggestions
    guangdong = result.provinces["广东省"].phrases[0]
    assert set(guangdong.examples) <= set(GUANGDONG) | {"从业者：网贷催收行业需要规范"}


def test_excerpt_cuts_long_suggestions_around_the_term() -> None:
    text = "平台管理太松，" * 12 + "希望打击电信诈骗。" + "平台管理太松，" * 12
    cut = suggestions.excerpt(text, "电信诈骗", max_chars=30)
    assert cut is not None and "电信诈骗" in cut and len(cut) <= 30
    assert cut.startswith("…") and cut.endswith("…")
    sentence = suggestions.excerpt("第一句话很长很长很长很长很长很长很长很长很长。打击电信诈骗！第三句", "电信诈骗", max_chars=20)
    assert sentence == "…打击电信诈骗！…"
    assert suggestions.excerpt("电话13800138000", "电话") is None
    assert suggestions.excerpt("邮件 a@example.org 骚扰电话", "骚扰电话") is None


def test_log_odds_z_by_hand() -> None:
    # y=30 of n=100 against y'=70 of n'=900, national share 0.1; the prior is min(1000, n) = 100, so a = 10
    delta = math.log(40 / (100 + 100 - 40)) - math.log(80 / (900 + 100 - 80))
    assert suggestions.log_odds_z(30, 100, 70, 900, 0.1) == pytest.approx(delta / math.sqrt(1 / 40 + 1 / 80))
    # with a large group the prior stops at 1000 pseudo-counts: a = 100
    delta = math.log(400 / (5000 + 1000 - 400)) - math.log(400 / (5000 + 1000 - 400))
    assert suggestions.log_odds_z(300, 5000, 300, 5000, 0.06) == pytest.approx(delta)  # the same rate: 0
    assert suggestions.log_odds_z(10, 100, 90, 900, 0.1) == pytest.approx(0.0, abs=0.2)


def test_csv_round_trips_and_formulas_are_neutralised(result: SuggestionSummary, tmp_path: Path) -> None:
    csv_path, xlsx_path = suggestions.write(result, tmp_path)
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbf")
    with open(csv_path, encoding="utf-8-sig", newline="") as fh:
        read = list(csv.reader(fh))
    assert tuple(read[0]) == suggestions.COLUMNS
    expected = [["" if v is None else str(export.safe(v)) for v in row] for row in suggestions.rows(result)]
    assert read[1:] == expected
    campus = [r for r in read[1:] if r[2] == "北京市" and r[5] == "校园贷"]
    assert campus and campus[0][3] == "terms" and campus[0][7] == "5"
    examples = campus[0][11]
    assert examples.startswith("'") and examples.split("\n")[0][1] in "=+-@"  # every one of them starts so
    cells = zipfile.ZipFile(xlsx_path).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in cells
    strings = zipfile.ZipFile(xlsx_path).read("xl/sharedStrings.xml").decode()
    assert examples.split("\n")[0] in strings


def test_a_formula_in_a_hand_made_summary_is_neutralised(tmp_path: Path) -> None:
    group = suggestions.Group("national", "", "", 10, 10, terms=(Row("诈骗", "term", 5, 0.5, None,
                                                                         ("=HYPERLINK(\"x\")诈骗", "诈骗太多")),))
    summary = SuggestionSummary(group, {}, {}, {"public": ("suggestions",)})
    csv_path, _ = suggestions.write(summary, tmp_path)
    with open(csv_path, encoding="utf-8-sig", newline="") as fh:
        row = list(csv.DictReader(fh))[0]
    assert row["examples"] == "'=HYPERLINK(\"x\")诈骗\n诈骗太多"
    assert row["distinctiveness"] == "" and row["share"] == "0.5"


def test_worker_processes_give_the_same_summary(data: Path, survey: questionnaire.Survey,
                                                result: SuggestionSummary) -> None:
    assert suggestions.analyse(data, survey, min_count=3, top=30, workers=2, batch=7) == result


def test_command_writes_the_table(data: Path, tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    suggestions.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["suggestions", "--data", str(data), "--out", str(tmp_path / "out"), "--min-count", "3",
                              "--workers", "1"])
    assert args.run(args) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["suggestions-terms.csv", "suggestions-terms.xlsx"]
    empty = parser.parse_args(["suggestions", "--data", str(tmp_path), "--out", str(tmp_path / "x")])
    assert empty.run(empty) == 1


def test_an_export_without_suggestions_gives_empty_lists(survey: questionnaire.Survey, tmp_path: Path) -> None:
    export.export([_submission(1, "北京市", ""), _submission(2, "北京市", "   ")], survey, tmp_path / "data",
                  export.Filters(), ("parquet",))
    result = suggestions.analyse(tmp_path / "data", survey, workers=1)
    assert result.national.suggestions == 0 and not result.provinces and not result.questionnaires
    csv_path, _ = suggestions.write(result, tmp_path / "out")
    assert csv_path.read_text(encoding="utf-8-sig").splitlines() == [",".join(suggestions.COLUMNS)]


def test_a_group_of_one_word_is_not_distinctive() -> None:
    assert suggestions.log_odds_z(5, 5, 0, 0, 1.0) == 0.0
