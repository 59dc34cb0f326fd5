"""Chinese text set on images: where a line may break, how lines are chosen, and the size a text box allows.

A line breaks between phrases first (the parts a text is given in, spaces, after a comma or a full stop). A phrase
too wide for a line breaks between its words (found by jieba, with the campaign's own terms added); inside a word or
a bracketed aside only at the smallest size. The Chinese line-breaking rules (禁则) hold throughout: no line starts
with closing punctuation and none ends with opening punctuation; a last line of one character is avoided. Among the
settings that fit, the one with the fewest lines, then the best breaks, then the most even lines wins.

jieba's dictionary takes a second or two to load, more than drawing a sponsor's images, so words are looked up only
for a phrase that must break, and every text's words are kept in the cache folder for the next build.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Callable, Sequence

from lambdas.files import write_atomic

from . import fonts

if TYPE_CHECKING:
    from jieba import Tokenizer

    from .fonts import Face

# The smallest text drawn on any image, in pixels at 1×: smaller Chinese characters blur into blots on a screen.
MIN_SIZE = 12.0

NO_LINE_START = set("，。、；：！？）》」』”’〉】〕］｝,.;:!?)]}…—～%‰℃·・")
NO_LINE_END = set("（《「『“‘〈【〔［｛([{")
_BREAK_AFTER = set("，。、；：！？,;:!?")  # a break after these is a phrase boundary
_BRACKETS = {"（": "）", "(": ")", "《": "》", "「": "」", "『": "』", "【": "】", "“": "”"}
_DATE_UNITS = set("年月日时分号届期版")

# Penalties of breaking before a piece: lower is better. Inside a word or an aside is a last resort, taken only at
# the smallest size.
PHRASE, WORD, SUBWORD, ASIDE, CHAR = 0.0, 2.0, 4.0, 30.0, 40.0
ORPHAN = 30.0  # a last line of one character
WORD_GAIN = 1.15  # breaking inside a phrase must buy text this much larger (a title in a narrow column)
_NEVER = float("inf")

# Terms of this campaign jieba's dictionary lacks or cuts wrongly ('公众网' + '民版', '邀您参' + '与').
CAMPAIGN_WORDS = (
    "网民版", "从业人员版", "公众", "网民", "邀您参与", "扫码参与", "安全感", "满意度", "满意度调查", "网络安全感",
    "网信安", "信网安", "网安", "网联会", "融媒", "广电", "指导单位", "主办单位", "承办单位", "秘书处", "组委会",
)
_WORDS_VERSION = hashlib.sha256(("1|" + "|".join(CAMPAIGN_WORDS)).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Piece:
    """An unbreakable run of text and the penalty of a line break just before it."""

    text: str
    before: float


# ---- words --------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _tokenizer() -> Tokenizer:
    """jieba with the campaign's terms, loaded on first use."""
    with warnings.catch_warnings():  # jieba imports pkg_resources, which warns about its own deprecation
        warnings.simplefilter("ignore")
        import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word in CAMPAIGN_WORDS:
        tokenizer.add_word(word)
    return tokenizer


def prepare() -> None:
    """Load the segmenter now (before worker processes are forked, so they share it)."""
    _tokenizer()


