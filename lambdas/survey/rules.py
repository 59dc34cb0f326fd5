"""The validity rules: one versioned data file (`rules.yaml`) and the one judgement every path makes with it.

A submission's verdict depends on two kinds of evidence:
- signals of the request itself, recorded with the submission (`Signals`): the honeypot, the proof of work, the
  time taken, the device token, whether the browser said the post came from another site;
- the submissions before it: the same answers from the same address, a device's or an address's valid samples
  beyond the caps. These are asked of a `Ledger`: conditional writes in DynamoDB at submission time, counters in
  memory (in received order) when `admin rescore` re-judges the stored submissions under another rule set.

Caps count valid samples only: a submission already invalid for another reason takes no place under a cap, so
invalid traffic from an address never pushes its honest respondents over it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from . import layout
from .questionnaire import base_of

SOURCE = Path(__file__).with_name("rules.yaml")
# The order a verdict lists its reasons in, and every code the judgement can produce: the file must describe each.
CODES = ("honeypot", "no_proof", "bad_proof", "expired_proof", "foreign_proof", "too_fast", "no_device",
         "cross_site", "repeat_answers", "repeat_device", "address_volume")
PROOF_VERDICTS = ("ok", "no_proof", "bad_proof", "expired_proof", "foreign_proof")
LIMITS = {  # name: (lowest, highest) accepted
    "proof_bits": (0, 28), "proof_hours": (1, 72), "address_valid_per_day": (1, 10_000_000),
    "address_challenges_per_day": (1, 100_000_000), "device_valid_per_questionnaire": (1, 10),
}


class RulesError(ValueError):
    """The rules file is wrong; the message names the file, the place in it and the fix."""


@dataclass(frozen=True)
class Reason:
    code: str
    invalid: bool
    title: str  # in Chinese, for the published page and the secretariat's reports
    meaning: str


@dataclass(frozen=True)
class Rules:
    version: str
    published: str
    reasons: dict[str, Reason]
    proof_bits: int
    proof_hours: int
    min_seconds: dict[str, int]  # questionnaire id (or a topic's form id, overriding its questionnaire's) -> seconds
    address_valid_per_day: int
    address_challenges_per_day: int
    device_valid_per_questionnaire: int

    @property
    def proof_ms(self) -> int:
        return self.proof_hours * 3600 * 1000

    def invalidates(self, code: str) -> bool:
        return self.reasons[code].invalid

    def fastest(self, form: str, questionnaire: str) -> int:
        """The fastest believable completion of a form: its own when the file names it, else its questionnaire's."""
        return self.min_seconds.get(form, self.min_seconds.get(questionnaire, 0))


@dataclass(frozen=True)
class Signals:
    """What the request itself said, kept with the submission so another rule set can judge it again."""

    honeypot: bool
    proof: str  # one of PROOF_VERDICTS
    seconds: int  # from the first challenge of this submission to its receipt; -1 when the proof was not good
    device: str  # keyed hash of the form's device token; "" when none was sent
    cross_site: bool
    json: bool  # posted by the form's script (JSON); a plain form post carries no device token by design

    def as_item(self) -> dict[str, Any]:
        """As stored (the device hash is kept beside it, as the submission's `device_hash`)."""
        return {"honeypot": self.honeypot, "proof": self.proof, "seconds": self.seconds,
                "cross_site": self.cross_site, "json": self.json}

    @classmethod
    def from_item(cls, data: dict[str, Any], device: str) -> Signals:
        return cls(bool(data["honeypot"]), str(data["proof"]), int(data["seconds"]), device,
                   bool(data["cross_site"]), bool(data["json"]))


class Ledger(Protocol):
    """Where the judgement keeps what earlier submissions took. Keys name what is limited; `owner` makes a retry
    of the same submission find its own place again rather than a second one."""

    def first(self, key: str, owner: str) -> bool:
        """True if no other submission holds `key`; takes it for `owner`."""

    def take(self, key: str, cap: int) -> bool:
        """True if fewer than `cap` places under `key` are taken; takes one. Not owned: a retry that is judged
        again takes another, which errs on the strict side and only near the cap."""


