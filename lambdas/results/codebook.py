"""Exports analysts open besides the Parquet: a codebook, labelled CSV and XLSX, and SPSS .sav with its labels.

From the export's `submissions-<questionnaire>.parquet` (or the synthetic ones) and the questionnaire:
- `codebook.csv` and `codebook.xlsx`: every variable of every questionnaire, one line per value — its name (the
  column in the labelled files and the .sav), question id, type, text, when it is shown, and each value's option
  id, code in the .sav and label; the satisfaction index's domains, weights and scores in `codebook-index.csv`
  and the workbook's second sheet.
- `submissions-<q>-labelled.csv` and `.xlsx`: the export's rows with option labels in place of option ids. A multi
  choice becomes one 0/1 column per option, named `<question>.<option>`, empty where the question was not shown or
  not answered. Headers are the variable names, stable for scripts; each one's label is in the codebook and, in the
  workbook, in a comment on its header cell. Text is neutralised against spreadsheet formulas as the export does it
  (`export.safe`). A sheet holds 1,048,575 rows below its header: a larger file goes on in further sheets.
- `submissions-<q>.sav` (SPSS, UTF-8): variable labels from the question texts (cut at 255 bytes, as SPSS keeps
  them), value labels for codes 1..n of each single choice, province and city, 1 and 5 of each rating and matrix row
  from its low and high labels, 0/1 for multi-choice dummies and for validity; the day as a date, the received time
  as a date-time (UTC), free text as strings.

The Parquet is read in batches, so the CSV and XLSX keep a flat memory at any size. The .sav writer (pyreadstat)
takes one whole data frame: its columns are filled batch by batch in compact types (1- or 2-byte codes with a
missing mask, strings kept in Arrow's buffers); writing 2.7 million rows of the public questionnaire peaks at
about 2 GB.
"""

from __future__ import annotations

import argparse
import csv
import re
import time
import zipfile
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lambdas.admin import export
from lambdas.survey import questionnaire
from lambdas.survey.questionnaire import Questionnaire, Survey
from lambdas.survey.regions import CITIES, PROVINCES

FORMATS = ("codebook", "csv", "xlsx", "sav")
BATCH = 100_000  # rows read from the Parquet at a time
XLSX_BATCH = 20_000  # for the workbook, whose rows are some 3 kB of XML each while they are built
SHEET_ROWS = 1_048_575  # Excel's rows per sheet below the header
VARIABLE_LABEL_BYTES = 255  # SPSS keeps a variable label to this many bytes
VALUE_LABEL_BYTES = 120  # and a value label to this many
CHOSEN = ((0, "未选"), (1, "选中"))
VALIDITY = ((0, "False", "无效"), (1, "True", "有效"))
META_LABELS = {
    "id": "答卷编号", "questionnaire": "问卷", "day": "提交日期（北京时间）", "received": "接收时间（UTC）",
    "sponsor": "推广单位（标识）", "channel": "推广渠道", "claimed": "链接所写的单位/渠道（与归属不同时）",
    "province": "省份（答卷所填）", "valid": "是否有效样本", "reasons": "无效原因代码", "seconds": "填写用时（秒）",
}
CODEBOOK_HEADER = ["questionnaire", "variable", "question", "type", "text", "shown_if", "required", "code", "value",
                   "label", "index"]
INDEX_HEADER = ["questionnaire", "index", "scale", "domain", "domain_title", "domain_weight", "variable",
                "item_weight", "scores"]


@dataclass(frozen=True)
class Value:
    code: int  # in the .sav
    value: str  # as the export writes it
    label: str


