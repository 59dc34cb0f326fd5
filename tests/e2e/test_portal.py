"""A sponsor's private page at a phone's width, against the real local stack (`python -m generator serve
--rehearse`) and the secretariat's real command: the secretariat issues a link; the sponsor opens it, is refused a
third media unit at entry, nominates an enterprise, asks for a sub-link, reports a placement with a screenshot and
registers a prize; the secretariat approves them into a copy of sponsors.yaml, and the next build publishes the
sub-link's page and QR code and the new unit's page. Its numbers are the counts API's. Past the deadlines, the
page says so and the server refuses. A tampered, expired or revoked link opens nothing and changes nothing."""

from __future__ import annotations

import difflib
import io
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
import zxingcpp
from PIL import Image

from lambdas.counts.app import FRESH_SECONDS
from lambdas.portal import token as tokens
from tests.conftest import CAMPAIGN, mkdocs_build, write_project
from tests.e2e.test_form import _answer_everything
from tests.helpers import rehearsal as serve
from tests.e2e.waiting import until

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.e2e

BEIJING_NOW = datetime.now(timezone.utc) + timedelta(hours=8)


def _campaign(links: date, prizes: date, window: tuple[date, date] | None = None) -> str:
    """The sample's campaign with these deadlines (and window), whatever the sample's own say."""
    text = re.sub(r"(?m)^  deadlines:\n(?:    .*\n)+", "", CAMPAIGN.rstrip("\n") + "\n")
    if window:
        text = re.sub(r"(?m)^  opens: .*$", f"  opens: {window[0]} 09:00", text)
        text = re.sub(r"(?m)^  closes: .*$", f"  closes: {window[1]} 24:00", text)
    return text + f"  deadlines:\n    links: {links}\n    prizes: {prizes}\n"


def _campaign_open_now() -> str:
    """The window around today and the deadlines still ahead, so the sub-link and prize forms are open whatever day
    the test runs (the rehearsal moves only the window)."""
    first, last = BEIJING_NOW.date() - timedelta(days=1), BEIJING_NOW.date() + timedelta(days=8)
    return _campaign(last, last, (first, last))


# Comments and a flow-style list on purpose: approving must keep both as they are.
SPONSORS = """
sponsors:
  # An initiator that has nominated two media units already: its limit.
  - slug: guangdong-cyber
    name: 广东省网络空间安全协会
    short_name: 广东网安协会
    kind: initiator
    province: 广东省
    website: https://guangdong-cyber.example.org/
    channels: [website, wechat, poster]   # the poster channel is where its schools' sub-links go
  - slug: shenzhen-media
    name: 深圳融媒体中心
    short_name: 深圳融媒
    kind: media
    province: 广东省
    nominated_by: guangdong-cyber
    channels: [website, app]
  - slug: guangzhou-daily
    name: 广州日报社
    short_name: 广州日报
    kind: media
    province: 广东省
    nominated_by: guangdong-cyber
    channels: [website]
  # The initiator whose links are tampered with, left to expire and rotated.
  - slug: beijing-ccs
    name: 北京市计算机学会
    short_name: 北京计算机学会
    kind: initiator
    province: 北京市
    channels: [website, wechat]
"""

ENTERPRISE = {"name": "广东粤安科技有限公司", "short_name": "粤安科技", "website": "https://yuean.example.com/",
              "province": "广东省", "contact_name": "李明", "contact_phone": "13800138000"}
NEW_SLUG = "yuean-tech"
SUBLINK = {"channel": "poster", "key": "yizhong", "label": "广州市第一中学"}
CONTACT = {"name": "陈静", "phone": "020-87654321", "email": "chenjing@example.org"}
INITIATOR = {"name": "深圳市网络空间安全协会", "short_name": "深圳网安协会", "website": "https://sz-cyber.example.org/",
             "province": "广东省", "contact_name": "赵六", "contact_phone": "0755-12345678"}
REJECTION = "请由该协会直接联系秘书处报名"
PRIZE = {"provider": "广东省网络空间安全协会", "item": "定制保温杯", "quantity": "50"}


