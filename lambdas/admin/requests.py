"""The secretariat's side of sponsors' requests and private links.

  requests list [--status S] [--sponsor SLUG]      the requests, newest first
  requests approve SLUG ID [--slug NEW] [--yaml F] apply to sponsors.yaml (checked as `check` does), then approve
  requests reject SLUG ID --reason TEXT            reject, with the reason the sponsor reads
  requests overview --day N --out DIR              who has reported no placement, who has no samples after day N,
                                                   contacts, pending requests by age (CSV, and a summary)
  portal links [--sponsor SLUG ...] [--out F.csv]  each sponsor's private link (issuing generation 1 where missing)
  portal rotate SLUG                               revoke a sponsor's link and print its new one

The portal key is the secret named by --portal-secret or SURVEY_PORTAL_KEY_SECRET (its name or ARN).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from lambdas.files import write_atomic
from lambdas.portal import token as tokens
from lambdas.survey import catalog as catalogs
from lambdas.survey import counts, keys
from lambdas.survey.catalog import BEIJING, Catalog
from lambdas.survey.settings import SettingsError
from lambdas.survey.sponsor_requests import STATUSES, Request, Requests
from lambdas.survey.store import Store

from .export import safe

Clients = Callable[..., Any]  # service name ("dynamodb" by default) -> a boto3 client for it
REQUEST_LABELS = {"nominate": "推荐支持单位", "initiator": "推荐发起单位", "sublink": "子链接", "placement": "发布情况",
                  "prize": "奖品", "contact": "联系人"}
STATUS_LABELS = {"pending": "待审核", "approved": "已通过", "rejected": "未通过"}


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The `requests` and `portal` commands; both run against the table (`on_table`)."""
    rq = sub.add_parser("requests", help="sponsors' requests: list, approve, reject, overview")
    rq.set_defaults(on_table=_requests)
    rsub = rq.add_subparsers(dest="action", required=True)
    ls = rsub.add_parser("list", help="the requests, newest first")
    ls.add_argument("--status", choices=STATUSES)
    ls.add_argument("--sponsor")
    ap = rsub.add_parser("approve", help="apply a request to sponsors.yaml (checked as `check` does), then approve it")
    ap.add_argument("sponsor", metavar="SLUG", help="the sponsor that made the request")
    ap.add_argument("id", metavar="ID", help="the request's id (see `requests list`)")
    ap.add_argument("--slug", help="the new sponsor's slug (a proposed initiator needs one)")
    ap.add_argument("--yaml", type=Path, default=Path("sponsors.yaml"), help="the sponsor list (default: sponsors.yaml)")
    ap.add_argument("--note", default="", help="a note the sponsor reads with the approval")
    rj = rsub.add_parser("reject", help="reject a request with the reason the sponsor reads")
    rj.add_argument("sponsor", metavar="SLUG", help="the sponsor that made the request")
    rj.add_argument("id", metavar="ID", help="the request's id (see `requests list`)")
    rj.add_argument("--reason", required=True)
    ov = rsub.add_parser("overview", help="placements, samples after day N, contacts, pending requests (CSV)")
    ov.add_argument("--day", type=int, required=True, help="day N of the window (1 is the opening day)")
    ov.add_argument("--out", type=Path, required=True)

    po = sub.add_parser("portal", help="sponsors' private links: issue and list, or rotate one")
    po.set_defaults(on_table=_portal)
    psub = po.add_subparsers(dest="action", required=True)
    secret = argparse.ArgumentParser(add_help=False)
    secret.add_argument("--portal-secret", default=os.environ.get(keys.PORTAL_ENV),
                        help=f"the portal key's secret, name or ARN (default: ${keys.PORTAL_ENV})")
    lk = psub.add_parser("links", parents=[secret], help="each sponsor's private link, issuing any missing")
    lk.add_argument("--sponsor", action="append", help="only this sponsor (repeat for more)")
    lk.add_argument("--out", type=Path, help="also write them to this CSV file")
    rt = psub.add_parser("rotate", parents=[secret], help="revoke a sponsor's link and print the new one")
    rt.add_argument("slug", metavar="SLUG")


# -- requests -------------------------------------------------------------------------------------------------------

def _requests(args: argparse.Namespace, clients: Clients) -> int:
    client = clients()
    reqs = Requests(client, args.table)
    if args.action == "list":
        found = reqs.of(args.sponsor) if args.sponsor else reqs.all()
        found = [r for r in found if args.status is None or r.status == args.status]
        for r in found:
            print(describe(r))
        print(f"{len(found)} request(s)")
        return 0
    if args.action == "approve":
        return approve(reqs, args.sponsor, args.id, args.yaml, args.slug, args.note)
    if args.action == "reject":
        return reject(reqs, args.sponsor, args.id, args.reason)
    cat = catalogs.load(args.site / "sponsors.json")
    store = Store(client, args.table, args.shards)
    paths, summary = overview(reqs.all(), store, cat, args.day, args.out, datetime.now(timezone.utc))
    print("\n".join(summary))
    print("\n".join(str(p) for p in paths))
    return 0


