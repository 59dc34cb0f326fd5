"""Suggestions: what respondents wrote in the free-text questions, summarised as frequent terms and phrases, with
a few short examples for each, nationally, per questionnaire and per province.

Which text is read. The questionnaire's `textarea` questions (意见和建议), from the valid samples by default. The
short `text` questions are left out on purpose: in this survey they only say what "other" means (an occupation, a
job role), and counting them would put job titles among the suggestions.

How text becomes terms. Each suggestion is folded (full-width letters and digits to ASCII, lower case) and cut into
words by jieba, with `DOMAIN_TERMS` added to its dictionary so that 个人信息 or 大数据杀熟 stay whole. Every word is
then one of three kinds:
  - filler (`FILLER`): function words and empty answers (的, 我们, 可以, 没有, 谢谢); never counted, and a phrase
    never spans one;
  - generic (`GENERIC`): words that appear in most suggestions to this survey and say nothing alone (希望, 建议,
    加强, 网络, 安全, 力度); never a term by themselves, but part of a phrase (加强监管, 打击力度);
  - content: any other word of two characters or more; a term.
Single characters are filler too: nearly all are particles or pronouns, and the few meaningful ones (骗, 钱) are
rarely used alone. A phrase is two adjacent words, at least one of them content (打击 诈骗 → 打击诈骗; 网络 安全
is two generic words and no phrase). Phrases are therefore literal substrings of the suggestion.

Counts are of suggestions, not of occurrences: a word repeated five times in one suggestion counts once, so
`share` is the share of suggestions that mention it and one long suggestion cannot lead a list. A term or phrase is
listed only when at least `min_count` suggestions of the group mention it.

Distinctiveness is the z-score of the log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi and Quinn
2008, "Fightin' Words"): the group's counts against the rest of the country's (a province against all other
provinces; a questionnaire against the other questionnaires), both smoothed by a prior spread as the national
frequencies. With y the group's count of a word, n the group's count of all words, y' and n' the rest's,
α = min(`PRIOR`, n) pseudo-counts and a = α × the word's national share:

    δ = log((y + a) / (n + α − y − a)) − log((y' + a) / (n' + α − y' − a)),  z = δ / √(1/(y + a) + 1/(y' + a))

The prior pulls a word's rate towards the national one, most for words the group rarely uses; it never weighs more
than the group's own words, or a small province's clearest signal would vanish into the national rates.

Unlike a plain ratio of shares, z does not reward a word met three times in a small province, and unlike TF-IDF it
measures over-use against the country rather than rarity across suggestions, which is the question a regional
report asks (what does this province say more than the others?). Words with z ≥ `Z_DISTINCT` are the distinctive
list (the floor orders a list, it is not a significance test over thousands of words), without a term said mostly
inside a listed phrase.

Examples. For each listed term, up to `examples` suggestions containing it, chosen in a second pass over the same
text: the suggestion itself when it fits in `max_chars` characters, otherwise its sentence containing the term or a
window around it marked with "…"; never longer than `max_chars`. Each candidate scores the shares of the group's
frequent terms it mentions (it says what the group says) per character, with `CONCISE` characters added so that a
bare "打击诈骗" does not win, and `EXCERPT` more for a cut text, so whole, short, dense suggestions come first; one
that says hardly more than the term (two characters) is no example. Repeats are dropped, and so is any excerpt with
a long number, an address or a link, which could be a phone, ID or account. Examples carry no id, sponsor or date:
they are personal text, quoted only for what they say.

Scale. Each worker process reads its own share of the Parquet export's rows with DuckDB, in batches, and cuts them
(jieba is the slow part, a few hundred thousand characters a second per core, so each distinct clause is cut once
and remembered, up to a bound). Only counters and a few candidate examples come back, so memory grows with the
vocabulary, not with the number of suggestions, and no text is sent between processes. `jieba.enable_parallel` is
not used: it works on jieba's one global dictionary, exists only where processes fork (not on Windows) and sends
every word back to the parent.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import logging
import math
import os
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import cache, lru_cache
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from lambdas.admin.export import safe
from lambdas.survey import questionnaire as questionnaires
from lambdas.survey.questionnaire import Survey
from lambdas.survey.regions import PROVINCES

# Domain terms jieba would otherwise split (电信 诈骗, 大 数据 杀熟), written folded (lower case). None overlaps
# another's start or end: with 信息泄露 here, 个人信息泄露 would be cut 个人 / 信息泄露 and lose 个人信息.
DOMAIN_TERMS: tuple[str, ...] = (
    "个人信息", "个人隐私", "隐私政策", "数据安全", "过度收集",
    "电信诈骗", "网络诈骗", "诈骗电话", "杀猪盘", "刷单", "套路贷", "校园贷", "网贷", "网络赌博", "反诈",
    "骚扰电话", "骚扰短信", "垃圾短信", "垃圾邮件", "弹窗广告", "虚假广告", "虚假宣传", "钓鱼网站",
    "未成年人", "防沉迷", "网络游戏", "短视频", "直播带货", "网络直播", "打赏",
    "网络暴力", "网暴", "网络谣言", "网络水军", "人肉搜索", "饭圈",
    "实名制", "人脸识别", "大数据杀熟", "算法推荐", "平台责任", "霸王条款", "假冒伪劣", "退换货",
    "网络安全法", "个人信息保护法", "数据安全法", "等级保护", "等保", "关键信息基础设施",
    "网信办", "公安机关", "一网通办", "健康码", "网络素养",
    "app", "qq", "wifi", "5g", "ip",
)
# How folded Latin terms are shown.
DISPLAY: dict[str, str] = {"app": "App", "qq": "QQ", "wifi": "WiFi", "5g": "5G", "ip": "IP"}

# Never counted, and a phrase never spans one: function words, and what people write when they have nothing to say.
FILLER: frozenset[str] = frozenset("""
我们 你们 他们 她们 它们 大家 自己 本人 咱们 人们 别人 有些 有的 一些 这个 那个 这些 那些 这样 那样 这种 那种
这里 那里 其他 其它 其中 各种 各类 各个 任何 所有 一切 每个 什么 怎么 怎样 如何 为什么 哪些
对于 关于 针对 通过 根据 按照 为了 由于 因为 所以 因此 如果 假如 虽然 但是 可是 不过 而且 并且 或者 以及 还是
还有 另外 此外 同时 然后 而是 就是 只是 只要 只有 不要 不能 不会 不是 没有 不用 不再 已经 正在 曾经 一直 一定
可以 可能 能够 应该 应当 需要 必须 要求 得到 进行 做到 开展 实行 给予 予以 使得 有效 有所 比较 非常 十分 特别
更加 越来越 很多 许多 太多 较多 一下 一点 一样 一般 目前 现在 当前 如今 以后 今后 以前 之前 之后 方面 情况 现象
时候 地方 东西 事情 一个 两个 几个 等等 之类 的话 来说 而言 起来 出来 下去 感觉 觉得 认为 知道 看到 发现 出现
容易 经常 总是 真的 确实 实在 其实 尤其 主要 基本 基本上 大量 有点 还要 也要 都要 就要
暂无 没什么 没啥 没意见 无意见 无建议 很好 挺好 不错 谢谢 感谢 辛苦 加油 支持 满意 ok 无 没 好
""".split())

# Not a term alone, but part of a phrase: words in most suggestions to a survey about 网络安全, and the verbs of
# asking for more (加强, 加大) that only mean something with what follows them (加强监管, 加大打击).
GENERIC: frozenset[str] = frozenset("""
希望 建议 意见 提议 呼吁 加强 加大 提高 提升 增强 强化 完善 加快 推进 推动 继续 进一步 更好 更多 持续 不断 尽快
及时 切实 严格 严厉 力度 措施 工作 问题 相关 有关 部门 有关部门 相关部门 国家 政府 社会 网络 网上 网民 互联网
上网 线上 安全 网络安全 网络空间 环境 网络环境 保护 保障 重视 注意 注重 管理 治理 整治 规范 建设 机制 制度 体系
""".split())

PRIOR = 1000.0  # most pseudo-counts of the national prior in the log-odds (see the module's docstring)
Z_DISTINCT = 1.96  # least z for the distinctive list
ABSORBED = 0.8  # a distinctive term is left out when a distinctive phrase holds this share of its mentions
EXAMPLES = 3
MAX_CHARS = 60  # longest example, "…" included
CONCISE = 10  # characters added to an example's length when scoring it: short, but not bare
EXCERPT = 20  # and more for a cut one: a whole suggestion reads better
BATCH = 10_000  # rows DuckDB hands over at a time
COLUMNS = ("level", "questionnaire", "province", "list", "rank", "term", "kind", "count", "suggestions", "share",
           "distinctiveness", "examples")

_FOLD = {**{c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F) if chr(c - 0xFEE0).isalnum()}, 0x3000: 0x20}
_SPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"[。！？!?；;…]")
_PERSONAL = re.compile(r"\d{5,}|@|https?:|www\.", re.IGNORECASE)
_NOT_WORD = re.compile(r"[\W_]+")
_LATIN = re.compile(r"[a-z0-9]+")
_HAS_WORD = re.compile(r"[^\W\d_]")  # a letter or a CJK character; a token without one is a number or punctuation

Key = tuple[str, str, str]  # (level, questionnaire, province): "" where the level does not split by it


class SuggestionsError(ValueError):
    """The export cannot be read as the suggestions need; the message says what to do."""


@dataclass(frozen=True)
class Row:
    """One listed term or phrase of a group."""
    term: str
    kind: str  # "term" | "phrase"
    count: int  # suggestions of the group mentioning it
    share: float  # count / the group's suggestions
    distinctiveness: float | None  # z of the log-odds against the rest of the country; None for the whole country
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Group:
    """The suggestions of the whole country, of one questionnaire or of one province, and what they say most."""
    level: str  # "national" (every questionnaire), "questionnaire" or "province" (every questionnaire)
    questionnaire: str  # the questionnaire's id at level "questionnaire", else ""
    province: str  # the province's full name at level "province", else ""
    suggestions: int  # non-empty free-text answers
    substantive: int  # those with at least one term (the rest say 无, 没有, 谢谢 …)
    terms: tuple[Row, ...] = ()  # most frequent terms
    phrases: tuple[Row, ...] = ()  # most frequent phrases
    distinctive: tuple[Row, ...] = ()  # terms and phrases most over-used against the rest of the country

    def lists(self) -> Iterator[tuple[str, tuple[Row, ...]]]:
        yield from (("terms", self.terms), ("phrases", self.phrases), ("distinctive", self.distinctive))


@dataclass(frozen=True)
class SuggestionSummary:
    """Every group: `groups` lists them in the table's order (national, questionnaires, provinces)."""
    national: Group
    questionnaires: dict[str, Group]  # by questionnaire id, in the survey's order
    provinces: dict[str, Group]  # by province, in the official order; only provinces with suggestions
    columns: dict[str, tuple[str, ...]]  # the free-text columns read, per questionnaire
    valid_only: bool = True
    min_count: int = 5
    groups: tuple[Group, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "groups",
                           (self.national, *self.questionnaires.values(), *self.provinces.values()))