# WeChat's browser on Android, where most sponsors' staff will open the link their secretariat sent them.
WECHAT = ("Mozilla/5.0 (Linux; Android 12; V2118A Build/SP1A.210812.003; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5023 MMWEBSDK/20230405 MMWEBID/1234 "
          "MicroMessenger/8.0.35.2360(0x2800235B) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with serve(write_project(tmp_path_factory.mktemp("portal") / "project", _campaign_open_now() + SPONSORS)) as s:
        yield s


@pytest.fixture(scope="module")
def late_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The sample's own deadlines (2020): long passed, while the rehearsal's window is open today."""
    campaign = _campaign(date(2020, 7, 10), date(2020, 7, 15))
    with serve(write_project(tmp_path_factory.mktemp("late") / "project", campaign + SPONSORS)) as s:
        yield s


def new_phone(browser: Any, stack: dict[str, Any]) -> Any:
    """A page in WeChat on a phone 360 px wide; `page.outside` lists what it asked of any other host."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="zh-CN", user_agent=WECHAT)
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((stack["url"], "data:")) else None)
    page.outside = outside  # type: ignore[attr-defined]
    return page


@pytest.fixture
def phone(browser: Any, stack: dict[str, Any]) -> Iterator[Any]:
    page = new_phone(browser, stack)
    yield page
    page.context.close()


def admin(stack: dict[str, Any], *argv: str) -> str:
    """The secretariat's command against the running stack, as a fresh process; its standard output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    # No AWS settings, as on the secretariat's laptop: the portal key's secret is named, the endpoint is the stack's
    env.update(AWS_EC2_METADATA_DISABLED="true", SURVEY_PORTAL_KEY_SECRET=stack["portal_secret"])
    result = subprocess.run(
        [sys.executable, "-m", "lambdas.admin", "--endpoint-url", stack["database_url"], "--table", "survey-local",
         "--site", str(stack["project"] / "site"), *argv],
        env=env, capture_output=True, text=True, timeout=120, cwd=stack["project"],
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _portal_secret(stack: dict[str, Any]) -> dict[str, Any]:
    """The stack's portal key (a fresh random one in its local Secrets Manager)."""
    client = boto3.client("secretsmanager", endpoint_url=stack["database_url"], region_name="us-east-1",
                          aws_access_key_id="local", aws_secret_access_key="local")
    return client.get_secret_value(SecretId=stack["portal_secret"])


def link_of(stack: dict[str, Any], slug: str) -> str:
    out = admin(stack, "portal", "links", "--sponsor", slug)
    found = re.findall(re.escape(stack["url"]) + r"my/#([A-Za-z0-9._-]+)", out)
    assert len(found) == 1, out
    return stack["url"] + "my/#" + found[0]


def table(stack: dict[str, Any]) -> list[dict[str, Any]]:
    items = stack["db"].scan(TableName="survey-local", ConsistentRead=True)["Items"]
    return sorted(({k: next(iter(v.values())) for k, v in i.items()} for i in items), key=lambda i: (i["pk"], i["sk"]))


def requests_of(stack: dict[str, Any], slug: str) -> list[dict[str, Any]]:
    return [i for i in table(stack) if i["pk"] == "R" and i["sk"].startswith(slug + "#")]


def uploaded(stack: dict[str, Any], key: str) -> tuple[str, bytes]:
    """The type and bytes of an object in the stack's upload bucket (moto's S3, at the database's address)."""
    s3 = boto3.client("s3", endpoint_url=stack["database_url"], region_name="us-east-1",
                      aws_access_key_id="local", aws_secret_access_key="local")
    for bucket in s3.list_buckets()["Buckets"]:
        try:
            found = s3.get_object(Bucket=bucket["Name"], Key=key)
        except s3.exceptions.NoSuchKey:
            continue
        return found["ContentType"], found["Body"].read()
    raise AssertionError(f"{key} is in no bucket")


def fill(page: Any, form: str, values: dict[str, str]) -> None:
    for name, value in values.items():
        field = page.locator(f"#{form}-{name}")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


def submitted(page: Any, form: str) -> str:
    """Send a form and wait for its answer; the form's status line."""
    page.locator(f"#f-{form} button[type=submit]").click()
    until(page, f"/已提交|请|未成功|失败/.test(document.getElementById('{form}-status').textContent)"
                f" && !document.getElementById('{form}-status').textContent.startsWith('正在')")
    return page.locator(f"#{form}-status").inner_text()


