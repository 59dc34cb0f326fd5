"""The deploy command's logic against moto's server standing in for S3, CloudFront and CloudFormation: the built
site is uploaded (not the build's own dot-files), a second run uploads nothing, a one-sponsor edit uploads only that
sponsor's files, a page hard-linked under every link is sent once and copied server-side to the rest, invalidations
stay few; the artifacts bucket is only ever this account's; a machine without AWS settings gets one line saying what
to set; CounterShards is never lowered once the window has opened."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from generator.publish import STAMPS
from infra import deploy
from lambdas import local
from lambdas.survey.catalog import BEIJING
from tests.conftest import CAMPAIGN, SMALL_SPONSORS, write_project

pytestmark = pytest.mark.e2e
STACK = "survey-test"


@contextmanager
def moto_site(stack: str = STACK, bucket: str = "survey-site") -> Iterator[dict[str, Any]]:
    """moto's server with a stack whose outputs name a bucket and a distribution, as the real stack's do; the
    environment points every AWS client at it while it runs. moto keeps what it holds for the whole process: each
    caller names its own stack and bucket."""
    with local.database() as url:
        env = {"AWS_ENDPOINT_URL": url, "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test",
               "AWS_SECRET_ACCESS_KEY": "test"}
        mp = pytest.MonkeyPatch()
        for k, v in env.items():
            mp.setenv(k, v)
        session = boto3.Session(region_name="us-east-1")
        session.client("s3").create_bucket(Bucket=bucket)
        dist = session.client("cloudfront").create_distribution(DistributionConfig={
            "CallerReference": stack, "Comment": "", "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [{"Id": "site", "DomainName": f"{bucket}.s3.amazonaws.com",
                                                  "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
            "DefaultCacheBehavior": {"TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https",
                                     "MinTTL": 0,
                                     "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                                     "TrustedSigners": {"Enabled": False, "Quantity": 0}},
        })["Distribution"]["Id"]
        session.client("cloudformation").create_stack(StackName=stack, TemplateBody=json.dumps({
            "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {"SiteUrl": {"Value": "https://d111111abcdef8.cloudfront.net/"},
                        "SiteBucket": {"Value": bucket}, "DistributionId": {"Value": dist}},
        }))
        try:
            yield {"session": session, "distribution": dist, "url": url, "stack": stack, "bucket": bucket}
        finally:
            mp.undo()


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    with moto_site() as found:
        project = write_project(tmp_path_factory.mktemp("deploy") / "project", CAMPAIGN + SMALL_SPONSORS)
        yield {**found, "project": project, "build": project.parent / "build"}


def _deploy(aws, *extra: str) -> deploy.Plan:
    args = deploy.parse(["--stack", STACK, "--region", "us-east-1", "--config", str(aws["project"] / "mkdocs.yml"),
                         "--build-dir", str(aws["build"]), "--skip-stack", *extra])
    return deploy.run(args, aws["session"])


def _objects(aws) -> dict[str, dict]:
    s3 = aws["session"].client("s3")
    return {o["Key"]: o for page in s3.get_paginator("list_objects_v2").paginate(Bucket="survey-site")
            for o in page.get("Contents", [])}


def test_first_deploy_uploads_the_built_site_with_types_and_cache_rules(aws):
    plan = _deploy(aws)
    site = aws["build"] / "site"
    objects = _objects(aws)
    built = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    assert built - {STAMPS} <= set(objects) and len(plan.uploaded) == len(objects)
    # the build's record of its folders stays on this machine: no dot-file is published
    assert STAMPS in built and not any(k.startswith(".") or "/." in k for k in objects)
    assert "sponsors/beijing-ccs/" in objects  # the folder's own key serves its index page
    s3 = aws["session"].client("s3")
    page = s3.get_object(Bucket="survey-site", Key="s/beijing-ccs/wechat/")
    assert page["ContentType"] == "text/html; charset=utf-8" and page["CacheControl"] == "public, max-age=300"
    assert "https://d111111abcdef8.cloudfront.net/s/beijing-ccs/wechat/" in page["Body"].read().decode()
    script = s3.get_object(Bucket="survey-site", Key="assets/js/form.js")
    assert "immutable" in script["CacheControl"]
    assert plan.invalidated == []  # nothing was there to be stale


def test_a_second_deploy_uploads_nothing(aws):
    plan = _deploy(aws)
    assert plan.uploaded == [] and plan.invalidated == [] and plan.kept == len(_objects(aws))


def test_a_one_sponsor_edit_uploads_only_that_sponsors_files(aws):
    sponsors = aws["project"] / "sponsors.yaml"
    sponsors.write_text(sponsors.read_text(encoding="utf-8").replace(
        "website: https://guangdong-cyber.example.org/", "website: https://www.gdcyber.example.org/"), encoding="utf-8")
    before = {k: o["ETag"] for k, o in _objects(aws).items()}
    dry = _deploy(aws, "--dry-run")
    assert dry.uploaded and {k: o["ETag"] for k, o in _objects(aws).items()} == before  # a dry run changes nothing
    plan = _deploy(aws)
    assert plan.uploaded == dry.uploaded
    assert all(k.startswith("sponsors/guangdong-cyber/") for k in plan.uploaded), plan.uploaded
    assert "sponsors/guangdong-cyber/" in plan.uploaded
    assert plan.invalidated == ["/" + k for k in plan.uploaded]
    invalidations = aws["session"].client("cloudfront").list_invalidations(DistributionId=aws["distribution"])
    assert invalidations["InvalidationList"]["Quantity"] == 1


def test_the_functions_package_carries_the_sites_catalog_and_its_dependencies(aws, tmp_path):
    zipped = deploy.package(aws["build"] / "site", tmp_path / "lambda")
    names = set(zipfile.ZipFile(zipped).namelist())
    assert {"lambdas/submit/app.py", "lambdas/sponsors.json", "lambdas/questionnaires.json", "lambdas/rules.json",
            "lambdas/openapi.json", "iputil/data/ip2region.xdb"} <= names
    assert any(n.startswith("aws_lambda_powertools/") for n in names)
    assert not any(n.startswith(("lambdas/admin/", "lambdas/results/", "yaml/", "moto/")) or n == "lambdas/local.py"
                   for n in names)
    assert deploy.package(aws["build"] / "site", tmp_path / "again").read_bytes() == zipped.read_bytes()
    # The packaged submit function starts from its own folder, with its bundled catalog, rules and IP database and
    # exactly the environment the template gives it (plus what Lambda itself sets)
    tpl = local.template()
    arns, token = local.create_secrets(aws["url"], tpl)
    env = {**local.function_environment(tpl, "SubmitFunction", {"SurveyTable": "t", **arns}),
           **local.runtime_environment(aws["url"], "SubmitFunction"), "PATH": "/usr/bin:/bin"}
    code = ("import lambdas.submit.app as a; it = a._intake(); "
            "print(a.__file__, len(it.catalog.sponsors), it.rules.version, it.locate('114.114.114.114'))")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path / "lambda", capture_output=True, text=True,
                            env=env)
    assert result.returncode == 0, result.stderr
    path, sponsors, version, province = result.stdout.split()
    assert version and province == "江苏省"
    assert Path(path).is_relative_to(tmp_path / "lambda") and int(sponsors) == 3


# ---- the artifacts bucket is this account's --------------------------------------------------------------------

ACCOUNT = "123456789012"  # the account moto answers as for any key it did not issue
OTHER_ACCOUNT = "111122223333"
# The stack's own parameters and code reference, without what moto cannot create (the SAM transform, CloudFront).
SMALL_TEMPLATE = """\
Parameters:
  CounterShards: {Type: Number, Default: 16, MinValue: 1, MaxValue: 256}
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Metadata:
      CodeUri: ../build/lambda