@dataclass(frozen=True)
class Variable:
    """One column of the labelled files and the .sav."""
    name: str
    source: str  # the export's column it is read from
    kind: str  # text, day, time, flag, number, code (a value from `values`) or dummy (one option of a multi)
    type: str  # the question's type, or meta for the envelope
    question: str
    label: str
    values: tuple[Value, ...] = ()
    shown_if: str = ""
    required: bool = False
    index: str = ""  # the index domains this answer counts in, with the weights
    option: str = ""  # a dummy's option

    @property
    def measure(self) -> str:
        if self.kind in ("number", "time", "day"):
            return "ordinal" if self.type in ("rating", "matrix") else "scale"
        return "nominal"


def variables(qn: Questionnaire) -> list[Variable]:
    """The variables of a questionnaire's labelled files and .sav, in the export's column order."""
    out = [_meta(name) for name in export.META]
    counts_in = _index_roles(qn)
    for q in qn.questions:
        shown = f"{q.show_if[0]} ∈ {{{', '.join(q.show_if[1])}}}" if q.show_if else ""
        common = {"type": q.type, "question": q.id, "shown_if": shown, "required": q.required}
        scale = (Value(1, "1", q.low), Value(5, "5", q.high))
        if q.type == "single":
            values = tuple(Value(i + 1, o, label) for i, (o, label) in enumerate(q.options))
            out.append(Variable(q.id, q.id, "code", label=q.text, values=values, index=counts_in.get(q.id, ""),
                                **common))
        elif q.type == "multi":
            out += [Variable(f"{q.id}.{o}", q.id, "dummy", label=f"{q.text}：{label}", option=o,
                             values=tuple(Value(c, o if c else "", lab) for c, lab in CHOSEN), **common)
                    for o, label in q.options]
        elif q.type == "rating":
            out.append(Variable(q.id, q.id, "number", label=q.text, values=scale, index=counts_in.get(q.id, ""),
                                **common))
        elif q.type == "matrix":
            out += [Variable(f"{q.id}.{r}", f"{q.id}.{r}", "number", label=f"{q.text}：{label}", values=scale,
                             index=counts_in.get(f"{q.id}.{r}", ""), **common) for r, label in q.rows]
        elif q.type == "region":
            out.append(Variable(f"{q.id}.province", f"{q.id}.province", "code", label=f"{q.text}：省份",
                                values=_places(PROVINCES), **common))
            out.append(Variable(f"{q.id}.city", f"{q.id}.city", "code", label=f"{q.text}：城市",
                                values=_places([c for p in PROVINCES for c in CITIES[p]]), **common))
        else:
            out.append(Variable(q.id, q.id, "text", label=q.text, **common))
    return out


def _meta(name: str) -> Variable:
    kinds = {"day": "day", "received": "time", "valid": "flag", "seconds": "number", "province": "code"}
    values: tuple[Value, ...] = ()
    if name == "valid":
        values = tuple(Value(*v) for v in VALIDITY)
    elif name == "province":
        values = _places(PROVINCES)
    return Variable(name, name, kinds.get(name, "text"), "meta", "", META_LABELS.get(name, name), values)


def _places(names: list[str] | tuple[str, ...]) -> tuple[Value, ...]:
    return tuple(Value(i + 1, n, n) for i, n in enumerate(names))


def _index_roles(qn: Questionnaire) -> dict[str, str]:
    """Export column -> the index domains it counts in, e.g. 个人信息保护（0.15）×1."""
    roles: dict[str, list[str]] = {}
    for d in qn.index.domains if qn.index else ():
        for item in d.items:
            roles.setdefault(item.column, []).append(f"{d.title}（{d.weight:g}）×{item.weight:g}")
    return {k: "；".join(v) for k, v in roles.items()}


# ---- writing ---------------------------------------------------------------------------------------------------