def screenshot_png(path: Path) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 40), (11, 60, 140)).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


def opened(page: Any, link: str) -> None:
    page.goto(link)
    until(page, "!document.getElementById('content').hidden || !document.getElementById('gate').hidden")


def shows_its_page(page: Any, stack: dict[str, Any]) -> bool:
    """Whether the page opened as the sponsor's; if not, says why (the refusal and the stack's last lines)."""
    assert page.locator("#content").is_visible(), page.locator("#gate").inner_text() + "".join(stack["log"][-40:])
    return True


def test_a_sponsor_asks_from_its_page_and_the_next_build_publishes_what_the_secretariat_approves(phone, stack, tmp_path):
    page = phone
    # GIVEN the private link the secretariat issued
    link = link_of(stack, "guangdong-cyber")
    secret = link.split("#", 1)[1]
    opened(page, link)
    # THEN the page says whose it is, and the token left the address bar for this tab's storage
    assert shows_its_page(page, stack)
    assert page.locator("#who").inner_text() == "广东省网络空间安全协会 · 发起单位"
    assert page.title().startswith("广东省网络空间安全协会 · 单位专属页面")
    assert page.url == stack["url"] + "my/"
    assert page.evaluate("sessionStorage.getItem('portal-token')") == secret
    assert page.locator("meta[name=robots]").get_attribute("content").startswith("noindex")
    assert "/my/" not in (stack["project"] / "site" / "sitemap.xml").read_text(encoding="utf-8")
    assert "尚未截止" in page.locator("#deadlines").inner_text()
    assert "媒体 2/2" in page.locator("#used").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # Every control has a name a screen reader reads out: its label, or for a choice the label around it
    assert page.evaluate("""[...document.querySelectorAll('#content input, #content select')].filter(e =>
        e.type === 'radio' ? !e.closest('label') : !(e.labels && e.labels.length)).map(e => e.id)""") == []
    until(page, "document.getElementById('n-updated').textContent.startsWith('数据更新于')")  # its numbers too

    # WHEN it nominates a third media unit: refused at entry, the reason beside the field that is wrong
    fill(page, "nominate", {**ENTERPRISE, "name": "南方都市报社", "short_name": "南方都市报"})
    page.locator("#nominate-kind input[value=media]").check()
    assert "请按提示修改" in submitted(page, "nominate")
    assert "最多推荐 2 家" in page.locator("#nominate-kind-err").inner_text()
    assert page.locator("#nominate-kind").get_attribute("aria-invalid") == "true"
    assert "nominate-kind-err" in page.locator("#nominate-kind").get_attribute("aria-describedby")
    assert page.evaluate("document.activeElement.name") == "kind"
    assert requests_of(stack, "guangdong-cyber") == []
    # AND a valid enterprise, a sub-link, a placement with a screenshot, a prize, its contact and a new initiator
    # are taken
    fill(page, "nominate", ENTERPRISE)
    page.locator("#nominate-kind input[value=enterprise]").check()
    assert "已提交" in submitted(page, "nominate")
    assert page.locator("#nominate-kind").get_attribute("aria-invalid") is None
    fill(page, "sublink", SUBLINK)
    assert "已提交" in submitted(page, "sublink")
    fill(page, "placement", {"where": "https://guangdong-cyber.example.org/news/survey.html",
                             "when": BEIJING_NOW.date().isoformat(), "channel": "website"})
    page.locator("#placement-upload").set_input_files(str(screenshot_png(tmp_path / "placement.png")))
    assert "已提交" in submitted(page, "placement")
    fill(page, "prize", PRIZE)
    page.locator("#prize-scope input[value=national]").check()
    assert "已提交" in submitted(page, "prize")
    fill(page, "contact", CONTACT)
    assert "已提交" in submitted(page, "contact")
    fill(page, "initiator", INITIATOR)
    assert "已提交" in submitted(page, "initiator")
    # THEN each is stored pending, and the page lists them with their status
    stored = {r["kind"]: r for r in requests_of(stack, "guangdong-cyber")}
    assert sorted(stored) == ["contact", "initiator", "nominate", "placement", "prize", "sublink"]
    assert {r["status"] for r in stored.values()} == {"pending"}
    assert stored["placement"]["upload"].startswith("placements/guangdong-cyber/")
    assert uploaded(stack, stored["placement"]["upload"]) == ("image/png", (tmp_path / "placement.png").read_bytes())
    assert json.loads(stored["sublink"]["fields"]) == SUBLINK
    until(page, "document.querySelectorAll('#t-requests tbody tr').length === 6")
    assert page.locator("#t-requests .st-pending").count() == 6
    assert page.title().count("广东省网络空间安全协会") == 1  # named once, however often the page refreshed
    assert page.locator("#used").inner_text().startswith("媒体 2/2 家，企业 1/3")
    # Nothing but the site and the upload bucket (a local server here) was asked for anything
    assert all(u.startswith("http://127.0.0.1:") for u in page.outside), page.outside

    # WHEN the secretariat approves them into a copy of sponsors.yaml (the project here is a temporary copy), and
    # turns the proposed initiator down
    sponsors_yaml = stack["project"] / "sponsors.yaml"
    before = sponsors_yaml.read_text(encoding="utf-8")
    for kind, extra in (("nominate", ["--slug", NEW_SLUG]), ("sublink", []), ("placement", []), ("prize", []),
                        ("contact", [])):
        admin(stack, "requests", "approve", "guangdong-cyber", stored[kind]["id"], *extra, "--yaml", str(sponsors_yaml))
    admin(stack, "requests", "reject", "guangdong-cyber", stored["initiator"]["id"], "--reason", REJECTION)
    after = sponsors_yaml.read_text(encoding="utf-8")
    # THEN the table says so, and so does the page, with the secretariat's reason
    assert sorted(r["status"] for r in requests_of(stack, "guangdong-cyber")) == ["approved"] * 5 + ["rejected"]
    page.reload()
    until(page, "document.querySelectorAll('#t-requests .st-approved').length === 5")
    assert REJECTION in page.locator("#t-requests tr:has(.st-rejected)").inner_text()
    assert page.locator("[data-f=contact]").inner_text() == f"{CONTACT['name']}，{CONTACT['phone']}"
    # AND sponsors.yaml differs only by the new entries: no line removed or changed, comments intact
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    assert [d for d in diff if d.startswith(("- ", "? "))] == []
    added = "\n".join(d[2:] for d in diff if d.startswith("+ "))
    for text in (NEW_SLUG, ENTERPRISE["name"], "yizhong", SUBLINK["label"], PRIZE["item"]):
        assert text in added
    assert INITIATOR["name"] not in after
    old, new = yaml.safe_load(before), yaml.safe_load(after)
    assert new["campaign"] == old["campaign"]
    gd_old, gd_new = old["sponsors"][0], new["sponsors"][0]
    assert gd_new.pop("sublinks") == [SUBLINK]
    assert gd_new.pop("prizes") == [{"provider": PRIZE["provider"], "item": PRIZE["item"], "quantity": 50,
                                     "scope": "national"}]
    assert gd_new == gd_old and new["sponsors"][1:4] == old["sponsors"][1:4]
    [unit] = new["sponsors"][4:]
    assert (unit["slug"], unit["name"], unit["kind"], unit["nominated_by"]) == (NEW_SLUG, ENTERPRISE["name"], "enterprise",
                                                                               "guangdong-cyber")
    # Contacts are personal data: they stay in the table
    assert not any(v in after for v in (ENTERPRISE["contact_name"], ENTERPRISE["contact_phone"], *CONTACT.values()))

    # WHEN the copy is built again
    site = tmp_path / "site"
    result = mkdocs_build(stack["project"], "-d", str(site), env={"SURVEY_SITE_URL": stack["url"]})
    assert result.returncode == 0, result.stderr
    # THEN the sub-link has its page and a QR code that decodes to it, and the new unit has its page
    sub_url = stack["url"] + "s/guangdong-cyber/poster.yizhong/"
    entry = (site / "s/guangdong-cyber/poster.yizhong/index.html").read_text(encoding="utf-8")
    assert '<meta name="survey-channel" content="poster.yizhong">' in entry
    qr = site / "sponsors/guangdong-cyber/kit/guangdong-cyber-qr-poster.yizhong.png"
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(qr))] == [sub_url]
    assert sub_url in (site / "sponsors/guangdong-cyber/index.html").read_text(encoding="utf-8")
    assert ENTERPRISE["name"] in (site / f"sponsors/{NEW_SLUG}/index.html").read_text(encoding="utf-8")
    catalog = json.loads((site / "sponsors.json").read_text(encoding="utf-8"))
    assert "poster.yizhong" in catalog["sponsors"]["guangdong-cyber"]["channels"]
    assert catalog["sponsors"][NEW_SLUG]["nominated_by"] == "guangdong-cyber"


