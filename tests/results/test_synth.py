from __future__ import annotations

import argparse
import random
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from scipy.stats import spearmanr

from lambdas.admin import export
from lambdas.results import synth
from lambdas.survey import catalog, questionnaire, rules
from lambdas.survey.catalog import BEIJING
from lambdas.survey.questionnaire import Questionnaire
from lambdas.survey.regions import CITIES, PROVINCES
from tests.helpers import write_catalog

SIZE = 50_000
Tables = dict[str, list[dict[str, Any]]]  # questionnaire -> rows


def make_site(folder: Path) -> Path:
    """A built site's data files: the sample campaign's sponsors.json, questionnaires.json and rules.json."""
    write_catalog(folder)
    return folder


def answers_of(row: dict[str, Any], qn: Questionnaire) -> dict[str, Any]:
    """The inverse of export.flatten: a flat row back into the answers the form posted."""
    answers: dict[str, Any] = {}
    for q in qn.questions:
        if q.type == "matrix":
            rows = {r: row[f"{q.id}.{r}"] for r, _ in q.rows if row[f"{q.id}.{r}"] is not None}
            if rows:
                answers[q.id] = rows
        elif q.type == "region":
            answers[q.id] = {"province": row[f"{q.id}.province"], "city": row[f"{q.id}.city"]}
        elif q.type == "multi":
            if row[q.id] is not None:
                answers[q.id] = row[q.id].split(";")
        elif row[q.id] is not None:
            answers[q.id] = row[q.id]
    return answers


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_site(tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="module")
def survey() -> questionnaire.Survey:
    return questionnaire.load()


@pytest.fixture(scope="module")
def cat(site: Path) -> catalog.Catalog:
    return catalog.load(site / "sponsors.json")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory, survey: questionnaire.Survey, cat: catalog.Catalog) -> Path:
    out = tmp_path_factory.mktemp("synth")
    assert synth.generate(out, survey, cat, SIZE, seed=1) == {"public": 45_000, "pro": 5_000}
    return out


@pytest.fixture(scope="module")
def tables(sample: Path, survey: questionnaire.Survey) -> Tables:
    return {qid: pq.read_table(sample / f"submissions-{qid}.parquet").to_pylist() for qid in survey.questionnaires}


def test_the_same_seed_writes_the_same_files(tmp_path: Path, survey: questionnaire.Survey,
                                             cat: catalog.Catalog) -> None:
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        synth.generate(tmp_path / name, survey, cat, 3000, seed=seed)
    for qid in survey.questionnaires:
        file = f"submissions-{qid}.parquet"
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()
        assert (tmp_path / "a" / file).read_bytes() != (tmp_path / "c" / file).read_bytes()


def test_the_files_have_the_exports_schema(tmp_path: Path, sample: Path, survey: questionnaire.Survey) -> None:
    # GIVEN what the real export writes (here with no submissions: the files and their schema only)
    export.export([], survey, tmp_path, export.Filters(), ("parquet",))
    for qid, qn in survey.questionnaires.items():
        theirs = pq.read_schema(tmp_path / f"submissions-{qid}.parquet")
        ours = pq.read_schema(sample / f"submissions-{qid}.parquet")
        assert ours.equals(theirs, check_metadata=False)
        assert ours.names == export.columns(qn)


def test_every_row_passes_the_questionnaires_check_as_it_is(tables: Tables, survey: questionnaire.Survey,
                                                            cat: catalog.Catalog) -> None:
    fastest = rules.load().min_seconds
    days = set(cat.days())
    for qid, qn in survey.questionnaires.items():
        for row in random.Random(3).sample(tables[qid], 500):
            answers = answers_of(row, qn)
            # nothing dropped (no answer to a hidden question), nothing missing, every multi in its min/max
            assert qn.check(answers) == answers
            assert row["province"] == row["region.province"] and row["questionnaire"] == qid
            assert row["valid"] is True and row["reasons"] == "" and row["seconds"] >= fastest[qid]
            received = datetime.fromisoformat(row["received"].replace("Z", "+00:00"))
            assert cat.opens <= received < cat.closes and row["day"] in days
            assert received.astimezone(BEIJING).date().isoformat() == row["day"]
            assert len(row["id"]) <= 64 and row["id"].replace("-", "").isalnum()


def test_follow_ups_only_when_shown_and_required_ones_always(tables: Tables, survey: questionnaire.Survey) -> None:
    for qid, qn in survey.questionnaires.items():
        table = tables[qid]
        for q in qn.questions:
            if q.show_if is None:
                continue
            parent, options = q.show_if
            shown = [r for r in table if set((r[parent] or "").split(";")) & set(options)]
            hidden = [r for r in table if not set((r[parent] or "").split(";")) & set(options)]
            assert shown and hidden, q.id
            assert all(r[q.field_names()[0]] is None for r in hidden), q.id
            if q.required:
                assert all(r[q.field_names()[0]] is not None for r in shown), q.id


def test_provinces_in_the_netizens_shares_and_cities_of_the_province(tables: Tables) -> None:
    table = tables["public"]
    counts = Counter(r["province"] for r in table)
    total = sum(synth.NETIZENS.values())
    for p in PROVINCES:
        assert abs(counts[p] / len(table) - synth.NETIZENS[p] / total) < 0.006, p
    assert counts.most_common(1)[0][0] == "广东省" and counts["西藏自治区"] < counts["北京市"]
    assert all(r["region.city"] in CITIES[r["province"]] for r in table)