# ---- reading


def free_text_columns(survey: Survey) -> dict[str, tuple[str, ...]]:
    """Per questionnaire, the export columns holding suggestions (its textarea questions)."""
    return {qid: tuple(q.id for q in qn.questions if q.type == "textarea")
            for qid, qn in survey.questionnaires.items()}


@dataclass(frozen=True)
class Part:
    """One share of one free-text column of one export file: the rows whose number in the file is `part` modulo
    `parts`, so that each worker reads its own share."""
    path: str
    questionnaire: str
    column: str
    part: int = 0
    parts: int = 1
    valid_only: bool = True
    batch: int = BATCH


def parts(parquet_dir: Path, columns: dict[str, tuple[str, ...]], valid_only: bool = True, shares: int = 1,
          batch: int = BATCH) -> list[Part]:
    """The parts to read: each free-text column the export has, in `shares` shares."""
    import pyarrow.parquet as pq

    out = []
    for qid, cols in columns.items():
        path = parquet_dir / f"submissions-{qid}.parquet"
        if cols and path.exists():
            present = set(pq.read_schema(path).names)
            out += [Part(str(path), qid, col, i, shares, valid_only, batch)
                    for col in cols if col in present for i in range(shares)]
    return out


def read(part: Part) -> Iterator[list[tuple[str, str]]]:
    """Batches of (province, text) of one part, the non-blank texts only, streamed by DuckDB."""
    import duckdb

    con = duckdb.connect(config={"threads": 1})  # the worker processes are the parallelism
    try:
        con.execute("SET enable_progress_bar = false")
        valid = "valid AND " if part.valid_only else ""
        share = f" AND file_row_number % {part.parts} = {part.part}" if part.parts > 1 else ""
        sql = (f'SELECT province, "{part.column}" FROM read_parquet(?, file_row_number = true) '
               f'WHERE {valid}"{part.column}" IS NOT NULL{share}')
        reader = con.execute(sql, [part.path]).to_arrow_reader(part.batch)
        for rb in reader:
            rows = [(p or "", t) for p, t in zip(rb.column(0).to_pylist(), rb.column(1).to_pylist())
                    if t and not t.isspace()]
            if rows:
                yield rows
    finally:
        con.close()