def test_its_numbers_are_the_counts_apis(browser, phone, stack):
    # GIVEN an answer by one of its links, sent by the plain form (no proof of work: received, not valid)
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN", java_script_enabled=False)
    form = context.new_page()
    form.goto(stack["url"] + "s/beijing-ccs/wechat/")
    _answer_everything(form)  # from 浙江省
    form.locator("#submit").click()
    form.wait_for_url("**/thanks/")
    context.close()
    with urllib.request.urlopen(stack["url"] + "api/counts/sponsors/beijing-ccs", timeout=10) as response:
        public = json.load(response)
    assert public["total"]["received"] == 1 and public["channels"]["wechat"]["received"] == 1
    # WHEN the sponsor opens its page
    page = phone
    opened(page, link_of(stack, "beijing-ccs"))
    assert shows_its_page(page, stack)
    # THEN, once its container reads the counters again (at most FRESH_SECONDS after an earlier test's read), it
    # shows what the counts API publishes, and where its answers came from
    deadline = time.monotonic() + FRESH_SECONDS + 15
    while True:
        until(page, "document.getElementById('n-updated').textContent.startsWith('数据更新于')")
        if page.locator("[data-n=received]").inner_text() == "1" or time.monotonic() > deadline:
            break
        time.sleep(2)
        page.reload()
    assert page.locator("[data-n=received]").inner_text() == "1"

    def rows(table: str) -> list[list[str]]:
        return [r.locator("td").all_inner_texts()[:2] for r in page.locator(f"#{table} tbody tr").all()]

    assert rows("t-days") == [[f"{int(d['day'][5:7])}月{int(d['day'][8:])}日", str(d["received"])] for d in public["days"]]
    labels = json.loads((stack["project"] / "site" / "sponsors.json").read_text(encoding="utf-8"))["channels"]
    assert dict(rows("t-channels")) == {labels[c]: str(v["received"]) for c, v in public["channels"].items()}
    assert rows("t-provinces") == [["浙江省", "1"]]
    assert page.locator("#t-group tfoot td").first.inner_text() == "1"
    # Its valid counts wait for the private policy (settled days: none yet, the rehearsal opened today), and the page
    # says when they come
    assert page.locator("[data-n=valid]").inner_text() == "待公布"
    assert "当天结束 24 小时后公布" in page.locator("#n-valid-note").inner_text()


