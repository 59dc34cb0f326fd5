"""Deploy everything with one command: package the functions, deploy the stack, build the site for its address,
upload only what changed, invalidate only what changed.

  python -m infra.deploy --stack survey --region cn-north-1 [--site-url https://survey.example.org/] [--dry-run]
  python -m infra.deploy --stack survey --region cn-north-1 --counter-shards 32   (raise the counter shards)
  python -m infra.deploy --stack survey --region cn-north-1 --teardown

The secret comes from SURVEY_SECRET in the environment on the first deploy, and is kept from then on. Order of work:
the site is built for the stack's address first (on the very first deploy, after a first stack deploy that creates
the distribution), because the functions ship with the sponsors.json and questionnaires.json of that build: the
server checks exactly what the forms ask and attributes to exactly the sponsors the pages name.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import mimetypes
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lambdas.survey.catalog import day_of
from lambdas.survey.settings import DEFAULT_SHARDS

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "template.yaml"
BUILD = ROOT / "build"
RUNTIME = "3.12"  # the template's python3.12
PLATFORM = "manylinux2014_aarch64"  # the template's arm64
# What the functions import beyond the runtime's boto3: the same version as this checkout uses.
FUNCTION_PACKAGES = ("aws-lambda-powertools",)
HASHED = re.compile(r"\.[0-9a-f]{8,}\.min\.(css|js)$")  # the theme's fingerprinted assets


class DeployError(RuntimeError):
    pass


@dataclass
class Plan:
    """What a deploy does: filled by every step, printed by --dry-run, returned to tests."""

    dry_run: bool
    steps: list[str] = field(default_factory=list)
    uploaded: list[str] = field(default_factory=list)
    invalidated: list[str] = field(default_factory=list)
    kept: int = 0  # objects already up to date

    def say(self, text: str) -> None:
        self.steps.append(text)
        print(("[dry run] " if self.dry_run else "") + text, flush=True)


# ---- the functions' package -------------------------------------------------------------------------------------

def package(site: Path, out: Path = BUILD / "lambda") -> Path:
    """build/lambda: the lambdas package, the catalog and questionnaires of this site build, and the dependencies
    the runtime lacks (wheels for Lambda's arm64 and Python); returns a reproducible zip of it."""
    if out.exists():
        shutil.rmtree(out)
    target = out / "lambdas"
    shutil.copytree(ROOT / "lambdas", target, ignore=shutil.ignore_patterns("__pycache__", "admin", "local.py"))
    for name in ("sponsors.json", "questionnaires.json"):
        shutil.copy(site / name, target / name)
    versions = [f"{p}=={_version(p)}" for p in FUNCTION_PACKAGES]
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--target", str(out), "--platform", PLATFORM,
                    "--implementation", "cp", "--python-version", RUNTIME, "--only-binary=:all:", "--no-deps",
                    *versions], check=True)
    return _zip(out, out.with_suffix(".zip"))


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


def _zip(folder: Path, path: Path) -> Path:
    # Fixed timestamps and order: the same code gives the same bytes, so an unchanged package is not re-uploaded.
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            info = zipfile.ZipInfo(str(f.relative_to(folder)), date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            z.writestr(info, f.read_bytes(), zipfile.ZIP_DEFLATED)
    return path


# ---- the stack --------------------------------------------------------------------------------------------------

def stack_of(cfn: Any, stack: str) -> dict[str, Any] | None:
    """The stack as CloudFormation describes it (outputs, parameters, status), or None when it does not exist."""
    from botocore.exceptions import ClientError

    try:
        return cfn.describe_stacks(StackName=stack)["Stacks"][0]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise


def outputs(cfn: Any, stack: str) -> dict[str, str]:
    """The stack's outputs, or {} when it does not exist yet."""
    return _outputs(stack_of(cfn, stack))


def _outputs(found: dict[str, Any] | None) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in (found or {}).get("Outputs", [])}


def _deployed_parameters(found: dict[str, Any] | None) -> dict[str, str]:
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in (found or {}).get("Parameters", [])}


def _declared_parameters() -> set[str]:
    """The parameters the template being deployed declares."""
    from lambdas.local import template

    return set(template(TEMPLATE).get("Parameters") or {})


