"""Export: stream stored submissions to files analysts open, one questionnaire per file.

CSV is UTF-8 with a byte-order mark, so Excel opens Chinese text correctly, and every text cell that a spreadsheet
could read as a formula is neutralised with a leading apostrophe (see `safe`). Parquet keeps the same columns,
typed, for analysts' tools. Free-text answers (the suggestions) also go to their own file.

A questionnaire with topic modules gets one file of its core answers for every respondent, whichever topic they
answered (with a `topic` column; the national and provincial figures read it), and one file per topic's form
(submissions-<questionnaire>.<topic>) with the core and that topic's answers.
"""

from __future__ import annotations

import csv
import json
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdas.survey.catalog import UNATTRIBUTED
from lambdas.survey.questionnaire import Questionnaire, Survey

META = ("id", "questionnaire", "day", "received", "sponsor", "channel", "claimed", "province", "valid", "reasons", "seconds")
TOPIC = "topic"  # the core file of a questionnaire with topics: which topic the respondent answered
_FORMULA = ("=", "+", "-", "@")  # also in their full-width forms (＝＋－＠), which NFKC folds to these
_UNSAFE_FIRST = ("\t", "\r")
BATCH = 5000  # rows per Parquet row group


@dataclass(frozen=True)
class Filters:
    day: str | None = None
    sponsor: str | None = None
    province: str | None = None
    valid: bool | None = None

    def keep(self, s: dict[str, Any]) -> bool:
        return ((self.day is None or s["day"] == self.day) and (self.sponsor is None or s["sponsor"] == self.sponsor)
                and (self.province is None or s["province"] == self.province)
                and (self.valid is None or s["valid"] is self.valid))


def safe(value: object) -> object:
    """A cell no spreadsheet evaluates: text that starts like a formula gets a leading apostrophe. Spreadsheets
    normalise what they import, so a formula sign counts behind blanks (spaces, tabs, line breaks, the ideographic
    space) and invisible characters (zero-width ones, the byte-order mark), and in its full-width form; a tab or
    carriage return first is unsafe by itself. The unattributed marker, a lone "-", is no formula and stays as it is,
    so a pivot table still groups it."""
    if not isinstance(value, str) or value == UNATTRIBUTED:
        return value
    if value.startswith(_UNSAFE_FIRST) or _first_seen(value) in _FORMULA:
        return "'" + value
    return value


def _first_seen(text: str) -> str:
    """The first character a spreadsheet reads, folded to its plain form: ＝ is =; blanks and format characters
    (zero-width spaces and joiners, the word joiner, the byte-order mark, direction marks) are passed over."""
    for ch in text:
        if not ch.isspace() and unicodedata.category(ch) != "Cf":
            return unicodedata.normalize("NFKC", ch)[:1]
    return ""


def columns(qn: Questionnaire) -> list[str]:
    """One column per answer field, named as the form names its controls (region.province, satisfaction.police);
    a questionnaire with topics (its core file) has the topic after the submission's own columns."""
    topic = [TOPIC] if qn.modules is not None else []
    return list(META) + topic + [name for q in qn.questions for name in q.field_names()]


def flatten(s: dict[str, Any], qn: Questionnaire) -> dict[str, Any]:
    answers = json.loads(s["answers"])
    row: dict[str, Any] = {k: s.get(k, "") for k in META}
    row["reasons"] = ";".join(s.get("reasons", []))
    for q in qn.questions:
        value = answers.get(q.id)
        if q.type == "matrix":
            for r, _ in q.rows:
                row[f"{q.id}.{r}"] = (value or {}).get(r)
        elif q.type == "region":
            row[f"{q.id}.province"], row[f"{q.id}.city"] = (value or {}).get("province"), (value or {}).get("city")
        elif q.type == "multi":
            row[q.id] = ";".join(value) if value else None
        else:
            row[q.id] = value
    return row


def export(submissions: Iterable[dict[str, Any]], survey: Survey, out: Path, filters: Filters,
           formats: tuple[str, ...] = ("csv", "parquet")) -> dict[str, int]:
    """Write submissions-<questionnaire>.csv/.parquet (and for a questionnaire with topics, its core file and
    submissions-<questionnaire>.<topic> per topic) and suggestions.csv into `out`; returns rows per file's id."""
    out.mkdir(parents=True, exist_ok=True)
    files = {**survey.questionnaires, **{fid: form for fid, form in survey.forms.items() if form.topic}}
    writers = {fid: _Writers(out, qn, formats) for fid, qn in files.items()}
    free = {fid: [q for q in qn.questions if q.type in ("text", "textarea")] for fid, qn in survey.forms.items()}
    counts = {fid: 0 for fid in writers}
    with open(out / "suggestions.csv", "w", encoding="utf-8-sig", newline="") as fh:
        suggestions = csv.writer(fh)
        suggestions.writerow(["id", "questionnaire", "day", "sponsor", "province", "valid", "question", "text"])
        try:
            for s in submissions:
                if not filters.keep(s) or s["questionnaire"] not in survey.forms:
                    continue
                qid = s["questionnaire"]
                form = survey.forms[qid]
                row = flatten(s, form)
                writers[qid].add(row)
                counts[qid] += 1
                if form.topic:  # every respondent of a topic is also one of its questionnaire's core file
                    writers[form.base].add({**row, TOPIC: form.topic.id})
                    counts[form.base] += 1
                for q in free[qid]:
                    if row.get(q.id):
                        suggestions.writerow([safe(s["id"]), qid, s["day"], safe(s["sponsor"]), s["province"],
                                              s["valid"], q.id, safe(row[q.id])])
        finally:
            for w in writers.values():
                w.close()
    return counts


class _Writers:
    def __init__(self, out: Path, qn: Questionnaire, formats: tuple[str, ...]) -> None:
        self.cols = columns(qn)
        self.csv_file = self.parquet = None
        self.batch: list[dict[str, Any]] = []
        if "csv" in formats:
            self.csv_file = open(out / f"submissions-{qn.id}.csv", "w", encoding="utf-8-sig", newline="")
            self.csv = csv.writer(self.csv_file)
            self.csv.writerow(self.cols)
        if "parquet" in formats:
            import pyarrow as pa
            import pyarrow.parquet as pq

            self.pa = pa
            types = {"received": pa.string(), "valid": pa.bool_(), "seconds": pa.int64()}
            q_types = {name: (pa.int64() if q.type in ("rating", "matrix") else pa.string())
                       for q in qn.questions for name in q.field_names()}
            self.schema = pa.schema([(c, types.get(c) or q_types.get(c) or pa.string()) for c in self.cols])
            self.parquet = pq.ParquetWriter(out / f"submissions-{qn.id}.parquet", self.schema)

    def add(self, row: dict[str, Any]) -> None:
        if self.csv_file:
            self.csv.writerow([safe(row.get(c)) if row.get(c) is not None else "" for c in self.cols])
        if self.parquet:
            self.batch.append(row)
            if len(self.batch) >= BATCH:
                self._flush()

    def _flush(self) -> None:
        if self.batch:
            data = {c: [r.get(c) for r in self.batch] for c in self.cols}
            self.parquet.write_table(self.pa.Table.from_pydict(data, schema=self.schema))
            self.batch = []

    def close(self) -> None:
        if self.csv_file:
            self.csv_file.close()
        if self.parquet:
            self._flush()
            self.parquet.close()


def progress(items: Iterable[Any], desc: str) -> Iterator[Any]:
    from tqdm import tqdm

    yield from tqdm(items, desc=desc, unit=" rows", mininterval=0.5, disable=None)