# ---- words


@cache
def _tokenizer() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    tk.initialize()
    for word in DOMAIN_TERMS:
        # ten times the least frequency that keeps the word whole: enough to win in context, while 实名制度 still
        # cuts 实名 / 制度 and not 实名制 / 度
        tk.add_word(word, freq=10 * tk.suggest_freq(word, False))
    return tk


def fold(text: str) -> str:
    """Full-width letters and digits as ASCII, one space for any run of blanks; same meaning, one spelling."""
    return _SPACE.sub(" ", text.translate(_FOLD)).strip()


def words(text: str) -> tuple[set[str], set[str]]:
    """The terms and phrases of one suggestion (folded, lower case), each once."""
    terms: set[str] = set()
    phrases: set[str] = set()
    for block in _blocks(fold(text).lower()):
        previous = None  # the last word, if it was content or generic
        for token in _cut(block):
            if len(token) < 2 or token in FILLER or not _HAS_WORD.search(token):
                previous = None
                continue
            generic = token in GENERIC
            if not generic:
                terms.add(token)
            if previous is not None and not (generic and previous[1]) and previous[0] != token:
                phrases.add(previous[0] + token)
            previous = (token, generic)
    return terms, phrases


def _blocks(text: str) -> list[str]:
    """The runs of text jieba cuts one by one (CJK, letters, digits): what lies between them is punctuation or
    blank, which ends a phrase anyway."""
    import jieba

    return jieba.re_han_default.findall(text)