def deploy_stack(session: Any, stack: str, code_zip: Path, params: dict[str, str], plan: Plan) -> None:
    """Upload the functions' package to the artifacts bucket and deploy the template through a change set.

    A parameter the deploy does not set keeps its deployed value, as `sam deploy` does: a template default never
    silently undoes what was set on the stack (CounterShards above all, see check_counter_shards)."""
    cfn, s3 = session.client("cloudformation"), session.client("s3")
    account = session.client("sts").get_caller_identity()["Account"]
    bucket = f"{stack}-artifacts-{account}-{session.region_name}"
    key = f"lambda/{hashlib.sha256(code_zip.read_bytes()).hexdigest()}.zip"
    template = TEMPLATE.read_text(encoding="utf-8").replace("CodeUri: ../build/lambda", f"CodeUri: s3://{bucket}/{key}")
    found = stack_of(cfn, stack)
    exists = bool(_outputs(found))
    plan.say(f"{'update' if exists else 'create'} stack {stack} in {session.region_name}; code s3://{bucket}/{key}")
    if plan.dry_run:
        return
    _ensure_bucket(s3, bucket, session.region_name, account)
    # The owner is named on every request, so a bucket that another account holds is never written to.
    s3.upload_file(str(code_zip), bucket, key, ExtraArgs={"ExpectedBucketOwner": account})
    declared = _declared_parameters()
    for k in sorted(set(params) - declared):
        plan.say(f"{k} is not a parameter of this template: not sent")
    parameters = [{"ParameterKey": k, "ParameterValue": v} for k, v in params.items() if k in declared]
    if exists:
        parameters += [{"ParameterKey": k, "UsePreviousValue": True}
                       for k in sorted(_deployed_parameters(found)) if k in declared and k not in params]
    name = f"deploy-{key[7:19]}"
    cfn.create_change_set(StackName=stack, ChangeSetName=name, TemplateBody=template, Parameters=parameters,
                          ChangeSetType="UPDATE" if exists else "CREATE",
                          Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    try:
        cfn.get_waiter("change_set_create_complete").wait(StackName=stack, ChangeSetName=name,
                                                          WaiterConfig={"Delay": 5, "MaxAttempts": 120})
    except Exception as exc:  # no changes is a failed change set too: nothing to do
        status = cfn.describe_change_set(StackName=stack, ChangeSetName=name)
        if "didn't contain changes" in status.get("StatusReason", "") or "No updates" in status.get("StatusReason", ""):
            plan.say("stack unchanged")
            cfn.delete_change_set(StackName=stack, ChangeSetName=name)
            return
        raise DeployError(f"change set failed: {status.get('StatusReason')}") from exc
    cfn.execute_change_set(StackName=stack, ChangeSetName=name)
    waiter = "stack_update_complete" if exists else "stack_create_complete"
    cfn.get_waiter(waiter).wait(StackName=stack, WaiterConfig={"Delay": 10, "MaxAttempts": 180})


def _ensure_bucket(s3: Any, bucket: str, region: str, owner: str) -> None:
    """The artifacts bucket, this account's and private; created on the first deploy. Its name is predictable, so
    another account may have taken it first: then S3 answers 403 to a request naming `owner`, and nothing is sent."""
    from botocore.exceptions import ClientError

    taken = DeployError(
        f"the artifacts bucket {bucket} belongs to another AWS account (or these credentials may not read it), so "
        f"the functions' code is not uploaded there: check that AWS_PROFILE / --profile is the campaign's account "
        f"{owner}; if someone else holds the name, deploy under another --stack name")
    try:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=owner)
        return
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("403", "AccessDenied", "301", "PermanentRedirect"):
            raise taken from exc
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket"):
            raise
    config = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    try:
        s3.create_bucket(Bucket=bucket, **config)  # CreateBucket names no owner: it fails on a name that is taken
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "BucketAlreadyExists":
            raise taken from exc
        if exc.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
            raise
    s3.put_public_access_block(Bucket=bucket, ExpectedBucketOwner=owner, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})


# ---- the site ---------------------------------------------------------------------------------------------------

