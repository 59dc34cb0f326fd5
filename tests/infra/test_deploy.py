"""The deploy command's logic against moto's server standing in for S3, CloudFront and CloudFormation: the built
site is uploaded, a second run uploads nothing, a one-sponsor edit uploads only that sponsor's files."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import pytest

from infra import deploy
from lambdas import local
from tests.conftest import CAMPAIGN, SMALL_SPONSORS, write_project

pytestmark = pytest.mark.e2e
STACK = "survey-test"


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    """moto's server with a stack whose outputs name a bucket and a distribution, as the real stack's do."""
    with local.database() as url:
        env = {"AWS_ENDPOINT_URL": url, "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test",
               "AWS_SECRET_ACCESS_KEY": "test"}
        mp = pytest.MonkeyPatch()
        for k, v in env.items():
            mp.setenv(k, v)
        session = boto3.Session(region_name="us-east-1")
        session.client("s3").create_bucket(Bucket="survey-site")
        dist = session.client("cloudfront").create_distribution(DistributionConfig={
            "CallerReference": "test", "Comment": "", "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [{"Id": "site", "DomainName": "survey-site.s3.amazonaws.com",
                                                  "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
            "DefaultCacheBehavior": {"TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https",
                                     "MinTTL": 0, "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                                     "TrustedSigners": {"Enabled": False, "Quantity": 0}},
        })["Distribution"]["Id"]
        session.client("cloudformation").create_stack(StackName=STACK, TemplateBody=json.dumps({
            "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {"SiteUrl": {"Value": "https://d111111abcdef8.cloudfront.net/"},
                        "SiteBucket": {"Value": "survey-site"}, "DistributionId": {"Value": dist}},
        }))
        project = write_project(tmp_path_factory.mktemp("deploy") / "project", CAMPAIGN + SMALL_SPONSORS)
        yield {"session": session, "project": project, "distribution": dist, "build": project.parent / "build"}
        mp.undo()


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
    assert built <= set(objects) and len(plan.uploaded) == len(objects)
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
    assert {"lambdas/submit/app.py", "lambdas/sponsors.json", "lambdas/questionnaires.json", "lambdas/openapi.json"} <= names
    assert any(n.startswith("aws_lambda_powertools/") for n in names)
    assert not any(n.startswith(("lambdas/admin/", "yaml/", "moto/")) or n == "lambdas/local.py" for n in names)
    assert deploy.package(aws["build"] / "site", tmp_path / "again").read_bytes() == zipped.read_bytes()
    # The packaged function starts from its own folder with its bundled catalog
    code = ("import os; os.environ.update(SURVEY_TABLE='t', SURVEY_SECRET='x'*32, AWS_DEFAULT_REGION='us-east-1');"
            "import lambdas.submit.app as a; it = a._intake(); print(a.__file__, len(it.catalog.sponsors))")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path / "lambda", capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    path, sponsors = result.stdout.split()
    assert Path(path).is_relative_to(tmp_path / "lambda") and int(sponsors) == 3