def write(parquet_dir: Path, survey: Survey, out_dir: Path,
          formats: tuple[str, ...] | list[str] = FORMATS) -> list[Path]:
    """Write the codebook and, for each questionnaire with a submissions-<q>.parquet in `parquet_dir`, its
    labelled CSV, XLSX and .sav (as `formats` asks); returns the files written."""
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown format(s) {', '.join(sorted(unknown))}; choose from {', '.join(FORMATS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if "codebook" in formats:
        written += write_codebook(survey, out_dir)
    for qid, qn in survey.questionnaires.items():
        source = parquet_dir / f"submissions-{qid}.parquet"
        if not source.exists():
            continue
        vs = variables(qn)
        if "csv" in formats:
            written.append(_write_csv(source, vs, out_dir / f"submissions-{qid}-labelled.csv"))
        if "xlsx" in formats:
            written.append(_write_xlsx(source, vs, qid, out_dir / f"submissions-{qid}-labelled.xlsx"))
        if "sav" in formats:
            written.append(_write_sav(source, vs, qn, out_dir / f"submissions-{qid}.sav"))
    return written


def codebook_rows(survey: Survey) -> list[list[Any]]:
    """The codebook: one line per value of each variable (one line for a variable without listed values)."""
    rows = []
    for qid, qn in survey.questionnaires.items():
        for v in variables(qn):
            head = [qid, v.name, v.question, v.type, v.label, v.shown_if, "yes" if v.required else "no"]
            for val in v.values or (None,):
                tail = [val.code, val.value, val.label] if val else ["", "", ""]
                rows.append(head + tail + [v.index])
    return rows


def index_rows(survey: Survey) -> list[list[Any]]:
    """The satisfaction index of each questionnaire: one line per item of each domain."""
    rows = []
    for qid, qn in survey.questionnaires.items():
        ix = qn.index
        if ix is None:
            continue
        scale = "; ".join(f"{i + 1}→{s:g}" for i, s in enumerate(ix.scale))
        for d in ix.domains:
            for item in d.items:
                scores = "; ".join(f"{o}→{s:g}" for o, s in item.scores) if item.scores else scale
                rows.append([qid, ix.title, scale, d.id, d.title, d.weight, item.column, item.weight, scores])
    return rows


def write_codebook(survey: Survey, out_dir: Path) -> list[Path]:
    import xlsxwriter

    book, index = codebook_rows(survey), index_rows(survey)
    paths = [out_dir / "codebook.csv", out_dir / "codebook-index.csv", out_dir / "codebook.xlsx"]
    for path, header, rows in ((paths[0], CODEBOOK_HEADER, book), (paths[1], INDEX_HEADER, index)):
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows([export.safe(c) for c in row] for row in rows)
    with xlsxwriter.Workbook(str(paths[2]), _XLSX_OPTIONS) as wb:
        bold = wb.add_format({"bold": True})
        for name, header, rows in (("codebook", CODEBOOK_HEADER, book), ("index", INDEX_HEADER, index)):
            ws = wb.add_worksheet(name)
            ws.write_row(0, 0, header, bold)
            for r, row in enumerate(rows, start=1):
                ws.write_row(r, 0, [export.safe(c) for c in row])
            ws.freeze_panes(1, 0)
            ws.autofilter(0, 0, len(rows), len(header) - 1)
    return paths


_XLSX_OPTIONS = {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                 "strings_to_urls": False}


def _batches(source: Path, size: int | None = None) -> Iterator[pa.RecordBatch]:
    yield from pq.ParquetFile(source).iter_batches(batch_size=size or BATCH)


def _write_csv(source: Path, vs: list[Variable], path: Path) -> Path:
    schema = pa.schema([(v.name, _labelled_type(v)) for v in vs])
    with open(path, "wb") as fh:
        fh.write("\ufeff".encode())  # the byte-order mark Excel needs to read UTF-8
        with pacsv.CSVWriter(fh, schema) as writer:
            for batch in _batches(source):
                writer.write_table(_labelled(batch, vs, schema))
    return path


def _write_xlsx(source: Path, vs: list[Variable], qid: str, path: Path) -> Path:
    """The labelled rows as a workbook. XlsxWriter writes the package (header, comments, styles, one sheet per
    1,048,575 rows) and the rows go into its sheets as the very XML it writes in constant-memory mode, built by
    column with Arrow: XlsxWriter's own per-cell loop writes about 150,000 cells a second, half an hour for the
    campaign's 3 million rows."""
    import xlsxwriter

    n = pq.ParquetFile(source).metadata.num_rows
    names = [qid if i == 0 else f"{qid} ({i + 1})" for i in range(max(1, -(-n // SHEET_ROWS)))]
    skeleton = path.with_name(f".{path.name}.part")
    with xlsxwriter.Workbook(str(skeleton), _XLSX_OPTIONS) as wb:
        bold = wb.add_format({"bold": True})
        for name in names:
            _sheet(wb, name, vs, bold)
    try:
        _fill_sheets(skeleton, path, _ahead(_sheet_rows(source, vs)), n, len(vs))
    finally:
        skeleton.unlink(missing_ok=True)
    return path


def _fill_sheets(skeleton: Path, path: Path, pieces: Iterator[tuple[int, bytes]], n: int, width: int) -> None:
    """Copy the workbook, putting each sheet's rows (pieces of (sheet, XML)) after its header row."""
    from xlsxwriter.utility import xl_col_to_name

    with zipfile.ZipFile(skeleton) as old, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=XLSX_LEVEL) as new:
        sheets: dict[int, zipfile.ZipInfo] = {}
        for info in old.infolist():
            found = _SHEET.fullmatch(info.filename)
            if found:
                sheets[int(found[1]) - 1] = info
            else:
                new.writestr(info, old.read(info))
        pending = next(pieces, None)
        for k in sorted(sheets):
            rows = max(0, min(SHEET_ROWS, n - k * SHEET_ROWS))
            head, tail = old.read(sheets[k]).decode("utf-8").split("</sheetData>", 1)
            head = _DIMENSION.sub(f'<dimension ref="A1:{xl_col_to_name(width - 1)}{rows + 1}"/>', head, count=1)
            # a sheet of a million rows is some 3 GB of XML: past the 2 GB a plain zip entry may hold
            with new.open(sheets[k].filename, "w", force_zip64=rows > 500_000) as fh:
                fh.write(head.encode("utf-8"))
                while pending is not None and pending[0] == k:
                    fh.write(pending[1])
                    pending = next(pieces, None)
                fh.write(("</sheetData>" + tail).encode("utf-8"))


XLSX_LEVEL = 1  # deflate level of the sheets: gigabytes of repetitive XML compress well at the fastest level
_SHEET = re.compile(r"xl/worksheets/sheet(\d+)\.xml")
_DIMENSION = re.compile(r'<dimension ref="[^"]*"/>')


def _sheet_rows(source: Path, vs: list[Variable]) -> Iterator[tuple[int, bytes]]:
    """(sheet, the XML of some of its rows), in order, from the labelled batches. A batch's rows are made whole and
    only their XML is cut at a sheet's end (Arrow 23's if_else misreads a sliced string array)."""
    from xlsxwriter.utility import xl_col_to_name

    schema = pa.schema([(v.name, _labelled_type(v)) for v in vs])
    letters = [xl_col_to_name(c) for c in range(len(vs))]
    done = 0
    for batch in _batches(source, min(BATCH, XLSX_BATCH)):
        place = np.arange(done, done + batch.num_rows)
        rows = _rows_xml(_labelled(batch, vs, schema), place % SHEET_ROWS + 2, letters)
        sheets = place // SHEET_ROWS
        for sheet in np.unique(sheets):
            at = np.flatnonzero(sheets == sheet)
            yield int(sheet), _bytes(rows.slice(int(at[0]), len(at)))
        done += batch.num_rows


def _rows_xml(table: pa.Table, numbers: np.ndarray, letters: list[str]) -> pa.Array:
    """Rows as XlsxWriter writes them in constant-memory mode: inline strings, no cell for an empty value."""
    r = pc.cast(pa.array(numbers), pa.string())
    parts: list[Any] = ['<row r="', r, '">']
    for letter, col in zip(letters, table.columns):
        if pa.types.is_string(col.type):
            col = pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)  # "" is a blank cell
            text, preserve = _xml_text(col)
            cell = pc.binary_join_element_wise(f'<c r="{letter}', r, '" t="inlineStr"><is><t', preserve, ">", text,
                                               "</t></is></c>", "")
        elif pa.types.is_boolean(col.type):
            cell = pc.binary_join_element_wise(f'<c r="{letter}', r, '" t="b"><v>', pc.if_else(col, "1", "0"),
                                               "</v></c>", "")
        else:
            cell = pc.binary_join_element_wise(f'<c r="{letter}', r, '"><v>', pc.cast(col, pa.string()), "</v></c>",
                                               "")
        parts.append(pc.fill_null(cell, ""))
    parts.append("</row>")
    rows = pc.binary_join_element_wise(*parts, "")
    return rows.combine_chunks() if isinstance(rows, pa.ChunkedArray) else rows


def _bytes(strings: pa.Array) -> bytes:
    """A string array's values end to end: the span of its data buffer its offsets delimit."""
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int32)
    first, last = int(offsets[strings.offset]), int(offsets[strings.offset + len(strings)])
    return strings.buffers()[2][first:last].to_pybytes()


def _ahead(items: Iterator[Any], depth: int = 2) -> Iterator[Any]:
    """The items, each made in a thread while the caller uses the ones before: Arrow's kernels and zlib release the
    GIL, so building rows and compressing them share the machine's cores."""
    from concurrent.futures import ThreadPoolExecutor

    end = object()
    with ThreadPoolExecutor(1) as pool:  # one worker: the generator is never run by two threads at once
        pending = deque(pool.submit(next, items, end) for _ in range(depth))
        while True:
            item = pending.popleft().result()
            if item is end:
                return
            pending.append(pool.submit(next, items, end))
            yield item


# Python's whitespace (XlsxWriter's test for xml:space="preserve"), in Arrow's regular expressions
_SPACE = r"[\t-\r\x1c-\x20\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
_EDGE_SPACE = f"^{_SPACE}|{_SPACE}$"
_CONTROL = r"[\x00-\x08\x0b-\x1f\x{fffe}\x{ffff}]|_x[0-9a-fA-F]{4}_"  # what Excel writes as _xHHHH_


def _xml_text(col: pa.ChunkedArray) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    """Strings escaped as XlsxWriter escapes an inline string, and the <t> attribute each needs."""
    text = pc.replace_substring(pc.replace_substring(pc.replace_substring(col, "&", "&amp;"), "<", "&lt;"), ">", "&gt;")
    preserve = pc.if_else(pc.match_substring_regex(col, _EDGE_SPACE), ' xml:space="preserve"', "")
    odd = pc.fill_null(pc.match_substring_regex(col, _CONTROL), False)
    if pc.any(odd).as_py():  # rare: control characters, done in Python as XlsxWriter does them
        values = [_control_escaped(v) for v in col.filter(odd).to_pylist()]
        text = pc.replace_with_mask(text.combine_chunks(), odd.combine_chunks(),
                                    pa.array([v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                                              for v in values], type=pa.string()))
        preserve = pc.replace_with_mask(preserve.combine_chunks(), odd.combine_chunks(),
                                        pa.array([' xml:space="preserve"' if _PY_EDGE_SPACE.search(v) else ""
                                                  for v in values], type=pa.string()))
    return text, preserve


_PY_EDGE_SPACE = re.compile(r"^\s|\s$")


def _control_escaped(text: str) -> str:
    """Excel's escape of control characters (XlsxWriter's _escape_control_characters): \\x01 -> _x0001_, and a
    literal _x0001_ -> _x005F_x0001_."""
    text = re.sub(r"(_x[0-9a-fA-F]{4}_)", r"_x005F\1", text)
    text = re.sub(r"([\x00-\x08\x0b-\x1f])", lambda m: f"_x{ord(m.group(1)):04X}_", text)
    return text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")


def _sheet(wb: Any, name: str, vs: list[Variable], bold: Any) -> Any:
    ws = wb.add_worksheet(name)
    ws.write_row(0, 0, [v.name for v in vs], bold)
    for c, v in enumerate(vs):
        ws.write_comment(0, c, export.safe(v.label))
    ws.freeze_panes(1, 0)
    return ws


def _labelled_type(v: Variable) -> pa.DataType:
    return {"flag": pa.bool_(), "number": pa.int64(), "dummy": pa.int8()}.get(v.kind, pa.string())


def _labelled(batch: pa.RecordBatch, vs: list[Variable], schema: pa.Schema) -> pa.Table:
    """One batch of export rows as labelled columns: labels for codes, 0/1 per option, safe text."""
    dummies = _dummies(batch, vs)
    columns = []
    for v in vs:
        col = batch.column(v.source)
        if v.kind == "code":
            labels = pa.array([export.safe(x.label) for x in v.values], type=pa.string())
            columns.append(labels.take(pc.index_in(col, value_set=pa.array([x.value for x in v.values]))))
        elif v.kind == "dummy":
            ticked, answered = dummies[v.name]
            columns.append(pa.array(ticked, mask=~answered, type=pa.int8()))
        elif v.kind in ("text", "day", "time"):
            columns.append(_safe(col))
        else:
            columns.append(col)
    return pa.Table.from_arrays(columns, schema=schema)


def _dummies(batch: pa.RecordBatch, vs: list[Variable]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each dummy's 0/1 column and which rows answered its question, from the ';'-joined option ids."""
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for source in dict.fromkeys(v.source for v in vs if v.kind == "dummy"):
        mine = [v for v in vs if v.kind == "dummy" and v.source == source]
        col = batch.column(source)
        lists = pc.split_pattern(col, ";")
        which = pc.index_in(pc.list_flatten(lists), value_set=pa.array([v.option for v in mine]))
        known = which.is_valid().to_numpy(zero_copy_only=False)
        rows = pc.list_parent_indices(lists).to_numpy()
        ticked = np.zeros((len(col), len(mine)), dtype=np.int8)
        ticked[rows[known], pc.fill_null(which, 0).to_numpy(zero_copy_only=False)[known]] = 1
        answered = col.is_valid().to_numpy(zero_copy_only=False)
        out.update({v.name: (ticked[:, k], answered) for k, v in enumerate(mine)})
    return out


_MAYBE_UNSAFE = r"^[^A-Za-z0-9\x{4e00}-\x{9fff}]"  # a letter, digit or ideograph first is never a formula


def _safe(col: pa.Array) -> pa.Array:
    """export.safe over a column: only values that do not start with a letter, digit or ideograph are looked at."""
    suspect = pc.fill_null(pc.match_substring_regex(col, _MAYBE_UNSAFE), False)
    if not pc.any(suspect).as_py():
        return col
    values = col.filter(suspect).to_pylist()
    return pc.replace_with_mask(col, suspect, pa.array([export.safe(v) for v in values], type=pa.string()))


# ---- SPSS ------------------------------------------------------------------------------------------------------

def _write_sav(source: Path, vs: list[Variable], qn: Questionnaire, path: Path) -> Path:
    import pandas as pd
    import pyreadstat

    frame = pd.DataFrame(_sav_columns(source, vs), copy=False)
    pyreadstat.write_sav(
        frame, str(path), file_label=_clip(qn.title, 64), row_compress=True,
        column_labels={v.name: _clip(v.label, VARIABLE_LABEL_BYTES) for v in vs},
        variable_value_labels={v.name: {x.code: _clip(x.label, VALUE_LABEL_BYTES) for x in v.values}
                               for v in vs if v.values},
        variable_measure={v.name: v.measure for v in vs},
        variable_format={v.name: "SDATE10" for v in vs if v.kind == "day"},
    )
    return path


def _sav_columns(source: Path, vs: list[Variable]) -> dict[str, Any]:
    """The .sav's columns, filled batch by batch: codes in small integers with a missing mask, strings in Arrow."""
    import pandas as pd

    n = pq.ParquetFile(source).metadata.num_rows
    numbers = {v.name: (np.zeros(n, dtype=_int_type(v)), np.ones(n, dtype=bool)) for v in vs
               if v.kind not in ("text", "time")}
    strings: dict[str, list[pa.Array]] = {v.name: [] for v in vs if v.kind in ("text", "time")}
    at = 0
    for batch in _batches(source):
        dummies = _dummies(batch, vs)
        size = batch.num_rows
        for v in vs:
            col = batch.column(v.source)
            if v.name in strings:
                strings[v.name].append(pc.cast(col, pa.timestamp("ms", tz="UTC")) if v.kind == "time" else col)
                continue
            values, missing = numbers[v.name]
            if v.kind == "dummy":
                code, ok = dummies[v.name]
            else:
                if v.kind == "code":
                    col = pc.add(pc.index_in(col, value_set=pa.array([x.value for x in v.values])), 1)
                elif v.kind == "day":
                    col = pc.cast(pc.cast(col, pa.date32()), pa.int32())
                elif v.kind == "flag":
                    col = pc.cast(col, pa.int8())
                ok = col.is_valid().to_numpy(zero_copy_only=False)
                code = pc.fill_null(col, 0).to_numpy(zero_copy_only=False)
            values[at:at + size] = code
            missing[at:at + size] = ~ok
        at += size
    out: dict[str, Any] = {}
    for v in vs:
        if v.name in strings:
            chunked = pa.chunked_array(strings[v.name], type=pa.timestamp("ms", tz="UTC") if v.kind == "time"
                                       else pa.string())
            if v.kind == "time":  # SPSS has no time zones: the values are UTC, as the label says
                out[v.name] = pd.Series(chunked.cast(pa.timestamp("ms")).to_numpy())
            else:
                out[v.name] = pd.Series(pd.arrays.ArrowExtensionArray(chunked))
        elif v.kind == "day":
            out[v.name] = pd.Series(_dates(*numbers[v.name]))
        else:
            values, missing = numbers[v.name]
            out[v.name] = pd.arrays.IntegerArray(values, missing)
    return out


def _dates(days: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """Days since 1970 as an object column of dates, one object per distinct day shared among its rows."""
    keys = np.unique(days[~missing])
    objects = np.array([(np.datetime64("1970-01-01", "D") + int(k)).astype(object) for k in keys] + [None],
                       dtype=object)
    where = np.searchsorted(keys, days)
    where[missing] = len(keys)
    return objects[where]


def _int_type(v: Variable) -> type:
    if v.kind == "number" and v.type == "meta" or v.kind == "day":
        return np.int32
    return np.int16 if len(v.values) > 120 else np.int8


def _clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-8 bytes without splitting a character."""
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


# ---- command line -----------------------------------------------------------------------------------------------

def add_parser(sub: argparse._SubParsersAction) -> None:
    """`codebook --data DIR --out DIR [--format codebook csv xlsx sav]`, with the site's questionnaires.json."""
    p = sub.add_parser("codebook", help="a codebook, labelled CSV/XLSX and SPSS .sav from the Parquet export")
    p.add_argument("--data", type=Path, required=True, help="the folder of submissions-<questionnaire>.parquet")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--format", nargs="+", choices=FORMATS, default=list(FORMATS))
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    survey = questionnaire.load(args.site / "questionnaires.json")
    began = time.perf_counter()
    paths = write(args.data, survey, args.out, tuple(args.format))
    print("\n".join(str(p) for p in paths))
    print(f"{len(paths)} file(s) in {time.perf_counter() - began:.1f} s")
    return 0