def build_site(config: Path, site_url: str, out: Path, deployed_catalog: bytes | None) -> None:
    """mkdocs build for the deployed address into `out`, checking links against what is deployed, not local."""
    out.mkdir(parents=True, exist_ok=True)
    if deployed_catalog is not None:
        # The build refuses to drop a link that the last site published: the last site is the deployed one.
        (out / "sponsors.json").write_bytes(deployed_catalog)
    env = dict(os.environ, SURVEY_SITE_URL=site_url, NO_MKDOCS_2_WARNING="1")
    env.pop("SURVEY_OPENS", None)  # a deployed site never rehearses
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-f", str(config), "-d", str(out)], env=env)
    if result.returncode != 0:
        raise DeployError("the site did not build; nothing was uploaded")


def files(site: Path) -> Iterator[tuple[str, Path]]:
    """(object key, file) for the site, plus each folder's index.html under the folder's own key: CloudFront asks
    S3 for "sponsors/foo/" and S3's REST endpoint has no index documents."""
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        key = path.relative_to(site).as_posix()
        yield key, path
        if path.name == "index.html" and key != "index.html":
            yield key[: -len("index.html")], path


def cache_control(key: str) -> str:
    if HASHED.search(key) or key == "assets/js/form.js":  # fingerprinted, or referenced with ?v=<digest>
        return "public, max-age=31536000, immutable"
    if key.endswith((".html", "/")) or key.endswith(".json") or "." not in key.rsplit("/", 1)[-1]:
        return "public, max-age=300"
    return "public, max-age=3600"


def content_type(key: str) -> str:
    if key.endswith("/") or key.endswith(".html"):
        return "text/html; charset=utf-8"
    kind = mimetypes.guess_type(key)[0] or "application/octet-stream"
    return kind + "; charset=utf-8" if kind.startswith("text/") or kind in ("application/json", "application/javascript") else kind


def sync(s3: Any, bucket: str, site: Path, plan: Plan) -> None:
    """Upload what is new or changed (by MD5 against the object's ETag); never delete: printed links stay alive."""
    present: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        present.update({o["Key"]: o["ETag"].strip('"') for o in page.get("Contents", [])})
    digests: dict[Path, str] = {}
    for key, path in files(site):
        md5 = digests.get(path) or digests.setdefault(path, hashlib.md5(path.read_bytes()).hexdigest())
        if present.get(key) == md5:
            plan.kept += 1
            continue
        plan.uploaded.append(key)
        if key in present:
            plan.invalidated.append("/" + key)
        if not plan.dry_run:
            s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=content_type(key),
                          CacheControl=cache_control(key))
    stale = len(set(present) - {k for k, _ in files(site)})
    plan.say(f"site: {len(plan.uploaded)} object(s) to upload, {plan.kept} unchanged, {stale} no longer built (kept)")


def invalidate(cloudfront: Any, distribution: str, plan: Plan) -> None:
    if not plan.invalidated:
        plan.say("nothing to invalidate")
        return
    # Past a few dozen paths one wildcard is cheaper (it counts as one path) and as quick.
    paths = plan.invalidated if len(plan.invalidated) <= 50 else ["/*"]
    plan.say(f"invalidate {len(paths)} path(s) on {distribution}: {', '.join(paths[:5])}{' …' if len(paths) > 5 else ''}")
    if not plan.dry_run:
        cloudfront.create_invalidation(DistributionId=distribution, InvalidationBatch={
            "Paths": {"Quantity": len(paths), "Items": paths},
            "CallerReference": hashlib.sha256("\n".join(sorted(paths)).encode()).hexdigest()[:32] + str(os.getpid()),
        })


def _deployed_catalog(s3: Any, bucket: str) -> bytes | None:
    from botocore.exceptions import ClientError

    try:
        return s3.get_object(Bucket=bucket, Key="sponsors.json")["Body"].read()
    except ClientError:
        return None


# ---- counter shards ---------------------------------------------------------------------------------------------