def describe(r: Request) -> str:
    """One line for the terminal: when, who, what, and the fields as sent."""
    created = _beijing(r.created)
    fields = json.dumps(r.fields, ensure_ascii=False, sort_keys=True)
    line = f"{created}  {r.sponsor}  {r.id}  {r.kind}  {r.status}  {fields}"
    return line + (f"  reason: {r.reason}" if r.reason else "")


def _pending(reqs: Requests, sponsor: str, request_id: str) -> Request | None:
    found = reqs.get(sponsor, request_id)
    if found is None:
        print(f"admin: no request {request_id} of {sponsor}. See `requests list --sponsor {sponsor}`", file=sys.stderr)
    elif found.status != "pending":
        print(f"admin: request {request_id} of {sponsor} is {found.status} already", file=sys.stderr)
        return None
    return found


def approve(reqs: Requests, sponsor: str, request_id: str, path: Path, slug: str | None = None, note: str = "") -> int:
    """Apply the request to the sponsor list, then mark it approved; if someone decided it meanwhile, put the file
    back as it was."""
    r = _pending(reqs, sponsor, request_id)
    if r is None:
        return 1
    if slug and r.kind not in ("nominate", "initiator"):
        print(f"admin: --slug names a new sponsor; a {r.kind} request adds none", file=sys.stderr)
        return 1
    applied, written = None, b""
    # The generator is imported here only: this command runs on the secretariat's machine, beside the sponsor list
    # and the generator; the Lambda functions never import it (their package holds no generator).
    from generator import requests_apply

    if r.kind in requests_apply.APPLIED:
        try:
            applied = requests_apply.apply(path, r.kind, r.sponsor, r.fields, slug)
        except requests_apply.ApplyError as exc:
            print(f"admin: request {request_id} stays pending: {exc}", file=sys.stderr)
            return 1
        except FileNotFoundError:
            print(f"admin: {path} not found. Fix: run from the project folder, or pass --yaml PATH", file=sys.stderr)
            return 1
        written = path.read_bytes()
    if not reqs.decide(sponsor, request_id, "approved", note):
        if applied is not None and path.read_bytes() == written:
            write_atomic(path, applied.before, durable=True)
        now = reqs.get(sponsor, request_id)
        print(f"admin: request {request_id} was {now.status if now else 'removed'} meanwhile; "
              f"{path.name if applied else 'nothing'} was left as it was", file=sys.stderr)
        return 1
    if applied is not None:
        print(f"{path}: added {applied.summary}; build and publish the site to make it live")
    print(f"approved {r.kind} request {request_id} of {sponsor}")
    return 0


def reject(reqs: Requests, sponsor: str, request_id: str, reason: str) -> int:
    if not reason.strip():
        print("admin: give the reason the sponsor will read, e.g. --reason '单位全称有误，请核对后重新提交'",
              file=sys.stderr)
        return 1
    if _pending(reqs, sponsor, request_id) is None:
        return 1
    if not reqs.decide(sponsor, request_id, "rejected", reason.strip()):
        print(f"admin: request {request_id} of {sponsor} was decided meanwhile", file=sys.stderr)
        return 1
    print(f"rejected request {request_id} of {sponsor}")
    return 0


# -- overview -------------------------------------------------------------------------------------------------------