@dataclass(frozen=True)
class Subject:
    """The submission being judged, as far as the stateful rules need it."""

    id: str
    # The base questionnaire: a device's and an address's places are kept per questionnaire, not per topic, so
    # moving from one topic's form to another's does not multiply anyone's allowance.
    questionnaire: str
    day: str  # Beijing date
    ip_hash: str
    answers_key: str  # digest of the form and canonical answers
    form: str = ""  # the form submitted (a topic's "public.ai"); "" or the questionnaire's id when it has no topics


def judge(rules: Rules, signals: Signals, subject: Subject, ledger: Ledger) -> list[str]:
    """The reasons a submission is not a valid sample under `rules` (invalidating or not), in CODES order."""
    reasons = []
    if signals.honeypot:
        reasons.append("honeypot")
    if signals.proof != "ok":
        reasons.append(signals.proof)
    elif signals.seconds < rules.fastest(subject.form or subject.questionnaire, subject.questionnaire):
        reasons.append("too_fast")
    # Whatever carries a proof was sent by a script, and the form's script always sends its device token; a plain
    # form post without script has neither (and is already no_proof).
    if not signals.device and signals.proof != "no_proof":
        reasons.append("no_device")
    if signals.cross_site:
        reasons.append("cross_site")
    if any(rules.invalidates(r) for r in reasons):
        return reasons
    # Stateful checks, cheapest refusal first; each takes its place only when the sample is valid so far.
    if not ledger.first(layout.answers_marker(subject.ip_hash, subject.answers_key), subject.id):
        reasons.append("repeat_answers")
        if rules.invalidates("repeat_answers"):
            return reasons
    # A device's places are markers owned by the submission that took them, so a retry of that submission (after
    # a throttle between judging and storing) finds its own place instead of being told the device is used up.
    places = (layout.device_marker(signals.device, subject.questionnaire, slot)
              for slot in range(rules.device_valid_per_questionnaire))
    if signals.device and not any(ledger.first(place, subject.id) for place in places):
        reasons.append("repeat_device")
        if rules.invalidates("repeat_device"):
            return reasons
    if not ledger.take(layout.address_limit(subject.day, subject.ip_hash, subject.questionnaire),
                       rules.address_valid_per_day):
        reasons.append("address_volume")
    return reasons


def is_valid(rules: Rules, reasons: list[str] | tuple[str, ...]) -> bool:
    return not any(rules.invalidates(r) for r in reasons)


class MemoryLedger:
    """The ledger of a re-judgement: what the table's markers and counters would hold, in memory."""

    def __init__(self) -> None:
        self.owners: dict[str, str] = {}
        self.taken: dict[str, int] = {}

    def first(self, key: str, owner: str) -> bool:
        return self.owners.setdefault(key, owner) == owner

    def take(self, key: str, cap: int) -> bool:
        if self.taken.get(key, 0) >= cap:
            return False
        self.taken[key] = self.taken.get(key, 0) + 1
        return True


# ---- reading the file -------------------------------------------------------------------------------------------

def load(path: Path = SOURCE) -> Rules:
    """Read and check a rules file: YAML, or the JSON copy the site build publishes (which the function reads
    without a YAML parser). Every problem is reported at once."""
    return parse(read(path), path)


def read(path: Path = SOURCE) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesError(f"{path}: cannot read: {exc}. Fix: check the path (the build publishes rules.json)") from exc
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise RulesError(f"{path}: not valid JSON: {exc}. Fix: rebuild the site, which writes it") from exc
    import yaml

    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise RulesError(f"{path}: {exc}. Fix: make it valid YAML in UTF-8") from exc