@lru_cache(maxsize=4096)
def words(run: str) -> tuple[tuple[str, frozenset[int]], ...]:
    """The words of a run of Chinese text, each with the places a long one may still break (between the shorter
    words it is made of: 中国 / 互联网络 / 信息 / 中心); kept in the cache folder by the text's hash."""
    folder = fonts.cache_folder()
    path = folder.parent / "words" / f"{hashlib.sha256((_WORDS_VERSION + run).encode()).hexdigest()}.json" if folder else None
    if path is not None:
        try:
            return tuple((word, frozenset(inner)) for word, inner in json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            pass
    found = tuple((word, _inner_breaks(word)) for word in _segment(run))
    if path is not None:
        write_atomic(path, json.dumps([[w, sorted(inner)] for w, inner in found], ensure_ascii=False))
    return found


def _segment(run: str) -> list[str]:
    """jieba's words, with digits kept with the date unit after them (7月 22日, never 7 / 月)."""
    found: list[str] = []
    for word in _tokenizer().lcut(run, HMM=True):
        if found and (
            (word in _DATE_UNITS and found[-1][-1].isdigit())
            or (word[0].isdigit() and found[-1].endswith("月"))
            or (word[0].isdigit() and found[-1][-1].isdigit())
        ):
            found[-1] += word
        else:
            found.append(word)
    return found


def _inner_breaks(word: str) -> frozenset[int]:
    if len(word) < 5:
        return frozenset()
    starts, ends = set(), set()
    for part in _tokenizer().cut_for_search(word, HMM=False):
        at = word.find(part)
        if at >= 0 and len(part) < len(word):
            starts.add(at)
            ends.add(at + len(part))
    return frozenset(p for p in starts & ends if 1 < p < len(word) - 1)


# ---- break opportunities ------------------------------------------------------------------------------------

_RUN = re.compile(r"\s+|[A-Za-z0-9@._:/+\-#&%]+|[\u3400-\u9fff\uf900-\ufaff]+|.", re.S)


def pieces(phrases: Sequence[str], expand: Callable[[str], bool] = lambda run: False) -> list[Piece]:
    """Every place a line may break in `phrases`, with its penalty. A run of Chinese text is one piece unless
    `expand(run)` asks for its words (and, as a last resort, its characters)."""
    out: list[Piece] = []
    depth = 0  # inside a bracketed aside
    for p_index, phrase in enumerate(phrases):
        for r_index, run in enumerate(_RUN.findall(phrase)):
            if run.isspace():
                if out:
                    out.append(Piece(" ", PHRASE))
                continue
            if out and ((p_index and not r_index) or out[-1].text.isspace() or out[-1].text[-1] in _BREAK_AFTER):
                start = PHRASE
            else:
                start = WORD
            if _is_cjk(run) and expand(run):
                parts = [(ch, (start if w_index == 0 else WORD) if c_index == 0 else SUBWORD if c_index in inner else CHAR)
                         for w_index, (word, inner) in enumerate(words(run)) for c_index, ch in enumerate(word)]
            else:
                parts = [(run, start)]
            for text, penalty in parts:
                _append(out, text, max(penalty, ASIDE) if depth else penalty)
            depth = _bracket_depth(depth, run)
    return out


def _append(out: list[Piece], text: str, penalty: float) -> None:
    """Add a piece, gluing punctuation to its neighbour as the line-breaking rules ask."""
    if out and (text[0] in NO_LINE_START or out[-1].text[-1] in NO_LINE_END):
        out[-1] = Piece(out[-1].text + text, out[-1].before)
    else:
        out.append(Piece(text, penalty if out else PHRASE))


def _bracket_depth(depth: int, run: str) -> int:
    for ch in run:
        if ch in _BRACKETS:
            depth += 1
        elif ch in _BRACKETS.values() and depth:
            depth -= 1
    return depth


def _is_cjk(run: str) -> bool:
    return "\u3400" <= run[0] <= "\u9fff" or "\uf900" <= run[0] <= "\ufaff"


# ---- choosing lines -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Breaking:
    lines: list[str]
    penalty: float  # of its breaks (and a lone last character), evenness aside


def _count_chars(text: str) -> int:
    return sum(1 for ch in text if not ch.isspace() and ch not in NO_LINE_START and ch not in NO_LINE_END)


class Measured:
    """Pieces with their widths in em, measured once for every size a fit tries."""

    def __init__(self, face: Face, items: list[Piece]) -> None:
        self.items = items
        self.em = [face.width(p.text, 1.0) for p in items]
        self.prefix = [0.0]
        for w in self.em:
            self.prefix.append(self.prefix[-1] + w)
        self.blank = [p.text.isspace() for p in items]

    def width(self, i: int, j: int) -> float:
        """Width in em of pieces i..j-1 set on one line (a blank at either end is dropped)."""
        w = self.prefix[j] - self.prefix[i]
        if self.blank[i]:
            w -= self.em[i]
        if j - 1 > i and self.blank[j - 1]:
            w -= self.em[j - 1]
        return w

    def text(self, i: int, j: int) -> str:
        return "".join(p.text for p in self.items[i:j])

    @property
    def widest(self) -> float:
        return max(self.em, default=0.0)

    @property
    def total(self) -> float:
        return self.prefix[-1]


def best_lines(m: Measured, size: float, max_w: float, max_lines: int) -> Breaking | None:
    """The best way to set the pieces in at most `max_lines` lines of `max_w`, or None if none fits."""
    items, n = m.items, len(m.items)
    if not n:
        return Breaking([], 0.0)
    limit = max_w / size + 1e-6
    # best[k][j]: (cost, start of the last line) of setting pieces 0..j-1 in k lines.
    best = [[(_NEVER, -1)] * (n + 1) for _ in range(max_lines + 1)]
    best[0][0] = (0.0, -1)
    for k in range(1, max_lines + 1):
        row, prev_row = best[k], best[k - 1]
        for j in range(1, n + 1):
            for i in range(j - 1, -1, -1):
                w = m.width(i, j)
                if w > limit:
                    break
                prev = prev_row[i][0]
                if prev == _NEVER or (i and m.blank[i]):
                    continue
                cost = prev + (items[i].before if i else 0.0)
                if j == n and k > 1 and _count_chars(m.text(i, j)) == 1:
                    cost += ORPHAN
                if j < n:
                    cost += ((limit - w) / limit) ** 2  # ragged lines cost a little; the last line is free
                if cost < row[j][0]:
                    row[j] = (cost, i)
        if row[n][0] < _NEVER:
            return _trace(items, best, k, n)
    return None


def _trace(items: list[Piece], best: list[list[tuple[float, int]]], k: int, j: int) -> Breaking:
    lines: list[str] = []
    penalty = 0.0
    while k:
        i = best[k][j][1]
        lines.append("".join(p.text for p in items[i:j]).strip())
        penalty += items[i].before if i else 0.0
        j, k = i, k - 1
    lines.reverse()
    if len(lines) > 1 and _count_chars(lines[-1]) == 1:
        penalty += ORPHAN
    return Breaking(lines, penalty)


def ellipsize(face: Face, line: str, size: float, max_w: float) -> str:
    while line and face.width(line + "…", size) > max_w:
        line = line[:-1]
    return line.rstrip() + "…"


def fit(
    face: Face,
    phrases: Sequence[str],
    max_w: float,
    max_h: float,
    *,
    max_lines: int = 1,
    max_size: float = 200,
    min_size: float = MIN_SIZE,
    leading: float = 1.2,
    split: bool = True,
) -> tuple[float, list[str]]:
    """The largest size at which the text fits the box, breaking between phrases, or between words where that
    gives clearly larger text (not with `split=False`: a name stays whole while it fits a line at `min_size`).
    At `min_size` anything may break, and what still does not fit is cut with an ellipsis."""
    # Every sponsor's images set the same title, slogan and dates in the same boxes: each is fitted once a process.
    key = (str(face.path), face.index, tuple(phrases), max_w, max_h, max_lines, max_size, min_size, leading, split)
    found = _fitted.get(key)
    if found is None:
        if len(_fitted) >= FITS_KEPT:
            _fitted.clear()
        size, lines = _fit(face, phrases, max_w, max_h, max_lines, max_size, min_size, leading, split)
        found = _fitted[key] = (size, tuple(lines))
    return found[0], list(found[1])


FITS_KEPT = 4096  # fitted texts remembered by a process
_fitted: dict[tuple, tuple[float, tuple[str, ...]]] = {}


def _fit(face: Face, phrases: Sequence[str], max_w: float, max_h: float, max_lines: int, max_size: float,
         min_size: float, leading: float, split: bool) -> tuple[float, list[str]]:
    phrases = [p for p in phrases if p]
    whole = Measured(face, pieces(phrases))
    # No size above the one that lays the whole text end to end in every allowed line can fit.
    top = min(max_size, max_h / leading, max_w * max_lines / max(whole.total, 1e-6))
    best = _largest(lambda size: whole, top, min_size, max_w, max_h, max_lines, leading, WORD)
    floor = max(min_size, best[0] * WORD_GAIN) if best else min_size
    if split and max_lines > 1 and top >= floor:
        def by_words(size: float) -> Measured:
            return Measured(face, pieces(phrases, lambda run: face.width(run, size) > max_w))

        broken = _largest(by_words, top, floor, max_w, max_h, max_lines, leading, ASIDE)
        if broken and (not best or broken[0] > best[0] * WORD_GAIN):
            best = broken
    if best:
        return best
    size = min_size
    lines_fit = _lines_fit(size, max_h, max_lines, leading)
    last = Measured(face, pieces(phrases, lambda run: lines_fit > 1 and face.width(run, size) > max_w))
    found = best_lines(last, size, max_w, lines_fit)
    if found is not None:
        return size, found.lines
    return size, _cut(face, last.items, size, max_w, lines_fit)


def _lines_fit(size: float, max_h: float, max_lines: int, leading: float) -> int:
    return max(1, min(max_lines, int((max_h + 0.01) / (size * leading))))


def _largest(
    measure: Callable[[float], Measured], top: float, bottom: float, max_w: float, max_h: float, max_lines: int,
    leading: float, below: float,
) -> tuple[float, list[str]] | None:
    """The largest size from `top` down to `bottom` with a setting whose penalty stays under `below`."""
    size = top
    while size >= bottom:
        found = best_lines(measure(size), size, max_w, _lines_fit(size, max_h, max_lines, leading))
        if found is not None and found.penalty < below:
            return size, found.lines
        size *= 0.96
    return None


def _cut(face: Face, items: list[Piece], size: float, max_w: float, max_lines: int) -> list[str]:
    """Fill lines one by one and cut the rest of the text into the last line with an ellipsis."""
    lines: list[str] = []
    current = ""
    rest = list(items)
    while rest and len(lines) < max_lines - 1:
        piece = rest[0]
        if current and face.width((current + piece.text).strip(), size) > max_w:
            lines.append(current.strip())
            current = ""
            continue
        if not current and face.width(piece.text.strip(), size) > max_w:
            # A piece wider than a whole line: take as many characters as fit.
            text = piece.text.strip()
            k = len(text)
            while k > 1 and face.width(text[:k], size) > max_w:
                k -= 1
            lines.append(text[:k])
            rest[0] = Piece(text[k:], CHAR)
            continue
        current += piece.text
        rest.pop(0)
    tail = (current + "".join(p.text for p in rest)).strip()
    if face.width(tail, size) > max_w:
        tail = ellipsize(face, tail, size, max_w)
    lines.append(tail)
    return [line for line in lines if line]