Outputs:
  SiteUrl: {Value: "https://d111111abcdef8.cloudfront.net/"}
  SiteBucket: {Value: %(bucket)s}
  DistributionId: {Value: %(distribution)s}
"""


@pytest.fixture
def small_stack(aws, tmp_path, monkeypatch):
    """deploy_stack with a template moto can create, and a stand-in functions' package (pip stays offline)."""
    site_bucket = f"site-{tmp_path.name.lower().replace('_', '-')[-40:]}"
    aws["session"].client("s3").create_bucket(Bucket=site_bucket)
    template = tmp_path / "template.yaml"
    template.write_text(SMALL_TEMPLATE % {"bucket": site_bucket, "distribution": aws["distribution"]}, encoding="utf-8")
    monkeypatch.setattr(deploy, "TEMPLATE", template)
    code = tmp_path / "lambda.zip"
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("lambdas/__init__.py", "")
    monkeypatch.setattr(deploy, "package", lambda site, out: code)
    return {"template": template, "code": code, "site_bucket": site_bucket}


def _recorded(session: boto3.Session, service: str) -> list[tuple[str, dict]]:
    """Every call the session's clients make to `service`, with the parameters the caller gave."""
    calls: list[tuple[str, dict]] = []
    session.events.register(f"provide-client-params.{service}.*",
                            lambda params, model, **_: calls.append((model.name, dict(params))))
    return calls


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: object):
        yield self.data