def dumps(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


def parse(data: object, path: Path, questionnaires: tuple[str, ...] | None = None) -> Rules:
    """Check the rules' data; `questionnaires` (base ids), when given, must each have a min_seconds, and a topic's
    form id given one must belong to one of them."""
    problems: list[str] = []
    rules = _rules(data, problems, questionnaires)
    if problems or rules is None:
        listing = "\n".join(f"  {path}: {p}" for p in problems)
        raise RulesError(f"{path}: {len(problems)} problem(s):\n{listing}")
    return rules


def _rules(data: object, problems: list[str], questionnaires: tuple[str, ...] | None) -> Rules | None:
    if not isinstance(data, dict):
        problems.append("the top level needs version, published, limits and reasons")
        return None
    for key in sorted(set(data) - {"version", "published", "limits", "reasons"}):
        problems.append(f"{key}: unknown key (expected version, published, limits, reasons)")
    version, published = data.get("version"), data.get("published")
    if not isinstance(version, str) or not version.strip() or len(version) > 20:
        problems.append("version: required text of at most 20 characters, e.g. \"2020.1\"; change it with every rule change")
    if not isinstance(published, str) or not published.strip():
        problems.append("published: required date the rules take effect, e.g. \"2020-07-15\"")
    limits = data.get("limits") if isinstance(data.get("limits"), dict) else {}
    if not isinstance(data.get("limits"), dict):
        problems.append(f"limits: a mapping of {', '.join([*LIMITS, 'min_seconds'])}")
    values: dict[str, int] = {}
    for name, (low, high) in LIMITS.items():
        value = limits.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            problems.append(f"limits.{name}: a whole number from {low} to {high}")
            value = low
        values[name] = value
    for key in sorted(set(limits) - set(LIMITS) - {"min_seconds"}):
        problems.append(f"limits.{key}: unknown limit (expected {', '.join([*LIMITS, 'min_seconds'])})")
    min_seconds = _min_seconds(limits.get("min_seconds"), problems, questionnaires)
    reasons = _reasons(data.get("reasons"), problems)
    return Rules(str(version), str(published), reasons, values["proof_bits"], values["proof_hours"], min_seconds,
                 values["address_valid_per_day"], values["address_challenges_per_day"],
                 values["device_valid_per_questionnaire"])


def _min_seconds(raw: object, problems: list[str], questionnaires: tuple[str, ...] | None) -> dict[str, int]:
    if not isinstance(raw, dict):
        problems.append("limits.min_seconds: a mapping of questionnaire id (or a topic's form id, e.g. public.ai) "
                        "-> seconds (0–3600)")
        return {}
    out = {}
    for qid, seconds in raw.items():
        if not isinstance(seconds, int) or isinstance(seconds, bool) or not 0 <= seconds <= 3600:
            problems.append(f"limits.min_seconds.{qid}: a whole number of seconds (0–3600), the fastest believable completion")
            continue
        out[str(qid)] = seconds
        base = base_of(str(qid))
        if questionnaires is not None and "." in str(qid) and base not in questionnaires:
            problems.append(f"limits.min_seconds.{qid}: a topic's form id names its questionnaire first "
                            f"(<questionnaire>.<topic>), and there is no questionnaire '{base}'")
    for qid in questionnaires or ():
        if qid not in raw:
            problems.append(f"limits.min_seconds.{qid}: missing; every questionnaire needs its fastest believable completion")
    return out


def _reasons(raw: object, problems: list[str]) -> dict[str, Reason]:
    if not isinstance(raw, dict):
        problems.append(f"reasons: a mapping describing each of {', '.join(CODES)}")
        return {code: Reason(code, True, code, "") for code in CODES}
    out = {}
    for code in CODES:
        body = raw.get(code)
        where = f"reasons.{code}"
        if not isinstance(body, dict):
            problems.append(f"{where}: missing; describe it with invalid (true/false), title and meaning")
            out[code] = Reason(code, True, code, "")
            continue
        for key in sorted(set(body) - {"invalid", "title", "meaning"}):
            problems.append(f"{where}.{key}: unknown key (expected invalid, title, meaning)")
        invalid = body.get("invalid")
        if not isinstance(invalid, bool):
            problems.append(f"{where}.invalid: true or false (whether a submission with it is not a valid sample)")
        title, meaning = body.get("title"), body.get("meaning")
        for key, value in (("title", title), ("meaning", meaning)):
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{where}.{key}: required text in Chinese, shown on the published rules page")
        out[code] = Reason(code, invalid is not False, str(title or code), str(meaning or ""))
    for code in sorted(set(raw) - set(CODES)):
        problems.append(f"reasons.{code}: unknown reason code (the judgement produces only {', '.join(CODES)})")
    return out
