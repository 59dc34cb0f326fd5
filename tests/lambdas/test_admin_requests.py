"""The secretariat's `requests` and `portal` commands against moto: list, approve (sponsors.yaml first, then the
conditional approval), reject, the overview's files, and private links issued and rotated."""

from __future__ import annotations

import csv
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import pytest

from generator.build import read
from lambdas.admin.__main__ import main
from lambdas.portal import token as tokens
from lambdas.survey.catalog import BEIJING
from lambdas.survey.sponsor_requests import Requests
from tests.conftest import ROOT
from tests.lambdas.conftest import TABLE, make_intake, payload, request

NOMINATION = {"name": "北京日报新媒体中心", "short_name": "北京日报", "kind": "media", "website": "https://bjd.example.org/",
              "province": "北京市", "contact_name": "张三", "contact_phone": "13800138000"}
T0 = datetime(2020, 7, 1, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def sponsors_file(tmp_path: Path) -> Path:
    path = tmp_path / "project" / "sponsors.yaml"
    path.parent.mkdir()
    shutil.copyfile(ROOT / "sponsors.yaml", path)
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("logo:"):
            logo = line.split(":", 1)[1].strip()
            (path.parent / logo).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / logo, path.parent / logo)
    return path


@pytest.fixture
def reqs(ddb) -> Requests:
    return Requests(ddb, TABLE)


def admin(site: Path, *args: str) -> int:
    return main(["--table", TABLE, "--site", str(site), "--shards", "4", *args])


def test_list_shows_requests_filtered_by_status_and_sponsor(reqs, campaign_catalog, capsys):
    site = campaign_catalog.parent
    a = reqs.add("beijing-ccs", "nominate", NOMINATION, now=T0)
    b = reqs.add("tianjin-ccs", "contact", {"name": "李四", "phone": "13900139000"}, now=T0 + timedelta(hours=1))
    reqs.decide("tianjin-ccs", b.id, "rejected", "请写手机号")
    assert admin(site, "requests", "list") == 0
    out = capsys.readouterr().out
    assert out.index(b.id) < out.index(a.id) and "2 request(s)" in out and "请写手机号" in out
    assert "2020-07-01 16:00" in out  # Beijing time
    assert admin(site, "requests", "list", "--status", "pending") == 0
    out = capsys.readouterr().out
    assert a.id in out and b.id not in out and "北京日报新媒体中心" in out
    assert admin(site, "requests", "list", "--sponsor", "tianjin-ccs") == 0
    assert a.id not in capsys.readouterr().out


def test_approving_a_nomination_adds_the_sponsor_then_marks_it_approved(reqs, campaign_catalog, sponsors_file, capsys):
    r = reqs.add("beijing-ccs", "nominate", NOMINATION, now=T0)
    before = sponsors_file.read_text(encoding="utf-8")
    assert admin(campaign_catalog.parent, "requests", "approve", "beijing-ccs", r.id, "--yaml", str(sponsors_file),
                 "--note", "已加入名单") == 0
    assert "beijing-ccs-media-1" in capsys.readouterr().out
    after = sponsors_file.read_text(encoding="utf-8")
    assert after.startswith(before) and "slug: beijing-ccs-media-1" in after[len(before):]
    assert read(sponsors_file).sponsors[-1].nominated_by == "beijing-ccs"
    stored = reqs.get("beijing-ccs", r.id)
    assert (stored.status, stored.reason) == ("approved", "已加入名单")
    # Approving again changes nothing
    assert admin(campaign_catalog.parent, "requests", "approve", "beijing-ccs", r.id, "--yaml", str(sponsors_file)) == 1
    assert "approved already" in capsys.readouterr().err
    assert sponsors_file.read_text(encoding="utf-8") == after


def test_a_change_the_check_refuses_keeps_the_file_and_the_request_pending(reqs, campaign_catalog, sponsors_file,
                                                                          capsys):
    # A third media unit of shanxi-nis, stored without the entry checks (as if the limit had changed meanwhile)
    r = reqs.add("shanxi-nis", "nominate", NOMINATION, now=T0)
    before = sponsors_file.read_bytes()
    assert admin(campaign_catalog.parent, "requests", "approve", "shanxi-nis", r.id, "--yaml", str(sponsors_file)) == 1
    err = capsys.readouterr().err
    assert "stays pending" in err and "already nominated 2 media" in err and "sponsors.yaml:" in err
    assert sponsors_file.read_bytes() == before
    assert reqs.get("shanxi-nis", r.id).status == "pending"


def test_a_proposed_initiator_needs_a_slug(reqs, campaign_catalog, sponsors_file, capsys):
    proposal = {k: v for k, v in NOMINATION.items() if k != "kind"} | {"name": "河北省网络安全协会"}
    r = reqs.add("beijing-ccs", "initiator", proposal, now=T0)
    site = campaign_catalog.parent
    assert admin(site, "requests", "approve", "beijing-ccs", r.id, "--yaml", str(sponsors_file)) == 1
    assert "--slug" in capsys.readouterr().err and reqs.get("beijing-ccs", r.id).status == "pending"
    assert admin(site, "requests", "approve", "beijing-ccs", r.id, "--yaml", str(sponsors_file),
                 "--slug", "hebei-cybersec") == 0
    assert read(sponsors_file).sponsors[-1].slug == "hebei-cybersec"