def test_ratings_correlate_through_the_latent_satisfaction(tables: Tables, survey: questionnaire.Survey) -> None:
    table = tables["public"]
    overall = [r["overall"] for r in table]
    matrix = next(q for q in survey.questionnaires["public"].questions if q.id == "satisfaction")
    for row, _ in matrix.rows:
        rho = spearmanr(overall, [r[f"satisfaction.{row}"] for r in table]).statistic
        assert rho > 0.2, row


def test_the_index_differs_between_provinces_and_domains(tables: Tables, survey: questionnaire.Survey) -> None:
    index = survey.questionnaires["public"].index
    assert index is not None
    by_province: dict[str, list[float]] = {}
    domains: dict[str, list[float]] = {}
    for r in tables["public"]:
        value, scores = index.respondent(r)
        assert value is not None
        by_province.setdefault(r["province"], []).append(value)
        for d, s in scores.items():
            domains.setdefault(d, []).append(s)
    national = [v for vs in by_province.values() for v in vs]
    mean = sum(national) / len(national)
    assert 68 < mean < 80  # the published indexes: 73.4 (2021), 75.5 (2023)
    big = {p: sum(v) / len(v) for p, v in by_province.items() if len(v) > 1000}
    assert max(big.values()) - min(big.values()) > 2
    domain_means = sorted(sum(v) / len(v) for v in domains.values())
    assert domain_means[-1] - domain_means[0] > 5


def test_multi_choices_within_their_limits_and_none_alone(tables: Tables, survey: questionnaire.Survey) -> None:
    for qid, qn in survey.questionnaires.items():
        table = tables[qid]
        for q in qn.questions:
            if q.type != "multi":
                continue
            picked = [r[q.id].split(";") for r in table if r[q.id]]
            assert all(q.min <= len(p) <= q.max for p in picked), q.id
            assert not any("none" in p and len(p) > 1 for p in picked), q.id
            assert max(len(p) for p in picked) > 1, q.id


def test_times_over_the_window_from_the_opening(tables: Tables, cat: catalog.Catalog) -> None:
    table = tables["public"]
    seconds = sorted(r["seconds"] for r in table)
    fastest = rules.load().min_seconds["public"]
    assert seconds[0] > fastest and fastest + 200 < seconds[len(seconds) // 2] < fastest + 600
    days = Counter(r["day"] for r in table)
    assert set(days) == set(cat.days())
    first = [datetime.fromisoformat(r["received"].replace("Z", "+00:00")).astimezone(BEIJING)
             for r in table if r["day"] == cat.days()[0]]
    assert min(first) >= cat.opens
    hours = Counter(t.hour for t in first)
    assert hours.most_common(1)[0][0] == cat.opens.astimezone(BEIJING).hour  # the launch
    assert days[cat.days()[0]] == max(days.values())


def test_sponsors_from_the_catalog_with_their_channels(tables: Tables, cat: catalog.Catalog) -> None:
    table = tables["public"]
    by_sponsor = Counter(r["sponsor"] for r in table)
    for r in table:
        if r["sponsor"] == "-":
            assert r["channel"] == "-" and r["claimed"]
        else:
            assert r["channel"] in cat.sponsors[r["sponsor"]].channels
            assert not r["claimed"] or cat.attribute(*r["claimed"].split("/")) == (r["sponsor"], r["channel"])
    top = sum(n for _, n in by_sponsor.most_common(10))
    assert top > 0.2 * len(table)  # a few big sponsors
    own = sum(cat.sponsors[r["sponsor"]].province == r["province"] for r in table if r["sponsor"] != "-")
    assert own > 0.7 * len(table)


def test_suggestions_from_a_share_of_respondents_name_their_places(tables: Tables,
                                                                  survey: questionnaire.Survey) -> None:
    table = tables["public"]
    limit = next(q for q in survey.questionnaires["public"].questions if q.id == "suggestions").max_length
    texts = [r for r in table if r["suggestions"]]
    assert 0.35 < len(texts) / len(table) < 0.45
    assert all(len(r["suggestions"]) <= limit and r["suggestions"].endswith(("。", "！")) for r in texts)
    assert len({r["suggestions"] for r in texts}) > 1000
    guangdong = [r["suggestions"] for r in texts if r["province"] == "广东省"]
    assert any("广东" in t for t in guangdong) and not any("河北" in t for t in guangdong)
    # suggestions follow the priorities the respondent chose
    fraud = [r for r in texts if r["priorities"] == "fraud"]
    assert sum("诈骗" in r["suggestions"] or "反诈" in r["suggestions"] for r in fraud) > 0.6 * len(fraud)


def test_the_command_writes_the_files(tmp_path: Path, site: Path) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--site", type=Path)
    synth.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["--site", str(site), "synth", "--out", str(tmp_path), "--size", "1000", "--seed", "2"])
    assert args.run(args) == 0
    assert pq.read_metadata(tmp_path / "submissions-public.parquet").num_rows == 900
    assert pq.read_metadata(tmp_path / "submissions-pro.parquet").num_rows == 100


def test_received_is_the_exports_iso_form(tables: Tables) -> None:
    r = tables["pro"][0]
    parsed = datetime.strptime(r["received"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    assert parsed.isoformat(timespec="milliseconds").replace("+00:00", "Z") == r["received"]
