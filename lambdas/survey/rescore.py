"""Rescore: judge every stored submission again under a rule set, record the new verdicts, and make the valid
counters and the hourly details (valid and reason counts) exact for them.

The secretariat tightens a rule after the window (a longer minimum time, a lower cap per address) and needs exact
new counts and what changed for each sponsor. The judgement is the submit function's own (`rules.judge`), fed with
the signals each submission recorded and, for the stateful rules, a ledger replayed in the order the submissions
were received. Verdicts are written one by one on condition that the submission is counted and still has the
verdict read, so a concurrent rescore or a sweep never has its work overwritten; then the counters and details are
recounted and fixed with `recount`'s guarantee (an item live traffic moved is left for the next run).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from . import layout, recount
from .questionnaire import base_of
from .rules import MemoryLedger, Rules, Signals, Subject, is_valid, judge
from .store import Store


@dataclass(frozen=True)
class Record:
    """What the re-judgement needs of a submission (its answers only as their digest)."""

    id: str
    received: str
    sponsor: str
    valid: bool
    reasons: tuple[str, ...]
    rules: str
    pending: bool
    subject: Subject | None  # None: stored without signals, so it keeps its verdict
    signals: Signals | None


@dataclass
class Outcome:
    rejudged: int = 0
    changed: int = 0
    written: int = 0
    kept: int = 0  # stored before signals were recorded: the verdict stands
    pending: int = 0  # not yet counted: the sweeper counts it with whatever verdict it has then
    raced: int = 0  # changed meanwhile by another writer: run again
    before: Counter[str] = field(default_factory=Counter)  # valid per sponsor, before
    after: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)  # new invalidating reasons, over all submissions
    drifts: int = 0
    fixed: int = 0
    skipped: int = 0  # counters or details live traffic moved during the fix: run again

    def diff(self) -> list[tuple[str, int, int]]:
        """(sponsor, valid before, valid after) for every sponsor whose valid count changed, largest loss first."""
        rows = [(s, self.before[s], self.after[s]) for s in set(self.before) | set(self.after)
                if self.before[s] != self.after[s]]
        return sorted(rows, key=lambda r: (r[2] - r[1], r[0]))


def record(item: dict[str, Any]) -> Record:
    signals = subject = None
    if item.get("signals"):
        signals = Signals.from_item(json.loads(item["signals"]), item.get("device_hash", ""))
        canonical = item["answers"]
        form = item["questionnaire"]  # the form submitted; its base questionnaire keeps the device and address caps
        subject = Subject(item["id"], base_of(form), item["day"], item.get("ip_hash", ""),
                          hashlib.sha256(f"{form}|{canonical}".encode()).hexdigest()[:32], form)
    return Record(item["id"], item["received"], item["sponsor"], bool(item["valid"]), tuple(item.get("reasons", [])),
                  item.get("rules", ""), "pending" in item, subject, signals)


def verdicts(records: Iterable[Record], rules: Rules) -> list[tuple[Record, bool, tuple[str, ...]]]:
    """Every record with its verdict under `rules`, in received order (the order the caps were taken in)."""
    ledger = MemoryLedger()
    out = []
    for r in sorted(records, key=lambda r: (r.received, r.id)):
        if r.signals is None or r.subject is None:
            out.append((r, r.valid, r.reasons))
            continue
        reasons = tuple(judge(rules, r.signals, r.subject, ledger))
        out.append((r, is_valid(rules, reasons), reasons))
    return out


def run(store: Store, rules: Rules, dry_run: bool = False,
        progress: Callable[[Iterable[Any]], Iterable[Any]] = lambda it: it) -> Outcome:
    """Re-judge every stored submission under `rules`; unless `dry_run`, write the verdicts and fix the counters."""
    out = Outcome()
    for r, valid, reasons in verdicts(map(record, progress(store.scan(layout.SUBMISSION))), rules):
        out.before[r.sponsor] += r.valid
        if r.subject is None:
            out.kept += 1
            out.after[r.sponsor] += r.valid
            continue
        out.rejudged += 1
        out.reasons.update(x for x in reasons if rules.invalidates(x))
        same = (valid, reasons, rules.version) == (r.valid, r.reasons, r.rules)
        out.changed += valid != r.valid
        if r.pending:
            out.pending += 1
            out.after[r.sponsor] += r.valid
            continue
        if same or dry_run:
            out.after[r.sponsor] += valid if dry_run else r.valid
            continue
        if store.set_verdict(r.id, valid, list(reasons), rules.version, (r.valid, list(r.reasons), r.rules)):
            out.written += 1
            out.after[r.sponsor] += valid
        else:
            out.raced += 1
            out.after[r.sponsor] += r.valid
    if not dry_run:
        found, _ = recount.check(store)
        out.drifts = len(found)
        out.fixed, out.skipped = recount.fix(store, found)
    return out