@lru_cache(maxsize=1 << 17)
def _cut(block: str) -> tuple[str, ...]:
    """jieba's words of one block, remembered: the same clauses (打击电信诈骗, 加强监管, 无) come back again and
    again, and cutting is the slow part."""
    return tuple(_tokenizer().lcut(block))


def display(term: str) -> str:
    """A folded term as shown: the domain's Latin words in their usual spelling (App, QQ, WiFi)."""
    return _LATIN.sub(lambda m: DISPLAY.get(m.group(), m.group()), term)


# ---- counting (pass 1)


@dataclass
class _Tally:
    suggestions: int = 0
    substantive: int = 0
    terms: Counter[str] = field(default_factory=Counter)
    phrases: Counter[str] = field(default_factory=Counter)

    def add(self, other: _Tally) -> None:
        self.suggestions += other.suggestions
        self.substantive += other.substantive
        self.terms.update(other.terms)
        self.phrases.update(other.phrases)


def _count(part: Part) -> dict[str, _Tally]:
    """One part's tallies per province (the respondent's stated one; "" when there is none)."""
    out: dict[str, _Tally] = {}
    for rows in read(part):
        for province, text in rows:
            t = out.get(province) or out.setdefault(province, _Tally())
            terms, phrases = words(text)
            t.suggestions += 1
            t.substantive += bool(terms)
            t.terms.update(terms)
            t.phrases.update(phrases)
    return out