def check_counter_shards(deployed: int, wanted: int | None, opens: datetime, now: datetime) -> str | None:
    """Refuse a CounterShards change that would lose counts; say why a change is safe. Returns a line to print.

    Each submission records the shard it is counted on (store.shard_of), and every reader (the counts API,
    Store.counters in the secretariat's commands, the sweeper's pending index) queries shards 0..n-1. Raising n is
    therefore safe at any time: written items keep their shard and are still read; only new submissions use the new
    shards, and the recount keys by the shard each submission recorded. Lowering n hides every counter and pending
    submission on the shards above it, for good: from the opening day on it is refused, as long as the data lives.
    """
    if wanted is None or wanted == deployed:
        return None
    if wanted > deployed:
        return (f"CounterShards {deployed} → {wanted}: safe; counts already written stay on their shards and every "
                f"reader queries all {wanted}; run `python -m lambdas.admin` with --shards {wanted} (or "
                f"SURVEY_SHARDS={wanted}) from now on, or its report and snapshots miss the new shards")
    opening = day_of(opens)
    if day_of(now) < opening:
        return f"CounterShards {deployed} → {wanted}: before the window opens ({opening}), no counts to lose yet"
    raise DeployError(
        f"CounterShards {deployed} → {wanted} refused, nothing was changed: the survey window opened on {opening}, "
        f"and the counters and pending submissions written since sit on shards 0–{deployed - 1}; with {wanted} the "
        f"counts pages, the secretariat's commands and the sweeper would read only shards 0–{wanted - 1}, so counts "
        f"on shards {wanted}–{deployed - 1} would vanish and submissions pending there would never be counted. "
        f"Deploy with --counter-shards {deployed} (or more: raising is safe) for as long as this table's data is used")


def _opens(catalogs: list[bytes | None]) -> datetime:
    """The earliest opening of the window among the deployed site's sponsors.json and this build's."""
    return min(datetime.fromisoformat(json.loads(raw)["campaign"]["opens"]) for raw in catalogs if raw)


# ---- the command ------------------------------------------------------------------------------------------------

def run(args: argparse.Namespace, session: Any) -> Plan:
    plan = Plan(args.dry_run)
    cfn = session.client("cloudformation")
    found = stack_of(cfn, args.stack)
    out = _outputs(found)
    existed = bool(out)
    params = _parameters(args)
    if args.teardown:
        plan.say(f"delete stack {args.stack}; the table and the site bucket are retained (export the data first, "
                 f"then delete them: see infra/README.md)")
        if not args.dry_run:
            cfn.delete_stack(StackName=args.stack)
            cfn.get_waiter("stack_delete_complete").wait(StackName=args.stack)
        return plan
    site_dir = args.build_dir / "site"
    if not out and not args.skip_stack:
        # First deploy: the distribution's address is only known once it exists.
        placeholder = args.build_dir / "placeholder"
        build_site(args.config, args.site_url or "https://survey.invalid/", placeholder, None)
        deploy_stack(session, args.stack, package(placeholder, args.build_dir / "lambda"), params, plan)
        out = outputs(cfn, args.stack) if not args.dry_run else {
            "SiteUrl": args.site_url or "https://<new distribution>/", "SiteBucket": "<new bucket>", "DistributionId": "<new>"}
    site_url = args.site_url or out["SiteUrl"]
    s3 = session.client("s3")
    deployed = _deployed_catalog(s3, out["SiteBucket"]) if not out["SiteBucket"].startswith("<") else None
    plan.say(f"build the site for {site_url}")
    build_site(args.config, site_url, site_dir, deployed)
    if not args.skip_stack:
        if existed:  # before anything changes: the build is local, the stack and the buckets are as they were
            deployed_shards = int(_deployed_parameters(found).get("CounterShards", DEFAULT_SHARDS))
            note = check_counter_shards(deployed_shards, args.counter_shards,
                                        _opens([deployed, (site_dir / "sponsors.json").read_bytes()]),
                                        datetime.now(timezone.utc))
            if note:
                plan.say(note)
        deploy_stack(session, args.stack, package(site_dir, args.build_dir / "lambda"), params, plan)
    if out["SiteBucket"].startswith("<"):
        plan.say("upload every file of the site to the new bucket")
        return plan
    sync(s3, out["SiteBucket"], site_dir, plan)
    invalidate(session.client("cloudfront"), out["DistributionId"], plan)
    return plan