def _as_account(account: str):
    def header(request, **_):
        request.headers["x-moto-account-id"] = account  # moto serves the request as this account
    return header


def _s3_checks_expected_owner(owners: dict[str, str]):
    """S3's own check, which moto does not make: a request naming an ExpectedBucketOwner that is not the bucket's
    owner is answered 403 Access Denied before it reaches the bucket."""
    from botocore.awsrequest import AWSResponse

    def check(request, **_):
        expected = request.headers.get("x-amz-expected-bucket-owner")
        expected = expected.decode() if isinstance(expected, bytes) else expected
        for bucket, owner in owners.items():
            if f"/{bucket}" in request.url and expected and expected != owner:
                body = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
                return AWSResponse(request.url, 403, {"Content-Type": "application/xml"}, _Body(body))
        return None
    return check


def test_every_call_to_the_artifacts_bucket_names_this_account_as_its_owner(aws, small_stack):
    session = boto3.Session(region_name="us-east-1")
    calls = _recorded(session, "s3")
    bucket = f"survey-owned-artifacts-{ACCOUNT}-us-east-1"
    deploy.deploy_stack(session, "survey-owned", small_stack["code"], {}, deploy.Plan(False))  # creates the bucket
    small_stack["code"].write_bytes(small_stack["code"].read_bytes() + b"\0")  # new code: a second upload
    deploy.deploy_stack(session, "survey-owned", small_stack["code"], {}, deploy.Plan(False))  # finds the bucket
    to_bucket = [(op, params) for op, params in calls if params.get("Bucket") == bucket]
    assert [op for op, _ in to_bucket].count("HeadBucket") == 2 and [op for op, _ in to_bucket].count("PutObject") == 2
    assert {"CreateBucket", "PutPublicAccessBlock"} <= {op for op, _ in to_bucket}
    # CreateBucket takes no owner: it fails by itself when another account holds the name
    owned = [params.get("ExpectedBucketOwner") == ACCOUNT for op, params in to_bucket if op != "CreateBucket"]
    assert all(owned), to_bucket
    stack = session.client("cloudformation").describe_stacks(StackName="survey-owned")["Stacks"][0]
    assert stack["StackStatus"].endswith("_COMPLETE")


def test_an_artifacts_bucket_another_account_holds_is_refused_and_nothing_is_written_to_it(aws, small_stack):
    bucket = f"survey-sniped-artifacts-{ACCOUNT}-us-east-1"
    other = boto3.Session(region_name="us-east-1").client("s3")
    other.meta.events.register("before-send.s3.*", _as_account(OTHER_ACCOUNT))
    other.create_bucket(Bucket=bucket)
    other.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}]}))  # the trap: anyone may write
    session = boto3.Session(region_name="us-east-1")
    session.events.register("before-send.s3.*", _s3_checks_expected_owner({bucket: OTHER_ACCOUNT}))
    with pytest.raises(deploy.DeployError, match=f"{bucket}.*another AWS account"):
        deploy.deploy_stack(session, "survey-sniped", small_stack["code"], {}, deploy.Plan(False))
    assert other.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    assert deploy.outputs(session.client("cloudformation"), "survey-sniped") == {}  # and no stack either


# ---- without AWS configuration --------------------------------------------------------------------------------