def test_decided_meanwhile_puts_the_file_back(reqs, campaign_catalog, sponsors_file, monkeypatch, capsys):
    r = reqs.add("beijing-ccs", "prize", {"provider": "北京计算机学会", "item": "帆布袋", "quantity": 100,
                                          "scope": "local", "note": ""}, now=T0)
    before = sponsors_file.read_bytes()
    real = Requests.decide

    def someone_else_first(self, sponsor, request_id, status, reason="", now=None):
        assert b"item: \xe5\xb8\x86\xe5\xb8\x83\xe8\xa2\x8b" in sponsors_file.read_bytes()  # applied before deciding
        real(self, sponsor, request_id, "rejected", "重复登记")
        return real(self, sponsor, request_id, status, reason, now)

    monkeypatch.setattr(Requests, "decide", someone_else_first)
    assert admin(campaign_catalog.parent, "requests", "approve", "beijing-ccs", r.id, "--yaml", str(sponsors_file)) == 1
    assert "was rejected meanwhile" in capsys.readouterr().err
    assert sponsors_file.read_bytes() == before
    assert reqs.get("beijing-ccs", r.id).status == "rejected"


def test_placements_and_contacts_change_no_file(reqs, campaign_catalog, tmp_path, capsys):
    site = campaign_catalog.parent
    p = reqs.add("beijing-ccs", "placement", {"where": "一中", "when": "2020-07-22"}, now=T0)
    c = reqs.add("beijing-ccs", "contact", {"name": "张三", "phone": "13800138000"}, now=T0)
    missing = tmp_path / "no-such.yaml"
    for r in (p, c):
        assert admin(site, "requests", "approve", "beijing-ccs", r.id, "--yaml", str(missing)) == 0
        assert reqs.get("beijing-ccs", r.id).status == "approved"
    assert not missing.exists()
    assert admin(site, "requests", "approve", "beijing-ccs", "20200101T000000Z-deadbeef") == 1
    assert "no request" in capsys.readouterr().err


def test_reject_needs_a_reason_and_decides_once(reqs, campaign_catalog, capsys):
    site = campaign_catalog.parent
    r = reqs.add("beijing-ccs", "sublink", {"channel": "poster", "key": "yizhong", "label": "一中"}, now=T0)
    with pytest.raises(SystemExit):
        admin(site, "requests", "reject", "beijing-ccs", r.id)  # --reason is required
    assert admin(site, "requests", "reject", "beijing-ccs", r.id, "--reason", "  ") == 1
    assert admin(site, "requests", "reject", "beijing-ccs", r.id, "--reason", "请用学校全称") == 0
    stored = reqs.get("beijing-ccs", r.id)
    assert (stored.status, stored.reason) == ("rejected", "请用学校全称")
    assert admin(site, "requests", "reject", "beijing-ccs", r.id, "--reason", "x") == 1
    assert "rejected already" in capsys.readouterr().err


def _csv(path: Path) -> list[dict[str, str]]:
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_overview(ddb, reqs, campaign_catalog, survey, tmp_path, capsys):
    # GIVEN samples for guangdong-infosec on day 1 and for zhejiang-cyberspace on day 3 only
    it = make_intake(ddb, campaign_catalog, survey)
    opening = datetime(2020, 7, 22, 10, 0, tzinfo=BEIJING)
    for n, (sponsor, day) in enumerate([("guangdong-infosec", 0), ("guangdong-infosec", 0), ("zhejiang-cyberspace", 2)]):
        now = opening + timedelta(days=day, minutes=n)
        assert it.submit(request(payload(it, seed=n, now=now, sponsor=sponsor), now)).status == 200
    # AND a placement report, two approved contacts of one sponsor, a rejected one, and pending requests
    placed = reqs.add("beijing-ccs", "placement", {"where": "一中", "when": "2020-07-22"}, now=T0)
    reqs.decide("beijing-ccs", placed.id, "approved")
    first = reqs.add("beijing-ccs", "contact", {"name": "张三", "phone": "13800138000"}, now=T0)
    second = reqs.add("beijing-ccs", "contact", {"name": "=王五", "phone": "13700137000"}, now=T0 + timedelta(hours=1))
    refused = reqs.add("tianjin-ccs", "contact", {"name": "李四", "phone": "13900139000"}, now=T0)
    reqs.decide("beijing-ccs", first.id, "approved", now=T0 + timedelta(days=1))
    reqs.decide("beijing-ccs", second.id, "approved", now=T0 + timedelta(days=2))
    reqs.decide("tianjin-ccs", refused.id, "rejected", "x")
    old = reqs.add("tianjin-ccs", "prize", {"provider": "a", "item": "b", "quantity": 1, "scope": "local"},
                   now=datetime.now(timezone.utc) - timedelta(days=5))
    new = reqs.add("beijing-ccs", "sublink", {"channel": "poster", "key": "a", "label": "b"})
    out = tmp_path / "overview"
    # WHEN the secretariat asks for the overview after day 2
    assert admin(campaign_catalog.parent, "requests", "overview", "--day", "2", "--out", str(out)) == 0
    printed = capsys.readouterr().out
    # THEN
    no_samples = {r["slug"] for r in _csv(out / "no-samples.csv")}
    assert "guangdong-infosec" not in no_samples and "zhejiang-cyberspace" in no_samples and "beijing-ccs" in no_samples
    no_placement = {r["slug"] for r in _csv(out / "no-placement.csv")}
    assert "beijing-ccs" not in no_placement and "tianjin-ccs" in no_placement
    contacts = {r["slug"]: r for r in _csv(out / "contacts.csv")}
    assert (contacts["beijing-ccs"]["联系人"], contacts["beijing-ccs"]["电话"]) == ("'=王五", "13700137000")
    assert contacts["tianjin-ccs"]["联系人"] == ""
    pending = _csv(out / "pending.csv")
    assert [r["请求编号"] for r in pending] == [old.id, new.id] and pending[0]["已等待（天）"] == "5"
    assert f"{len(no_samples)} with no samples received through day 2 (2020-07-23)" in printed
    assert "2 pending request(s): 1 waiting 5 day(s), 1 waiting 0 day(s)" in printed