def overview(found: list[Request], store: Store, cat: Catalog, day: int, out: Path,
             now: datetime) -> tuple[list[Path], list[str]]:
    """Four CSV files and a summary: sponsors with no placement reported (pending or approved), sponsors with no
    sample received by the end of day `day`, each sponsor's contact (the latest approved), pending requests by age."""
    out.mkdir(parents=True, exist_ok=True)
    days = cat.days()[:max(day, 0)]
    rows = counts.rows_from_items(i for d in days for i in store.counters(d))
    received = Counter[str]()
    for row in rows:
        received[row.sponsor] += row.received
    reported = {r.sponsor for r in found if r.kind == "placement" and r.status in ("pending", "approved")}
    contacts: dict[str, Request] = {}
    for r in sorted(found, key=lambda r: r.decided or r.created):
        if r.kind == "contact" and r.status == "approved":
            contacts[r.sponsor] = r  # the latest approval wins
    pending = sorted((r for r in found if r.status == "pending"), key=lambda r: r.created)

    def who(slug: str) -> list[Any]:
        info = cat.sponsors[slug]
        return [slug, info.name, catalogs.KIND_LABELS.get(info.kind, info.kind), info.province, info.nominated_by or ""]

    head = ["slug", "单位", "类别", "所在省份", "推荐单位"]
    no_placement = [who(s) for s in cat.sponsors if s not in reported]
    no_samples = [who(s) for s in cat.sponsors if not received[s]]
    contact_rows = [who(s) + [c.fields.get("name", ""), c.fields.get("phone", ""), c.fields.get("email", ""),
                              _beijing(c.decided)] if (c := contacts.get(s)) else who(s) + ["", "", "", ""]
                    for s in cat.sponsors]
    pending_rows = [[r.sponsor, cat.sponsors[r.sponsor].name if r.sponsor in cat.sponsors else "", r.id,
                     REQUEST_LABELS.get(r.kind, r.kind), _beijing(r.created), _age_days(r.created, now),
                     json.dumps(r.fields, ensure_ascii=False, sort_keys=True)] for r in pending]
    through = days[-1] if days else "-"
    files = [
        (out / "no-placement.csv", head, no_placement),
        (out / "no-samples.csv", head, no_samples),
        (out / "contacts.csv", head + ["联系人", "电话", "邮箱", "确认时间"], contact_rows),
        (out / "pending.csv", ["slug", "单位", "请求编号", "类型", "提交时间", "已等待（天）", "内容"], pending_rows),
    ]
    for path, columns, data in files:
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:  # the BOM Excel needs to read UTF-8
            w = csv.writer(fh)
            w.writerow(columns)
            w.writerows([[safe(c) for c in r] for r in data])
    ages = Counter(_age_days(r.created, now) for r in pending)
    summary = [
        f"{len(cat.sponsors)} sponsors; {len(no_placement)} without a placement report",
        f"{len(no_samples)} with no samples received through day {day} ({through})",
        f"{len(contacts)} with an approved contact, {len(cat.sponsors) - len(contacts)} without",
        f"{len(pending)} pending request(s)" + (": " + ", ".join(f"{n} waiting {d} day(s)" for d, n in
                                                              sorted(ages.items(), reverse=True)) if pending else ""),
    ]
    return [p for p, _, _ in files], summary


def _beijing(iso: str) -> str:
    if not iso:
        return ""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def _age_days(iso: str, now: datetime) -> int:
    return max(0, (now - datetime.fromisoformat(iso.replace("Z", "+00:00"))).days)


# -- portal links ---------------------------------------------------------------------------------------------------

def _portal(args: argparse.Namespace, clients: Clients) -> int:
    cat = catalogs.load(args.site / "sponsors.json")
    wanted = args.sponsor if args.action == "links" and args.sponsor else [args.slug] if args.action == "rotate" \
        else list(cat.sponsors)
    unknown = [s for s in wanted if s not in cat.sponsors]
    if unknown:
        print(f"admin: no sponsor {', '.join(unknown)} in {args.site / 'sponsors.json'}. Fix: check the slug, or "
              "build the site after adding it", file=sys.stderr)
        return 1
    if not args.portal_secret:
        print(f"admin: which secret holds the portal key? Pass --portal-secret NAME_OR_ARN or set {keys.PORTAL_ENV} "
              "(the stack's PortalKeySecret)", file=sys.stderr)
        return 1
    try:
        key = keys.portal({keys.PORTAL_ENV: args.portal_secret}, clients("secretsmanager"))
    except SettingsError as exc:
        print(f"admin: {exc}", file=sys.stderr)
        return 1
    generations = tokens.Generations(clients(), args.table)
    expires = tokens.expires_for(cat.closes)
    if args.action == "rotate":
        generation = generations.rotate(args.slug)
        print(f"{args.slug}: every earlier link is revoked; the new one (generation {generation}):")
        print(tokens.link(cat.site_url, tokens.sign(key, args.slug, generation, expires)))
        return 0
    rows = []
    for slug in wanted:
        generation = generations.issue(slug)
        info = cat.sponsors[slug]
        url = tokens.link(cat.site_url, tokens.sign(key, slug, generation, expires))
        rows.append([slug, info.name, catalogs.KIND_LABELS.get(info.kind, info.kind), url, generation,
                     datetime.fromtimestamp(expires, BEIJING).strftime("%Y-%m-%d")])
        print(f"{slug}  {info.name}  {url}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with open(args.out, "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["slug", "单位", "类别", "专属链接", "版本", "有效期至"])
            w.writerows([[safe(c) for c in r] for r in rows])
        print(f"{args.out}: {len(rows)} link(s); each opens that sponsor's private page: send it to its contact only")
    return 0