def _parameters(args: argparse.Namespace) -> dict[str, str]:
    params = {}
    secret = os.environ.get("SURVEY_SECRET")
    if secret:
        params["SurveySecret"] = secret
    for name, value in (("AlarmEmail", args.alarm_email), ("SiteOrigin", args.site_origin),
                        ("SubmitReservedConcurrency", args.reserved_concurrency),
                        ("CounterShards", args.counter_shards)):
        if value is not None:
            params[name] = str(value)
    return params


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    parser.add_argument("--profile")
    parser.add_argument("--config", type=Path, default=ROOT / "mkdocs.yml")
    parser.add_argument("--build-dir", type=Path, default=BUILD, help="where the site and the package are built")
    parser.add_argument("--site-url", help="the public address when it is a custom domain (required in AWS China)")
    parser.add_argument("--site-origin", help="an extra origin allowed to call the API (CORS)")
    parser.add_argument("--alarm-email")
    parser.add_argument("--reserved-concurrency", type=int)
    parser.add_argument("--counter-shards", type=int,
                        help="counter items per day (the stack keeps its value unless given; never lowered once the "
                             "window has opened)")
    parser.add_argument("--dry-run", action="store_true", help="show what would happen; change nothing")
    parser.add_argument("--skip-stack", action="store_true", help="site only: build, upload changed files, invalidate")
    parser.add_argument("--teardown", action="store_true", help="delete the stack (data is retained)")
    return parser.parse_args(argv)


CREDENTIALS_HELP = ("set AWS_PROFILE to a profile made with `aws configure` (or `aws configure sso`, then `aws sso "
                    "login`), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --profile")
# What AWS answers to keys that are wrong or expired (or, in AWS China, keys of the global partition, and back).
REFUSED_CREDENTIALS = {"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException",
                       "SignatureDoesNotMatch", "InvalidAccessKeyId", "AuthFailure"}


def aws_setup(session: Any) -> str | None:
    """What keeps this machine from calling AWS at all, as one line saying what to set; None when nothing does."""
    missing, fixes = [], []
    if not session.region_name:
        missing.append("no AWS region")
        fixes.append("pass --region (e.g. --region cn-north-1) or set AWS_REGION")
    if session.get_credentials() is None:
        missing.append("no AWS credentials")
        fixes.append(CREDENTIALS_HELP)
    return f"{' and '.join(missing)}: {'; '.join(fixes)}" if missing else None


def main(argv: list[str] | None = None) -> int:
    import boto3
    from botocore.exceptions import (ClientError, CredentialRetrievalError, NoCredentialsError, PartialCredentialsError,
                                     ProfileNotFound, SSOError, TokenRetrievalError)

    args = parse(argv)
    try:
        session = boto3.Session(profile_name=args.profile, region_name=args.region)
        problem = aws_setup(session)
    except ProfileNotFound as exc:
        name = exc.kwargs.get("profile", "")
        problem = (f"the AWS profile {name} is not configured: create it with `aws configure --profile {name}` (or "
                   f"`aws configure sso --profile {name}`), or name another with --profile or AWS_PROFILE")
    except (PartialCredentialsError, CredentialRetrievalError) as exc:
        problem = f"the AWS credentials could not be read ({exc}): {CREDENTIALS_HELP}"
    if problem:
        print(f"deploy: {problem}", file=sys.stderr)
        return 2
    try:
        plan = run(args, session)
    except DeployError as exc:
        print(f"deploy: {exc}", file=sys.stderr)
        return 1
    except (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError, TokenRetrievalError,
            SSOError) as exc:
        print(f"deploy: the AWS credentials are not usable ({exc}): renew them (`aws sso login`, or `aws configure`) "
              f"and run again", file=sys.stderr)
        return 2
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") not in REFUSED_CREDENTIALS:
            raise
        print(f"deploy: AWS refused the credentials in {session.region_name} ({error.get('Code')}: "
              f"{error.get('Message')}): renew them, or check that AWS_PROFILE / --profile and --region name the "
              f"same account and partition (AWS China keys work only in cn-north-1 and cn-northwest-1)",
              file=sys.stderr)
        return 2
    print(json.dumps({"uploaded": plan.uploaded, "unchanged": plan.kept, "invalidated": plan.invalidated},
                     ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

