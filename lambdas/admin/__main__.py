"""The secretariat's commands, against the deployed table or the local stack's.

  python -m lambdas.admin recount [--fix]            recount from the stored submissions; report (and fix) drift
  python -m lambdas.admin export --out DIR [filters]  submissions as CSV (UTF-8 with BOM) and Parquet, suggestions apart
  python -m lambdas.admin report --out DIR            per-province and per-sponsor summary, Markdown and CSV
  python -m lambdas.admin snapshot --out DIR          freeze each finished day's counts into a hash-chained file
  python -m lambdas.admin snapshot --verify DIR       check the chain
  python -m lambdas.admin rescore [--rules FILE]      judge every submission again under a rule set; exact counters
  python -m lambdas.admin anomalies --out DIR         per-sponsor signs of inflated counts, scored, CSV and a page
  python -m lambdas.admin requests list|approve|reject|overview   sponsors' requests (see `requests --help`)
  python -m lambdas.admin portal links|rotate         sponsors' private links, issued or revoked

After the window, over the Parquet export (files only, no table):
  python -m lambdas.admin results --data DIR --out DIR    the national, provincial, topic and sponsor reports
  python -m lambdas.admin crosstab Q1 Q2 --data DIR       two questions cross-tabulated, with a chi-square test
  python -m lambdas.admin suggestions --data DIR --out DIR  frequent and distinctive terms of the suggestions
  python -m lambdas.admin codebook --data DIR --out DIR   codebook, labelled CSV/XLSX, SPSS .sav
  python -m lambdas.admin synth --out DIR --size N        synthetic valid submissions as the export's Parquet
  python -m lambdas.admin athena-sql ...                  the same queries for Athena over the table's S3 export

The table comes from --table / SURVEY_TABLE, the endpoint from --endpoint-url / AWS_ENDPOINT_URL_DYNAMODB (the
local stack prints its own), the sponsors and window from the site's sponsors.json.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from lambdas.survey import catalog as catalogs
from lambdas.survey import counts, layout, questionnaire, recount, rescore, rules
from lambdas.survey.catalog import BEIJING
from lambdas.survey.settings import DEFAULT_SHARDS
from lambdas.survey.store import Store

from . import anomalies, export, report, requests, snapshot


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit status (0: done, nothing amiss)."""
    args = _parser().parse_args(argv)
    if hasattr(args, "run"):  # the results' commands read files only: no table, no AWS settings
        return int(args.run(args) or 0)
    if hasattr(args, "on_table"):  # requests and portal: they read the table and what else they need themselves
        return int(args.on_table(args, lambda service="dynamodb": _client(args.endpoint_url, service)) or 0)
    if args.command == "snapshot" and args.verify:
        return _verify(args.verify)
    store = Store(_client(args.endpoint_url), args.table, args.shards)
    cat = catalogs.load(args.site / "sponsors.json")
    if args.command == "recount":
        return _recount(store, args.fix)
    if args.command == "rescore":
        return _rescore(store, args)
    if args.command == "export":
        return _export(store, args)
    if args.command == "anomalies":
        paths = anomalies.write(args.out, _anomalies(store, args.site), {s: i.name for s, i in cat.sponsors.items()})
        print("\n".join(str(p) for p in paths))
        return 0
    rows = counts.rows_from_items(i for d in cat.days() for i in store.counters(d))
    now = datetime.now(timezone.utc)
    if args.command == "report":
        return _report(store, args, rows, cat, now)
    written = snapshot.freeze(args.out, rows, cat, now)
    print(f"{args.out}: froze {', '.join(written) or 'nothing new'}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lambdas.admin", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table", default=os.environ.get("SURVEY_TABLE", "survey-local"))
    parser.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"))
    parser.add_argument("--site", type=Path, default=Path("site"), help="the built site (its sponsors.json and questionnaires.json)")
    parser.add_argument("--shards", type=int, default=int(os.environ.get("SURVEY_SHARDS", DEFAULT_SHARDS)))
    sub = parser.add_subparsers(dest="command", required=True)
    rc = sub.add_parser("recount", help="recount every counter from the stored submissions")
    rc.add_argument("--fix", action="store_true", help="set drifted counters to their recount")
    ex = sub.add_parser("export", help="stream submissions to CSV and Parquet")
    ex.add_argument("--out", type=Path, required=True)
    ex.add_argument("--day")
    ex.add_argument("--sponsor")
    ex.add_argument("--province")
    ex.add_argument("--valid", choices=["yes", "no", "all"], default="all")
    ex.add_argument("--format", choices=["csv", "parquet", "both"], default="both")
    ex.add_argument("--segments", type=int, default=4, help="parallel scan segments")
    rp = sub.add_parser("report", help="per-province and per-sponsor summary")
    rp.add_argument("--out", type=Path, required=True)
    rp.add_argument("--anomalies", action="store_true",
                    help="also scan the submissions for signs of inflated counts: a section, anomalies.csv and .html")
    sn = sub.add_parser("snapshot", help="freeze finished days into hash-chained files, or verify them")
    group = sn.add_mutually_exclusive_group(required=True)
    group.add_argument("--out", type=Path)
    group.add_argument("--verify", type=Path)
    rs = sub.add_parser("rescore", help="judge every stored submission again under a rule set and fix the counters")
    rs.add_argument("--rules", type=Path, help="a rules file (YAML or JSON); default: the site's rules.json")
    rs.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")
    an = sub.add_parser("anomalies", help="per sponsor and channel: bursts, concentration, patterns, scored")
    an.add_argument("--out", type=Path, required=True)
    _results_commands(sub)
    requests.add_parsers(sub)
    return parser


def _verify(folder: Path) -> int:
    problems = snapshot.verify(folder)
    for p in problems:
        print(p, file=sys.stderr)
    files = len(list(folder.glob("*.json")))
    print(f"{folder}: {files} day(s), chain {'BROKEN' if problems else 'intact'}")
    return 1 if problems else 0


def _recount(store: Store, fix: bool) -> int:
    found, pending = recount.check(store, lambda it: export.progress(it, "submissions"))
    for d in found:
        print(f"drift {d.describe()}")
    print(f"{len(found)} drifted counter(s); {pending} submission(s) pending (the sweeper counts them)")
    if found and fix:
        fixed, skipped = recount.fix(store, found)
        print(f"fixed {fixed}; {skipped} changed meanwhile by live traffic (run again)")
        return 0 if not skipped else 1
    return 1 if found else 0


def _export(store: Store, args: argparse.Namespace) -> int:
    survey = questionnaire.load(args.site / "questionnaires.json")
    valid = {"yes": True, "no": False, "all": None}[args.valid]
    filters = export.Filters(args.day, args.sponsor, args.province, valid)
    formats = ("csv", "parquet") if args.format == "both" else (args.format,)
    rows = export.progress(_parallel(store, args.segments), "submissions")
    written = export.export(rows, survey, args.out, filters, formats)
    print(f"{args.out}: " + ", ".join(f"{qid} {n} rows" for qid, n in written.items()))
    return 0


def _report(store: Store, args: argparse.Namespace, rows: list[counts.Row], cat: catalogs.Catalog,
            now: datetime) -> int:
    found = _anomalies(store, args.site) if args.anomalies else None
    flagged = [(r.sponsor, r.score, r.explanations) for r in found.sponsors if r.score > 0] if found else None
    paths = report.write(args.out, rows, cat, now.astimezone(BEIJING).isoformat(timespec="minutes"), flagged)
    if found:
        paths += anomalies.write(args.out, found, {s: i.name for s, i in cat.sponsors.items()})
    print("\n".join(str(p) for p in paths))
    return 0


def _results_commands(sub: argparse._SubParsersAction) -> None:
    """The results' commands, when their extra is installed (`pip install -e ".[results]"`)."""
    try:
        from lambdas.results import analysis, codebook, reports, suggestions, synth
    except ImportError as exc:
        missing = exc.name or "a results dependency"
        for name in ("results", "crosstab", "suggestions", "codebook", "synth", "athena-sql"):
            sub.add_parser(name, help=f"(needs {missing}: pip install -e '.[results]')").set_defaults(
                run=lambda args, m=missing: sys.exit(f"admin: this command needs {m}: pip install -e '.[results]'"))
        return
    for module in (reports, analysis, suggestions, codebook, synth):
        module.add_parser(sub)


def _anomalies(store: Store, site: Path) -> anomalies.Report:
    """One pass over every submission, judged against the fast threshold the published rules set."""
    judged_by = rules.load(site / "rules.json")
    return anomalies.analyse(export.progress(_parallel(store, 4), "submissions"),
                             questionnaire.load(site / "questionnaires.json"), judged_by.min_seconds,
                             titles={code: r.title for code, r in judged_by.reasons.items()})


def _rescore(store: Store, args: argparse.Namespace) -> int:
    path = args.rules or args.site / "rules.json"
    survey = questionnaire.load(args.site / "questionnaires.json")
    try:
        judged_by = rules.parse(rules.read(path), path, tuple(survey.questionnaires))
    except rules.RulesError as exc:
        print(exc, file=sys.stderr)
        return 1
    out = rescore.run(store, judged_by, args.dry_run, lambda it: export.progress(it, "submissions"))
    verb = "would change" if args.dry_run else "changed"
    print(f"rules {judged_by.version}: {out.rejudged} judged again, {out.changed} {verb} validity, "
          f"{out.kept} kept (stored without signals), {out.pending} pending (counted by the sweeper as they are)")
    for sponsor, before, after in out.diff():
        print(f"  {sponsor}: valid {before} -> {after} ({after - before:+d})")
    if args.dry_run:
        return 0
    print(f"{out.written} verdict(s) written, {out.raced} changed meanwhile; counters: {out.drifts} drifted, "
          f"{out.fixed} fixed, {out.skipped} moved by live traffic")
    return 0 if not (out.raced or out.skipped) else 1  # run again to finish


def _client(endpoint: str | None, service: str = "dynamodb"):  # type: ignore[no-untyped-def]
    """DynamoDB at `endpoint`, or AWS's. The local stack's database, on this machine, takes any keys and keeps its
    tables in its own region, so nothing need be set for it; against AWS, a missing region or missing credentials
    end the command with one line saying what to set. Other services (`service`: the portal key's Secrets Manager)
    are the local stack's at the same endpoint, or AWS's own."""
    import boto3
    from botocore.exceptions import ProfileNotFound

    target = endpoint or os.environ.get("AWS_ENDPOINT_URL")
    if target and _on_this_machine(target):
        # The region and stand-in keys the local stack runs its functions with (lambdas/local.py).
        return boto3.client(service, endpoint_url=target, region_name="us-east-1",
                            aws_access_key_id="local", aws_secret_access_key="local")
    try:
        session = boto3.Session(region_name=os.environ.get("AWS_REGION") or None)  # as the AWS CLI v2 reads it
        missing: dict[str, str] = {}
        if not session.region_name:
            missing["no AWS region"] = "set AWS_REGION to the campaign's region (e.g. cn-north-1)"
        if session.get_credentials() is None:
            missing["no AWS credentials"] = ("set AWS_PROFILE to a profile made with `aws configure` (or `aws "
                                             "configure sso`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    except ProfileNotFound as exc:
        name = exc.kwargs.get("profile", "")
        raise SystemExit(f"admin: the AWS profile {name} is not configured: create it with `aws configure --profile "
                         f"{name}`, or set AWS_PROFILE to another") from exc
    if missing:
        raise SystemExit(f"admin: {' and '.join(missing)}: {'; '.join(missing.values())}; or, for the local stack, "
                         f"pass the --endpoint-url that `serve` prints")
    return session.client(service, endpoint_url=endpoint if service == "dynamodb" else None)


def _on_this_machine(url: str) -> bool:
    import ipaddress
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _parallel(store: Store, segments: int):  # type: ignore[no-untyped-def]
    """Submissions from a parallel scan: DynamoDB serves each segment from its own partitions."""
    from concurrent.futures import ThreadPoolExecutor
    from queue import Queue

    done = object()
    queue: Queue = Queue(maxsize=10_000)

    def run(segment: int) -> None:
        try:
            for item in store.scan(layout.SUBMISSION, segment, segments):
                queue.put(item)
        finally:
            queue.put(done)

    with ThreadPoolExecutor(segments) as pool:
        futures = [pool.submit(run, s) for s in range(segments)]
        finished = 0
        while finished < segments:
            item = queue.get()
            if item is done:
                finished += 1
            else:
                yield item
        for f in futures:
            f.result()  # surface a failed segment


if __name__ == "__main__":
    sys.exit(main())