# -- private links --------------------------------------------------------------------------------------------------

@pytest.fixture
def portal_secret(ddb) -> str:
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    return sm.create_secret(Name="survey-portal-key", SecretString="k" * 48)["ARN"]


def _links(text: str) -> dict[str, str]:
    return {line.split()[0]: line.split()[-1] for line in text.splitlines() if "/my/#" in line}


def test_links_are_issued_once_and_rotation_revokes_the_old_one(ddb, portal_secret, campaign_catalog, tmp_path,
                                                                 capsys, monkeypatch):
    site = campaign_catalog.parent
    monkeypatch.setenv("SURVEY_PORTAL_KEY_SECRET", portal_secret)
    out = tmp_path / "links.csv"
    assert admin(site, "portal", "links", "--sponsor", "beijing-ccs", "--sponsor", "tianjin-ccs", "--out", str(out)) == 0
    links = _links(capsys.readouterr().out)
    assert set(links) == {"beijing-ccs", "tianjin-ccs"}
    assert links["beijing-ccs"].startswith("https://survey.example.org/my/#beijing-ccs.1.")
    generations = tokens.Generations(ddb, TABLE)
    key = b"k" * 48
    old = links["beijing-ccs"].split("#", 1)[1]
    assert generations.admit(key, old, datetime(2020, 7, 25, tzinfo=BEIJING)).slug == "beijing-ccs"
    assert [r["slug"] for r in _csv(out)] == ["beijing-ccs", "tianjin-ccs"]
    # Issuing again gives the same link: nothing is revoked
    assert admin(site, "portal", "links", "--sponsor", "beijing-ccs") == 0
    assert _links(capsys.readouterr().out)["beijing-ccs"] == links["beijing-ccs"]
    # Rotation revokes it
    assert admin(site, "portal", "rotate", "beijing-ccs", "--portal-secret", "survey-portal-key") == 0
    new = capsys.readouterr().out.strip().splitlines()[-1].split("#", 1)[1]
    assert new.startswith("beijing-ccs.2.")
    with pytest.raises(tokens.TokenError) as revoked:
        generations.admit(key, old, datetime(2020, 7, 25, tzinfo=BEIJING))
    assert revoked.value.reason == "revoked"
    assert generations.admit(key, new, datetime(2020, 7, 25, tzinfo=BEIJING)).generation == 2
    # tianjin-ccs keeps its link
    assert generations.admit(key, links["tianjin-ccs"].split("#", 1)[1], datetime(2020, 7, 25, tzinfo=BEIJING))


def test_links_for_every_sponsor_by_default(ddb, portal_secret, campaign_catalog, capsys):
    assert admin(campaign_catalog.parent, "portal", "links", "--portal-secret", portal_secret) == 0
    from lambdas.survey import catalog

    assert len(_links(capsys.readouterr().out)) == len(catalog.load(campaign_catalog).sponsors)


def test_links_say_what_is_missing(ddb, portal_secret, campaign_catalog, capsys, monkeypatch):
    site = campaign_catalog.parent
    monkeypatch.delenv("SURVEY_PORTAL_KEY_SECRET", raising=False)
    assert admin(site, "portal", "links") == 1
    assert "--portal-secret" in capsys.readouterr().err
    assert admin(site, "portal", "rotate", "no-such-sponsor", "--portal-secret", portal_secret) == 1
    assert "no sponsor no-such-sponsor" in capsys.readouterr().err
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    sm.create_secret(Name="short", SecretString="too short")
    assert admin(site, "portal", "links", "--portal-secret", "short") == 1
    assert "at least 32 characters" in capsys.readouterr().err
    assert admin(site, "portal", "links", "--portal-secret", "absent") == 1
    assert "cannot read secret absent" in capsys.readouterr().err