def _keys(qid: str, province: str) -> list[Key]:
    """The groups a suggestion counts in."""
    keys = [("national", "", ""), ("questionnaire", qid, "")]
    if province in _PROVINCE_SET:
        keys.append(("province", "", province))
    return keys


_PROVINCE_SET = frozenset(PROVINCES)


# ---- ranking


def log_odds_z(y: int, n: int, y_rest: int, n_rest: int, national_share: float, prior: float = PRIOR) -> float:
    """z of the log-odds ratio of a word in a group (y of n) against the rest (y' of n'), with an informative
    Dirichlet prior of at most `prior` pseudo-counts spread as the national shares."""
    if national_share >= 1:  # the only word there is distinguishes nothing
        return 0.0
    prior = min(prior, n)
    a = prior * national_share
    delta = (math.log((y + a) / (n + prior - y - a)) - math.log((y_rest + a) / (n_rest + prior - y_rest - a)))
    return delta / math.sqrt(1 / (y + a) + 1 / (y_rest + a))


def _rank(tally: _Tally, national: _Tally, compare: bool, min_count: int,
          top: int) -> tuple[list[Row], list[Row], list[Row]]:
    """The group's most frequent terms, most frequent phrases, and (when `compare`) terms and phrases most over-used
    against the rest of the country, each at least `min_count` times and `top` long."""
    lists: dict[str, list[Row]] = {}
    distinct: list[Row] = []
    for kind, attr in (("term", "terms"), ("phrase", "phrases")):
        counts: Counter[str] = getattr(tally, attr)
        whole: Counter[str] = getattr(national, attr)
        listed = {w: c for w, c in counts.items() if c >= min_count}
        z: dict[str, float] = {}
        if compare:
            n, n_all = sum(counts.values()), sum(whole.values())
            z = {w: log_odds_z(c, n, whole[w] - c, n_all - n, whole[w] / n_all) for w, c in listed.items()}

        def row(w: str) -> Row:
            c = listed[w]
            return Row(display(w), kind, c, c / tally.suggestions, round(z[w], 3) if w in z else None)

        lists[kind] = [row(w) for w in sorted(listed, key=lambda w: (-listed[w], w))[:top]]
        distinct += [row(w) for w, v in z.items() if v >= Z_DISTINCT]
    # a term said mostly inside a distinctive phrase (网贷 in 网贷催收) would only repeat it
    phrases = [r for r in distinct if r.kind == "phrase"]
    distinct = [r for r in distinct
                if r.kind == "phrase" or not any(r.term in p.term and p.count >= ABSORBED * r.count for p in phrases)]
    distinct.sort(key=lambda r: (-(r.distinctiveness or 0), r.term))
    return lists["term"], lists["phrase"], distinct[:top]


# ---- examples (pass 2)


def excerpt(text: str, term: str, max_chars: int = MAX_CHARS) -> str | None:
    """The suggestion if it fits, else its sentence holding `term`, else a window around it; None if `term` is not
    in it or the excerpt could identify someone (a long number, an address, a link)."""
    shown = fold(text)
    return _excerpt(shown, shown.lower(), term, max_chars)