def test_a_support_unit_gets_its_page_without_the_initiators_forms(phone, stack):
    opened(phone, link_of(stack, "shenzhen-media"))
    assert shows_its_page(phone, stack)
    assert phone.locator("#who").inner_text().startswith("深圳融媒体中心 · ")
    assert not phone.locator("#f-nominate").is_visible() and not phone.locator("#f-initiator").is_visible()
    assert phone.locator("#f-sublink").is_visible() and phone.locator("#f-placement").is_visible()
    catalog = json.loads((stack["project"] / "site" / "sponsors.json").read_text(encoding="utf-8"))
    mine = [catalog["channels"][c] for c in catalog["sponsors"]["shenzhen-media"]["channels"]]
    assert phone.locator("#placement-channel option").all_inner_texts() == ["未指定", *mine]  # its own links only


def _tampered(stack: dict[str, Any], slug: str) -> str:
    link = link_of(stack, slug)
    last = link[-1]
    return link[:-1] + ("A" if last != "A" else "B")  # one character of the signature changed


def _expired(stack: dict[str, Any], slug: str) -> str:
    generation = next(i for i in table(stack) if i["pk"] == f"P#{slug}")["generation"]
    key = _portal_secret(stack)["SecretString"]
    return stack["url"] + "my/#" + tokens.sign(key, slug, int(generation), int(time.time()) - 60)