@pytest.mark.parametrize(("argv", "says", "not_said"), [
    (["--dry-run"],
     ["no AWS region", "--region", "AWS_REGION", "no AWS credentials", "AWS_PROFILE", "aws configure"], []),
    (["--dry-run", "--region", "cn-north-1"], ["no AWS credentials", "AWS_PROFILE", "aws configure"], ["region"]),
    (["--region", "cn-north-1"], ["no AWS credentials", "AWS_PROFILE", "aws configure"], ["region"]),  # a real deploy
    (["--site-url", "https://survey.example.org/"], ["no AWS region", "no AWS credentials"], []),
    (["--dry-run", "--region", "cn-north-1", "--profile", "campaign"], ["campaign", "aws configure"], []),
])
def test_without_aws_configuration_one_line_says_what_to_set(no_aws, capsys, argv, says, not_said):
    assert deploy.main(["--stack", STACK, *argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1, err
    assert all(s in err for s in says) and not any(s in err for s in not_said), err


def test_the_command_without_aws_configuration_prints_no_traceback(no_aws):
    env = {k: v for k, v in os.environ.items()}
    result = subprocess.run([sys.executable, "-m", "infra.deploy", "--stack", STACK, "--dry-run"], env=env,
                            capture_output=True, text=True, cwd=deploy.ROOT)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("deploy: no AWS region"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


# ---- CounterShards during the campaign ------------------------------------------------------------------------

OPENS = datetime(2020, 7, 22, 9, 0, tzinfo=BEIJING)


@pytest.mark.parametrize(("deployed", "wanted", "now", "refused", "note"), [
    (32, 8, OPENS, True, None),  # the opening day
    (32, 8, OPENS + timedelta(days=400), True, None),  # long after: the data still lives under 32
    (32, 31, OPENS - timedelta(hours=8), True, None),  # 01:00 on the opening day, Beijing time
    (32, 8, OPENS - timedelta(days=1), False, "before the window opens"),  # the rehearsal day
    (16, 32, OPENS + timedelta(days=3), False, "--shards 32"),  # raising is safe, and the commands must follow
    (16, 16, OPENS + timedelta(days=3), False, None),
    (16, None, OPENS + timedelta(days=3), False, None),  # not asked: the stack keeps its value
])
def test_lowering_counter_shards_once_the_window_opened_is_refused(deployed, wanted, now, refused, note):
    if refused:
        with pytest.raises(deploy.DeployError) as caught:
            deploy.check_counter_shards(deployed, wanted, OPENS, now)
        message = str(caught.value)
        assert f"CounterShards {deployed} → {wanted} refused" in message and "2020-07-22" in message
        assert f"shards {wanted}–{deployed - 1}" in message and f"--counter-shards {deployed}" in message
        assert "\n" not in message
        return
    said = deploy.check_counter_shards(deployed, wanted, OPENS, now)
    assert (said is None) if note is None else (note in said)


def _shards_stack(aws, small_stack, name: str, shards: int) -> boto3.Session:
    session = boto3.Session(region_name="us-east-1")
    session.client("cloudformation").create_stack(
        StackName=name, TemplateBody=small_stack["template"].read_text(encoding="utf-8"),
        Parameters=[{"ParameterKey": "CounterShards", "ParameterValue": str(shards)}])
    return session


def _deployed_shards(session: boto3.Session, name: str) -> str:
    stack = session.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["CounterShards"]


def _deploy_stack(aws, name: str, session: boto3.Session, *extra: str) -> deploy.Plan:
    args = deploy.parse(["--stack", name, "--region", "us-east-1", "--config", str(aws["project"] / "mkdocs.yml"),
                         "--build-dir", str(aws["build"].parent / f"build-{name}"), *extra])
    return deploy.run(args, session)


def test_a_deploy_that_lowers_counter_shards_after_the_opening_changes_nothing(aws, small_stack):
    session = _shards_stack(aws, small_stack, "survey-lower", 32)  # the sample campaign opened in 2020
    s3 = session.client("s3")
    for extra in (["--dry-run"], []):
        with pytest.raises(deploy.DeployError, match="CounterShards 32 → 8 refused"):
            _deploy_stack(aws, "survey-lower", session, "--counter-shards", "8", *extra)
    cfn = session.client("cloudformation")
    summaries = cfn.list_change_sets(StackName="survey-lower")["Summaries"]
    assert [c for c in summaries if c["StackName"] == "survey-lower"] == []  # moto lists every stack's
    assert _deployed_shards(session, "survey-lower") == "32"
    assert s3.list_objects_v2(Bucket=small_stack["site_bucket"]).get("KeyCount") == 0
    assert "survey-lower-artifacts" not in str(s3.list_buckets()["Buckets"])


def test_a_deploy_keeps_counter_shards_unless_asked_and_may_raise_it(aws, small_stack):
    session = _shards_stack(aws, small_stack, "survey-raise", 32)
    changes = _recorded(session, "cloudformation")
    _deploy_stack(aws, "survey-raise", session)  # a template default of 16 must not lower a deployed 32
    sent = [p["Parameters"] for op, p in changes if op == "CreateChangeSet"]
    assert {"ParameterKey": "CounterShards", "UsePreviousValue": True} in sent[-1]
    assert _deployed_shards(session, "survey-raise") == "32"
    plan = _deploy_stack(aws, "survey-raise", session, "--counter-shards", "64")
    assert any("CounterShards 32 → 64" in step for step in plan.steps), plan.steps
    assert _deployed_shards(session, "survey-raise") == "64"


# ---- shared form pages: one content, many keys -------------------------------------------------------------------

LINKS = 120  # attributed links, each with the public form and the pro form under it


def _shared_site(root: Path, public: bytes, pro: bytes) -> Path:
    """A built site as the generator leaves one: per link a small page of its own, and under it the two forms, each
    one file in the build cache hard-linked into every link."""
    import hashlib

    cache = root / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    forms = {}
    for folder, content in (("ai", public), ("pro/law", pro)):  # the cache is addressed by content
        forms[folder] = cache / f"{hashlib.sha256(content).hexdigest()[:16]}.html"
        forms[folder].write_bytes(content)
    site = root / "site"
    for i in range(LINKS):
        link = site / "s" / f"sponsor-{i:03d}" / "web"
        link.mkdir(parents=True, exist_ok=True)
        (link / "index.html").write_text(f"<!doctype html><title>topics of sponsor {i}</title>", encoding="utf-8")
        for folder, source in forms.items():
            page = link / folder / "index.html"
            page.parent.mkdir(parents=True, exist_ok=True)
            page.unlink(missing_ok=True)
            os.link(source, page)
    (site / "index.html").write_text("<!doctype html><title>home</title>", encoding="utf-8")
    return site


def _sync(aws, bucket: str, site: Path) -> tuple[deploy.Plan, list[tuple[str, dict]]]:
    session = boto3.Session(region_name="us-east-1")
    calls = _recorded(session, "s3")
    plan = deploy.Plan(False)
    deploy.sync(session.client("s3"), bucket, site, plan)
    deploy.invalidate(session.client("cloudfront"), aws["distribution"], plan)
    return plan, calls


def test_a_page_hard_linked_under_every_link_is_uploaded_once_and_copied_to_the_rest(aws, tmp_path, monkeypatch):
    bucket = "shared-forms"
    aws["session"].client("s3").create_bucket(Bucket=bucket)
    public, pro = b"<!doctype html><form>public " + b"x" * 50_000, b"<!doctype html><form>pro " + b"y" * 40_000
    site = _shared_site(tmp_path, public, pro)
    digests = []
    real = deploy.hashlib.file_digest
    monkeypatch.setattr(deploy.hashlib, "file_digest", lambda f, name: digests.append(f.name) or real(f, name))

    # GIVEN a first deploy: each content is sent once, every other key holding it is a server-side copy
    plan, calls = _sync(aws, bucket, site)
    files = [p for p in site.rglob("*") if p.is_file()]
    assert len(digests) == len({p.stat().st_ino for p in files}) == LINKS + 3  # one read per inode, not per link
    put = [p["Key"] for op, p in calls if op == "PutObject"]
    copied = [p for op, p in calls if op == "CopyObject"]
    assert sum(k.endswith("/ai/index.html") or k.endswith("/ai/") for k in put) == 1
    assert sum(k.endswith("/pro/law/index.html") or k.endswith("/pro/law/") for k in put) == 1
    keys = 2 * (2 * LINKS) + 2 * LINKS + 1  # two forms and the link's own page per link, each under two keys; home
    assert len(plan.uploaded) == keys and len(put) + len(copied) == keys and len(plan.copied) == len(copied)
    assert plan.bytes_uploaded == sum(len(content) for content in {p.read_bytes() for p in files})
    assert all(c["MetadataDirective"] == "REPLACE" and c["ContentType"] == "text/html; charset=utf-8"
               and c["CacheControl"] == "public, max-age=300" for c in copied)
    s3 = aws["session"].client("s3")
    page = s3.get_object(Bucket=bucket, Key="s/sponsor-077/web/pro/law/")
    assert page["Body"].read() == pro and page["ContentType"] == "text/html; charset=utf-8"
    assert plan.invalidated == []

    # WHEN one question's wording changes: the build writes the new form once and links it under every link again
    reworded = public.replace(b"public", b"PUBLIC")
    site = _shared_site(tmp_path, reworded, pro)
    plan, calls = _sync(aws, bucket, site)
    # THEN its bytes are sent once, the other keys are copies, and a few wildcards invalidate them
    put = [p["Key"] for op, p in calls if op == "PutObject"]
    assert len(put) == 1 and plan.bytes_uploaded == len(reworded)
    assert len(plan.copied) == 2 * LINKS - 1 and len(plan.uploaded) == 2 * LINKS
    assert len(plan.changed) == 2 * LINKS and plan.invalidated == ["/s/*"]
    assert s3.get_object(Bucket=bucket, Key="s/sponsor-000/web/ai/")["Body"].read() == reworded
    batches = aws["session"].client("cloudfront").list_invalidations(DistributionId=aws["distribution"])
    assert batches["InvalidationList"]["Quantity"] >= 1

    # AND an unchanged redeploy writes nothing
    plan, calls = _sync(aws, bucket, site)
    assert plan.uploaded == [] and plan.bytes_uploaded == 0 and plan.invalidated == []
    assert not [op for op, _ in calls if op in ("PutObject", "CopyObject")]


def test_a_copy_is_made_only_from_bytes_that_stay_in_place(tmp_path):
    def md5(data: bytes) -> str:
        import hashlib
        return hashlib.md5(data).hexdigest()

    site = tmp_path / "site"
    site.mkdir()
    (site / "a.html").write_bytes(b"new a")
    (site / "c.html").write_bytes(b"old a")
    # a.html holds "old a" now but is rewritten by this sync: c.html must not be copied from it
    writes, kept = deploy.changes(site, {"a.html": md5(b"old a")})
    assert [(w.key, w.source) for w in writes] == [("a.html", None), ("c.html", None)] and kept == 0
    # an object no longer built is never deleted: its bytes stay, and may be copied
    writes, _ = deploy.changes(site, {"a.html": md5(b"old a"), "gone.html": md5(b"old a")})
    assert [(w.key, w.source) for w in writes] == [("a.html", None), ("c.html", "gone.html")]


def test_invalidations_stay_few_whatever_changed():
    few = [f"/s/x-{i}/web/" for i in range(50)]
    assert deploy.invalidation_paths(few) == few  # exact while at most 50
    many = ["/index.html", *(f"/s/x-{i}/web/ai/" for i in range(5000)), "/sponsors/x/", "/assets/js/form.js"]
    assert deploy.invalidation_paths(many) == ["/assets/*", "/index.html", "/s/*", "/sponsors/*"]
    scattered = [f"/top-{i}/page-{j}.html" for i in range(16) for j in range(4)]
    assert deploy.invalidation_paths(scattered) == ["/*"]


def test_the_builds_own_dot_files_are_never_published(tmp_path):
    site = tmp_path / "site"
    for rel in (STAMPS, "index.html", "s/x/web/ai/index.html", "s/x/.staging/index.html", "s/x/web/.draft.json"):
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(rel, encoding="utf-8")
    assert [key for key, _ in deploy.files(site)] == ["index.html", "s/x/web/ai/index.html", "s/x/web/ai/"]
    writes, kept = deploy.changes(site, {})
    assert [w.key for w in writes] == ["index.html", "s/x/web/ai/index.html", "s/x/web/ai/"] and kept == 0