def _excerpt(shown: str, low: str, term: str, max_chars: int) -> str | None:
    at = low.find(term)
    if at < 0 or len(term) > max_chars - 2 or len(low) != len(shown):  # lower case moved the positions: rare
        return None
    if len(shown) <= max_chars:
        unit = shown
    else:
        start = max((m.end() for m in _SENTENCE_END.finditer(shown, 0, at)), default=0)
        end_match = _SENTENCE_END.search(shown, at + len(term))
        end = end_match.end() if end_match else len(shown)
        sentence = shown[start:end].strip()
        if len(sentence) + (start > 0) + (end < len(shown)) <= max_chars:
            unit = ("…" if start > 0 else "") + sentence + ("…" if end < len(shown) else "")
        else:
            width = max_chars - 2  # room for "…" at both ends, or one more character where the text begins or ends
            left = max(0, min(at - (width - len(term)) // 2, len(shown) - width))
            if left == 0:
                unit = shown[:width + 1].strip() + "…"
            elif left + width >= len(shown):
                unit = "…" + shown[-width - 1:].strip()
            else:
                unit = "…" + shown[left:left + width].strip() + "…"
    return None if _PERSONAL.search(unit) else unit


class _Shortlist:
    """The best few candidate examples of one term in one group, best first, one per wording (punctuation, blanks
    and case ignored). A candidate is (−score, length, text): the higher score first, then the shorter, then by text,
    so the list is the same whatever order candidates arrive in, and merging workers' lists gives the one a single
    pass would."""

    __slots__ = ("keep", "items")

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.items: list[tuple[float, int, str, str]] = []  # candidate and its wording

    def offer(self, candidate: tuple[float, int, str]) -> None:
        items = self.items
        if len(items) >= self.keep and candidate >= items[-1][:3]:
            return
        wording = _NOT_WORD.sub("", candidate[2].lower())
        for i, item in enumerate(items):
            if item[3] == wording:
                if candidate >= item[:3]:
                    return
                del items[i]
                break
        bisect.insort(items, (*candidate, wording))
        del items[self.keep:]

    def merge(self, other: _Shortlist) -> None:
        for item in other.items:
            self.offer(item[:3])

    def texts(self, n: int) -> tuple[str, ...]:
        return tuple(item[2] for item in self.items[:n])


@dataclass(frozen=True)
class _ExampleJob:
    """Pass 2 over one part: for each (group, listed term), the best candidate examples. `wanted` has each group's
    listed terms (lower case, as matched) with their weight: a candidate scores the weights of the terms it holds."""
    wanted: dict[Key, dict[str, float]]
    keep: int
    max_chars: int

    def __call__(self, part: Part) -> dict[tuple[Key, str], _Shortlist]:
        found: dict[tuple[Key, str], _Shortlist] = {}
        for rows in read(part):
            for province, text in rows:
                shown = fold(text)
                low = shown.lower()
                whole_fits = len(shown) <= self.max_chars  # then it is the example for each of its terms
                if len(low) != len(shown) or (whole_fits and _PERSONAL.search(shown)):
                    continue
                letters = len(_NOT_WORD.sub("", low))
                for key in _keys(part.questionnaire, province):
                    weights = self.wanted.get(key, {})
                    present = [t for t in weights if t in low]
                    whole = -sum(weights[t] for t in present) / (len(shown) + CONCISE)
                    for term in present:
                        if letters < len(term) + 2:
                            continue  # the term and hardly more: it illustrates nothing
                        shortlist = found.get((key, term)) or found.setdefault((key, term), _Shortlist(self.keep))
                        if whole_fits:
                            shortlist.offer((whole, len(shown), shown))
                        elif unit := _excerpt(shown, low, term, self.max_chars):
                            mentioned = sum(weights[t] for t in present if t in unit.lower())
                            shortlist.offer((-mentioned / (len(unit) + CONCISE + EXCERPT), len(unit), unit))
        return found


# ---- the whole analysis


def analyse(parquet_dir: Path, survey: Survey, min_count: int = 5, top: int = 30, *, examples: int = EXAMPLES,
            max_chars: int = MAX_CHARS, valid_only: bool = True, workers: int | None = None,
            batch: int = BATCH) -> SuggestionSummary:
    """Frequent and distinctive terms and phrases of the suggestions in the export at `parquet_dir`, nationally,
    per questionnaire and per province, each with up to `examples` excerpts of at most `max_chars` characters.

    `workers` processes read and cut the text (default: one per core; 1 works in this process). They are started
    fresh (spawned), as multiprocessing does on Windows, so a script calling this needs the usual
    `if __name__ == "__main__":` guard."""
    if not any(parquet_dir.glob("submissions-*.parquet")):
        raise SuggestionsError(f"{parquet_dir}: no submissions-<questionnaire>.parquet here; "
                               "write them with `admin export --format parquet --out DIR`")
    columns = free_text_columns(survey)
    workers = workers or os.cpu_count() or 1
    tasks = parts(parquet_dir, columns, valid_only, workers, batch)
    with _Pool(workers) as pool:
        tallies: dict[Key, _Tally] = {}
        for part, found in pool.map(_count, tasks):
            for province, t in found.items():
                for key in _keys(part.questionnaire, province)[1:]:
                    tallies.setdefault(key, _Tally()).add(t)
        national = tallies[("national", "", "")] = _Tally()
        for key, t in list(tallies.items()):
            if key[0] == "questionnaire":
                national.add(t)
        ranked = _ranked(tallies, national, min_count, top)
        job = _ExampleJob({key: _weights(lists) for key, lists in ranked.items()}, examples, max_chars)
        chosen: dict[tuple[Key, str], _Shortlist] = {}
        for _, found in pool.map(job, tasks):
            for k, shortlist in found.items():
                if k in chosen:
                    chosen[k].merge(shortlist)
                else:
                    chosen[k] = shortlist

    def group(key: Key) -> Group:
        t = tallies[key]
        terms, phrases, distinct = (tuple(_with_examples(r, chosen.get((key, r.term.lower()))) for r in rows)
                                    for rows in ranked[key])
        return Group(*key, t.suggestions, t.substantive, terms, phrases, distinct)

    return SuggestionSummary(
        national=group(("national", "", "")),
        questionnaires={q: group(("questionnaire", q, "")) for q in survey.questionnaires
                        if ("questionnaire", q, "") in tallies},
        provinces={p: group(("province", "", p)) for p in PROVINCES if ("province", "", p) in tallies},
        columns=columns, valid_only=valid_only, min_count=min_count)


def _ranked(tallies: dict[Key, _Tally], national: _Tally, min_count: int,
            top: int) -> dict[Key, tuple[list[Row], list[Row], list[Row]]]:
    """Each group's lists; a province is compared with the rest of the country, a questionnaire with the others
    (when there are others), the whole country with nothing."""
    several = sum(1 for k in tallies if k[0] == "questionnaire") > 1
    return {key: _rank(t, national, key[0] == "province" or (key[0] == "questionnaire" and several), min_count, top)
            for key, t in tallies.items()}


def _weights(lists: tuple[list[Row], list[Row], list[Row]]) -> dict[str, float]:
    """Each listed term (as matched: lower case) with its weight in choosing examples: its share in the frequent
    lists; distinctive-only terms are looked for but weigh nothing."""
    weights = {r.term.lower(): 0.0 for r in lists[2]}
    weights.update({r.term.lower(): r.share for r in (*lists[0], *lists[1])})
    return weights


def _with_examples(row: Row, shortlist: _Shortlist | None) -> Row:
    return Row(row.term, row.kind, row.count, row.share, row.distinctiveness,
               shortlist.texts(len(shortlist.items)) if shortlist else ())


class _Pool:
    """Parts mapped over worker processes, each with its own tokenizer; results come back as they finish, since
    they are only summed. One worker maps in this process."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> _Pool:
        if self.workers > 1:
            # spawned, not forked: a fork would copy a process whose DuckDB or Arrow threads may hold locks
            self.executor = ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"), initializer=_tokenizer)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.executor:
            self.executor.shutdown(cancel_futures=True)

    def map(self, fn: Callable[[Part], Any], tasks: list[Part]) -> Iterator[tuple[Part, Any]]:
        if self.executor is None:
            yield from ((t, fn(t)) for t in tasks)
            return
        futures = {self.executor.submit(fn, t): t for t in tasks}
        for f in as_completed(futures):
            yield futures[f], f.result()


# ---- writing


def rows(result: SuggestionSummary, joiner: str = "\n") -> Iterator[list[object]]:
    """The table's rows, as in COLUMNS; examples joined one per line."""
    for g in result.groups:
        for name, listed in g.lists():
            for rank, r in enumerate(listed, 1):
                yield [g.level, g.questionnaire, g.province, name, rank, r.term, r.kind, r.count, g.suggestions,
                       round(r.share, 4), r.distinctiveness, joiner.join(r.examples)]


def write(result: SuggestionSummary, out_dir: Path) -> list[Path]:
    """suggestions-terms.csv (UTF-8 with a byte-order mark, for Excel) and suggestions-terms.xlsx, the same table;
    every text cell a spreadsheet could read as a formula is neutralised."""
    out_dir.mkdir(parents=True, exist_ok=True)
    table = [[safe(v) for v in row] for row in rows(result)]
    csv_path, xlsx_path = out_dir / "suggestions-terms.csv", out_dir / "suggestions-terms.xlsx"
    with open(csv_path, "w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(COLUMNS)
        out.writerows(["" if v is None else v for v in row] for row in table)
    _xlsx(xlsx_path, table)
    return [csv_path, xlsx_path]


def _xlsx(path: Path, table: list[list[object]]) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    try:
        sheet = book.add_worksheet("suggestions")
        head, wrap = book.add_format({"bold": True}), book.add_format({"text_wrap": True, "valign": "top"})
        share = book.add_format({"num_format": "0.0%", "valign": "top"})
        top = book.add_format({"valign": "top"})
        sheet.write_row(0, 0, COLUMNS, head)
        for i, row in enumerate(table, 1):
            for j, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, str):
                    sheet.write_string(i, j, value, wrap if COLUMNS[j] == "examples" else top)
                else:
                    sheet.write_number(i, j, value, share if COLUMNS[j] == "share" else top)
        for j, width in enumerate((12, 12, 16, 11, 6, 18, 8, 8, 11, 8, 14, 70)):
            sheet.set_column(j, j, width)
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(len(table), 1), len(COLUMNS) - 1)
    finally:
        book.close()


# ---- command line


def add_parser(sub: Any) -> None:
    """`suggestions --data DIR --out DIR`: the summary of the export's suggestions as CSV and XLSX."""
    p = sub.add_parser("suggestions", help="frequent and distinctive terms of the suggestions, with examples")
    p.add_argument("--data", type=Path, required=True, help="the export's folder (submissions-<q>.parquet)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--min-count", type=int, default=5, help="least suggestions mentioning a listed term")
    p.add_argument("--top", type=int, default=30, help="terms per list")
    p.add_argument("--all", action="store_true", help="read invalid samples too (default: valid only)")
    p.add_argument("--workers", type=int, default=None, help="processes cutting the text (default: one per core)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    site = getattr(args, "site", None)
    built = site / "questionnaires.json" if site else None
    survey = questionnaires.load(built) if built and built.exists() else questionnaires.load()
    try:
        result = analyse(args.data, survey, args.min_count, args.top, valid_only=not args.all, workers=args.workers)
    except SuggestionsError as exc:
        print(f"suggestions: {exc}", file=sys.stderr)
        return 1
    print(f"{result.national.suggestions} suggestion(s), {result.national.substantive} with terms; "
          f"{len(result.provinces)} province(s)")
    print("\n".join(str(p) for p in write(result, args.out)))
    return 0