def _revoked(stack: dict[str, Any], slug: str) -> str:
    old = link_of(stack, slug)
    out = admin(stack, "portal", "rotate", slug)
    assert old.split("#")[1] not in out and re.search(re.escape(stack["url"]) + r"my/#" + re.escape(slug) + r"\.", out)
    return old


def _missing(stack: dict[str, Any], slug: str) -> str:
    return stack["url"] + "my/"


@pytest.mark.parametrize("make", [_tampered, _expired, _revoked, _missing], ids=lambda f: f.__name__.strip("_"))
def test_a_bad_link_opens_nothing_and_changes_nothing(phone, stack, make):
    page = phone
    bad = make(stack, "beijing-ccs")
    before = table(stack)
    # WHEN the page is opened with it
    opened(page, bad)
    # THEN it refuses, says why and whom to ask, and shows nothing of the sponsor's
    gate = page.locator("#gate")
    assert gate.is_visible() and not page.locator("#content").is_visible()
    assert "秘书处" in gate.inner_text() and "周贵招" in gate.inner_text() and "13632357687" in gate.inner_text()
    assert "北京市计算机学会" not in page.content()
    assert page.evaluate("sessionStorage.getItem('portal-token')") is None
    # AND the API takes nothing from it either
    token = bad.split("#", 1)[1] if "#" in bad else ""
    status = page.evaluate(
        """t => fetch('../api/portal/requests', {method: 'POST', headers: {'content-type': 'application/json',
             'x-portal-token': t}, body: JSON.stringify({kind: 'contact', fields: {name: '王五', phone: '13900000000'}})})
             .then(r => r.status)""", token)
    assert status == 403
    assert table(stack) == before
    # A rotated sponsor's new link works
    if make is _revoked:
        new = link_of(stack, "beijing-ccs")
        fresh = page.context.new_page()
        opened(fresh, new)
        assert fresh.locator("#who").inner_text() == "北京市计算机学会 · 发起单位"
        # and so does pasting it into the tab that refused the old one (only the fragment changes there)
        with page.expect_event("load"):
            page.goto(new)
        until(page, "document.getElementById('who').textContent.startsWith('北京市计算机学会')")


def test_after_the_deadlines_the_page_says_so_and_the_forms_are_closed(browser, late_stack):
    page = new_phone(browser, late_stack)
    opened(page, link_of(late_stack, "guangdong-cyber"))
    assert shows_its_page(page, late_stack)
    deadlines = page.locator("#deadlines").inner_text()
    assert "子链接申请：7月10日24时前 已截止" in deadlines and "奖品登记：7月15日24时前 已截止" in deadlines
    for form, kind in (("sublink", "links"), ("prize", "prizes")):
        assert page.locator(f"#f-{form} button[type=submit]").is_disabled()
        assert "截止，不再接受新的申请" in page.locator(f'#f-{form} [data-deadline="{kind}"]').inner_text()
    # The other requests stay open
    assert page.locator("#f-placement button[type=submit]").is_enabled()
    # AND the server refuses a late sub-link as well, naming the field
    answer = page.evaluate(
        """t => fetch('../api/portal/requests', {method: 'POST', headers: {'content-type': 'application/json',
             'x-portal-token': t}, body: JSON.stringify({kind: 'sublink', fields: {channel: 'poster', key: 'late',
             label: '迟到的学校'}})}).then(r => r.json().then(b => [r.status, b.error, b.field]))""",
        page.evaluate("sessionStorage.getItem('portal-token')"))
    assert answer == [422, "deadline", "channel"]
    # AND a page opened before a deadline and sent after it shows the refusal at the field the server names
    page.evaluate("document.querySelector('#f-prize button').disabled = false")
    fill(page, "prize", PRIZE)
    page.locator("#prize-scope input[value=local]").check()
    assert "请按提示修改" in submitted(page, "prize")
    assert "截止时间" in page.locator("#prize-item-err").inner_text()
    assert page.evaluate("document.activeElement.id") == "prize-item"
    assert requests_of(late_stack, "guangdong-cyber") == []
    page.context.close()
