"""Render every generated page from the campaign model: hub pages, sponsor pages, entry pages, redirects.

Pages come out as strings keyed by their path in the docs tree. Sponsor-supplied text is HTML-escaped by Jinja's
autoescape, and page bodies are raw HTML blocks so Markdown never reinterprets a name as formatting.
"""

from __future__ import annotations

import base64
import functools
import json
import posixpath
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import escape

from typing import TYPE_CHECKING, NamedTuple

from lambdas.survey.catalog import UNATTRIBUTED
from lambdas.survey.questionnaire import Questionnaire, Survey, Topic, form_id
from lambdas.survey.rules import Rules

from . import forms, links
from .cache import key
from .regions import PROVINCES
from .model import Campaign, Sponsor, SponsorList

if TYPE_CHECKING:
    from .records import SponsorAssets

CAMPAIGN_ENTRY = "survey/"  # the questionnaires as the campaign itself offers them, attributed to no sponsor
PORTAL_PAGE = "my/index.html"
HUB_PAGES = ("index.md", "initiators.md", "supporters.md", "slogans.md", "materials.md", "progress.md", "rules.md",
             "method.md")


class Page(NamedTuple):
    """A generated page: `front` is Markdown front matter (None for a static HTML file), `body` its HTML."""

    uri: str  # path inside the docs tree, e.g. "sponsors/foo/index.md"
    body: str
    front: str | None = None

    @property
    def source(self) -> str:
        """What the docs tree sees: for a Markdown page only its front matter, since the body is already HTML."""
        return self.body if self.front is None else self.front


def rel(target: str, page_dir: str) -> str:
    """`target` (a site path) relative to the directory URL `page_dir`, so the site works under any prefix."""
    if page_dir and target.startswith(page_dir):  # the common case: a file below the page, no path arithmetic
        return target[len(page_dir):] or "./"
    result = posixpath.relpath(target, page_dir or ".")
    return result + "/" if target.endswith("/") and not result.endswith("/") else result


def _env(c: Campaign) -> Environment:
    env = Environment(
        loader=PackageLoader("generator", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
    )
    env.filters["rel"] = rel
    env.filters["snippet"] = lambda entry: snippet(c, entry)
    return env


def _front(title: str, description: str, **extra: object) -> str:
    # Front-matter strings are pre-escaped: the theme prints page titles and descriptions without escaping.
    meta = {"title": str(escape(title)), "description": str(escape(description)), **extra}
    # JSON is valid YAML and many times faster to write than PyYAML's emitter.
    return "---\n" + json.dumps(meta, ensure_ascii=False) + "\n---\n\n"


def press_release(sl: SponsorList, sponsor: Sponsor) -> str:
    c = sl.campaign
    return c.press_release.format(
        sponsor=sponsor.name, short_name=sponsor.short_name, role=sponsor.kind_label,
        link=links.entry_url(c, sponsor.slug, links.snippet_channel(c, sponsor)),
        campaign=c.name, year=c.year, opens=c.opens_text, closes=c.closes_text, opens_short=c.opens_short,
        closes_short=c.closes_short, days=c.days,
    ).strip()


def snippet(c: Campaign, entry: dict, url: str | None = None) -> str:
    """The HTML link sample (链接样例) of one entry image: the image, linked to the sponsor's attributed URL (the
    entry's own channel unless `url` names another)."""
    size = entry["size"]
    return (
        f'<a href="{escape(url or entry["url"])}" target="_blank" rel="noopener">'
        f'<img src="{escape(c.site_url + entry["png"])}" '
        f'width="{size.width}" height="{size.height}" alt="{escape(c.title)}"></a>'
    )


def link_snippet(c: Campaign, url: str) -> str:
    """A channel's text link sample: for any web page, menu or article that takes HTML."""
    return f'<a href="{escape(url)}" target="_blank" rel="noopener">参与{escape(c.title)}</a>'


def message(c: Campaign, s: Sponsor, url: str) -> str:
    """A channel's text sample: for posts, group messages and SMS, where a link is plain text."""
    return f"【{s.short_name}】{s.short_name}邀您参与{c.title}（{c.dates_short}），点击填写问卷：{url}"


def channel_snippets(c: Campaign, s: Sponsor, mine: SponsorAssets) -> list[dict[str, object]]:
    """Every channel's link samples, in the sponsor's channel order: its text link, its text and its image links."""
    out = []
    for channel in s.channels:
        url = mine.qr[channel]["url"]
        out.append({
            "channel": channel, "label": links.channel_label(c, s, channel), "url": url, "link": link_snippet(c, url),
            "message": message(c, s, url),
            "images": [{"entry": e, "html": snippet(c, e, url)} for e in mine.entries if not e["size"].qr],
        })
    return out


@functools.lru_cache(maxsize=1)
def _files_env() -> Environment:
    """Templates of the kit's own files (no site paths in them)."""
    return Environment(loader=PackageLoader("generator", "templates"), autoescape=True, undefined=StrictUndefined)


def kit_texts(sl: SponsorList, sponsor: Sponsor, mine: SponsorAssets) -> dict[str, str]:
    """Plain-text files packed into the media kit next to the images."""
    c = sl.campaign
    link_lines = [f"{links.channel_label(c, sponsor, ch)}\t{q['url']}" for ch, q in mine.qr.items()]
    placement = [f"{i}. {tip}" for i, tip in enumerate(c.placement, 1)]
    snippets = _files_env().get_template("snippets.html.j2").render(
        c=c, s=sponsor, channels=channel_snippets(c, sponsor, mine))
    return {
        "links.txt": f"{sponsor.name}\n{c.title}\n\n" + "\n".join(link_lines) + "\n",
        "placement.txt": f"{c.title} · 问卷入口位置推荐\n\n" + "\n".join(placement) + "\n",
        "press-release.txt": press_release(sl, sponsor) + "\n",
        "slogans.txt": "\n".join(c.slogans) + "\n",
        "snippets.html": snippets,
    }


DOCUMENTS = {"certificate": "授权书", "invitation": "邀请函"}  # page and file name -> what the document is called


def documents_of(s: Sponsor) -> tuple[str, ...]:
    """The documents a sponsor is given: every sponsor its 授权书, an initiator also the 邀请函 it sends out."""
    return ("certificate", "invitation") if s.is_initiator else ("certificate",)


def _document(sl: SponsorList, s: Sponsor, name: str) -> dict[str, object]:
    number = sl.certificate_number(s) if name == "certificate" else sl.invitation_number(s)
    parent = sl.get(s.nominated_by) if s.nominated_by else None
    return {"s": s, "parent": parent, "number": number, "label": DOCUMENTS[name], "doc": f"{name}.html.j2"}


def printable(sl: SponsorList, s: Sponsor, mark: str) -> dict[str, str]:
    """Each of a sponsor's documents as a whole HTML file to print to PDF, the campaign's mark given as `mark` (a
    data URI: the printer reads no files)."""
    env = _files_env()
    return {name: env.get_template("document_print.html.j2").render(c=sl.campaign, mark=mark, **_document(sl, s, name))
            for name in documents_of(s)}


def pdf_path(slug: str, name: str) -> str:
    return links.kit_path(slug, f"{slug}-{name}.pdf")


def _method(survey: Survey) -> dict[str, object]:
    """What the index's method page shows: each indexed questionnaire, with the text of every item's question (and
    row) and the labels of its scored options, from the same definitions the computation reads."""
    indexed = [qn for qn in survey.questionnaires.values() if qn.index]
    texts: dict[str, dict[str, str]] = {}
    labels: dict[str, dict[str, dict[str, str]]] = {}
    for qn in indexed:
        texts[qn.id], labels[qn.id] = {}, {}
        for q in qn.questions:
            texts[qn.id][q.id] = q.text
            texts[qn.id].update({f"{q.id}.{r}": f"{q.text}：{label}" for r, label in q.rows})
            labels[qn.id][q.id] = dict(q.options)
    return {"indexed": indexed, "texts": texts, "labels": labels}


class PageWriter:
    def __init__(self, sl: SponsorList, assets: dict[str, SponsorAssets], survey: Survey, script_version: str,
                 rules: Rules, script_versions: dict[str, str] | None = None,
                 asset_keys: Mapping[str, str] | None = None) -> None:
        self.rules = rules  # the validity rules, published as a page from the same data the server judges by
        self.sl = sl
        self.c = sl.campaign
        self.assets = assets
        # slug -> a key its assets follow from (the plan's part key): cheaper to key pages by than the assets
        self.asset_keys = asset_keys or {}
        self.env = _env(self.c)
        self.survey = survey
        self.forms = forms.bodies(self.env, survey)
        self.script_version = script_version
        self.script_versions = script_versions or {}  # the other pages' scripts (thanks.js, portal.js, topics.js)
        # The first questionnaire lives at the attributed link itself, every other one in a folder below it.
        self.folders = {qid: "" if i == 0 else qid for i, qid in enumerate(survey.questionnaires)}
        self.modular = any(qn.modules for qn in survey.questionnaires.values())
        # Entry pages hold the forms, so a sponsor's pages change with the questionnaire or the form script; a
        # questionnaire with topics shows only its topic list at a link, its forms being shared (shared_forms).
        self.campaign_key = key("campaign", repr(self.c), shown_at_links(survey), self.script_version,
                                *([self.script_versions.get("topics.js", "")] if self.modular else []))

    def _render(self, name: str, **context: object) -> str:
        return self.env.get_template(name).render(c=self.c, **context)

    def all(self, reuse: dict[str, list[Page]] | None = None) -> list[Page]:
        """Every page. A sponsor whose pages' inputs equal a part in `reuse` (the previous build's) keeps them;
        the parts of this build are left in `self.parts` for the next one."""
        self.own = self.campaign_pages()
        pages = list(self.own)
        self.parts: dict[str, list[Page]] = {}
        for sponsor in self.sl.sponsors:
            part_key = self._part_key(sponsor)
            part = (reuse or {}).get(part_key) or self.sponsor(sponsor)
            self.parts[part_key] = part
            pages += part
        return pages

    def campaign_pages(self) -> list[Page]:
        """Every page that is no sponsor's own: the hubs, forwarding pages, the campaign's entry, thanks, portal."""
        return [*self.hubs(), *self.redirects(), *self.campaign_entry(), Page("thanks/index.html", self._render(
            "thanks.html.j2", script_version=self.script_versions.get("thanks.js", ""), **self._campaign_links())),
            self.portal()]

    def portal(self) -> Page:
        """The sponsors' private page: one static page for all, the sponsor named by the token in its link's
        fragment. A plain HTML file, so it is in neither the site's navigation nor its search, and its template
        asks robots to leave it out."""
        return Page(PORTAL_PAGE, self._render("portal.html.j2", provinces=PROVINCES, root="../",
                                              script_version=self.script_versions.get("portal.js", "")))

    def _part_key(self, s: Sponsor) -> str:
        parent = self.sl.get(s.nominated_by) if s.nominated_by else None
        numbers = [_document(self.sl, s, name)["number"] for name in documents_of(s)]  # by place in the list
        return key("pages", repr(s), repr(parent), repr(self.sl.supporters_of(s.slug)), self.campaign_key,
                   self.asset_keys.get(s.slug) or repr(self.assets[s.slug]), numbers)

    def hubs(self) -> list[Page]:
        """The campaign's own pages: home, the two directories, slogans, materials, progress, rules and method."""
        c = self.c
        return [
            *self._directories(),
            Page("slogans.md", self._render("slogans.html.j2"), _front("宣传标语", f"{c.title}宣传标语")),
            Page("materials.md", self._render("materials.html.j2"),
                 _front("宣传素材", f"{c.title}宣传素材及问卷入口位置推荐")),
            Page("progress.md", self._render(
                "progress.html.j2", provinces=PROVINCES, opens_ms=int(c.opens.timestamp() * 1000),
                closes_ms=int(c.closes.timestamp() * 1000),
            ), _front("实时进度", f"{c.title}样本采集实时进度：总量、每日样本、各单位排行、各省份样本", hide=["toc"])),
            Page("rules.md", self._render("rules.html.j2", rules=self.rules, survey=self.survey),
                 _front("有效样本判定规则", f"{c.title}有效样本判定规则（{self.rules.version} 版）")),
            Page("method.md", self._render("method.html.j2", **_method(self.survey)),
                 _front("满意度指数计算方法", f"{c.title}满意度指数的领域、权重与计分方法")),
        ]

    def _directories(self) -> list[Page]:
        """The home page and the sponsor directories: initiators by province, supporters under who nominated them."""
        initiators = [s for s in self.sl.sponsors if s.is_initiator]
        supporters = [s for s in self.sl.sponsors if not s.is_initiator]
        by_province: dict[str, list[Sponsor]] = defaultdict(list)
        for s in initiators:
            by_province[s.province].append(s)
        groups = [(p, by_province[p]) for p in PROVINCES if by_province[p]]
        by_parent: dict[str, list[Sponsor]] = defaultdict(list)
        for s in supporters:
            by_parent[s.nominated_by or ""].append(s)
        parent_groups = [(p, by_parent[p.slug]) for p in initiators if by_parent[p.slug]]
        common = {"initiators": initiators, "supporters": supporters}
        c = self.c
        home = self._render("home.html.j2", provinces=len(groups), **common, **self._campaign_links())
        return [
            Page("index.md", home, _front(c.title, f"{c.title}：{c.opens_text} 至 {c.closes_text}，{c.slogans[0]}",
                                         hide=["toc"])),
            Page("initiators.md", self._render("initiators.html.j2", groups=groups, **common),
                 _front("发起单位名录", f"{c.title}的 {len(initiators)} 家发起单位", hide=["toc"])),
            Page("supporters.md", self._render("supporters.html.j2", groups=parent_groups, **common),
                 _front("支持单位名录", f"{c.title}的 {len(supporters)} 家支持单位", hide=["toc"])),
        ]

    def sponsor(self, s: Sponsor) -> list[Page]:
        """A sponsor's pages: its own page, its documents, the questionnaires at each of its links, its prizes."""
        mine = self.assets[s.slug]
        share = next((e["png"] for e in mine.entries if e["size"].width == e["size"].height), mine.entries[0]["png"])
        pages = [self._sponsor_page(s, mine, share)]
        pages += [self._document_page(s, name) for name in documents_of(s)]
        for channel in s.channels:
            pages += self._entries(links.entry_path(s.slug, channel), s, channel, mine.mark_png, share)
        if s.prizes:
            pages.append(Page(prizes_path(s.slug), prizes_data(s)))
        if self.modular:
            pages.append(Page(link_path(s.slug), link_data(s, mine.mark_png)))
        return pages

    def _sponsor_page(self, s: Sponsor, mine: SponsorAssets, share: str) -> Page:
        """The sponsor's page (/sponsors/<slug>/): its links, entry images, snippets, press release and documents."""
        page_dir = links.sponsor_path(s.slug)
        parent = self.sl.get(s.nominated_by) if s.nominated_by else None
        context = {
            "s": s, "a": mine, "parent": parent, "page": page_dir, "root": "../../",
            "parent_path": links.sponsor_path(parent.slug) if parent else "",
            "supporters": self.sl.supporters_of(s.slug), "release": press_release(self.sl, s),
        }
        meta = {"image": share, "hide": ["navigation", "toc"], "search": {"exclude": True}}
        context["documents"] = [{"name": n, "label": DOCUMENTS[n], "pdf": pdf_path(s.slug, n)} for n in documents_of(s)]
        context["snippets"] = {x["channel"]: x for x in channel_snippets(self.c, s, mine)}
        context["labels"] = {ch: links.channel_label(self.c, s, ch) for ch in s.channels}
        front = _front(f"{s.name} · {self.c.title}", f"{s.name}邀您参与{self.c.title}（{self.c.dates_short}）", **meta)
        return Page(page_dir + "index.md", self._render("sponsor.html.j2", **context), front)

    def _document_page(self, s: Sponsor, name: str) -> Page:
        """The web page of one of its documents (授权书, 邀请函), beside the PDF in its kit."""
        doc = _document(self.sl, s, name)
        title = f"{s.kind_label}授权书" if name == "certificate" else "支持单位邀请函"
        html = self._render("document.html.j2", mark="../../../assets/img/campaign-mark.svg",
                            pdf=f"../kit/{s.slug}-{name}.pdf", **doc)
        front = _front(f"{DOCUMENTS[name]} · {s.name}", f"{s.name}{title}（{doc['number']}）",
                       hide=["navigation", "toc"], search={"exclude": True})
        return Page(links.sponsor_path(s.slug) + f"{name}.md", html, front)

    def _entries(self, base: str, s: Sponsor | None, channel: str, mark: str | None, share: str) -> list[Page]:
        """The questionnaires' pages under one link: the first at `base`, every other one in a folder below it. A
        questionnaire with topics has its topic list there; its forms are the shared ones (see shared_forms), or
        under the campaign's own entry (no sponsor) pages of their own."""
        entry = self.env.get_template("entry.html.j2")
        pages = []
        for qid, qn in self.survey.questionnaires.items():
            path = base + self._folder(qid)
            root = "../" * path.count("/")
            context = {"s": s, "channel": channel, "others": self._others(qid), "url": self.c.site_url + path,
                       "root": root, "mark": mark, "share_image": self.c.site_url + share,
                       "opens_ms": int(self.c.opens.timestamp() * 1000),
                       "closes_ms": int(self.c.closes.timestamp() * 1000)}
            if qn.modules:
                pages.append(Page(path + "index.html", self._render(
                    "topics.html.j2", qn=qn, script_version=self.script_versions.get("topics.js", ""), **context)))
                if s is None:
                    pages += [Page(path + f"{t.id}/index.html", self._form_page(qn, t, path.count("/"), UNATTRIBUTED))
                              for t in qn.modules.topics]
                continue
            pages.append(Page(path + "index.html", entry.render(
                c=self.c, qn=qn, form=self.forms[qid], consent=self.survey.consent,
                forward=f"{s.slug}/{channel}" if s else "", script_version=self.script_version, **context,
            )))
        return pages

    def _folder(self, qid: str) -> str:
        return self.folders[qid] + "/" if self.folders[qid] else ""

    def _others(self, qid: str, depth: int = 0) -> list[dict[str, str]]:
        """Links to the other questionnaires from a page `depth` folders below questionnaire `qid`'s own."""
        up = "../" * (depth + (1 if self.folders[qid] else 0))
        return [{"audience": o.audience, "title": o.title, "href": up + self._folder(oid)}
                for oid, o in self.survey.questionnaires.items() if oid != qid]

    def shared_forms(self) -> dict[str, str]:
        """The forms of questionnaires with topics, each one page for every attributed link: path below a link ->
        the page. Nothing in it belongs to a link, so every link's copy is the same file."""
        link = links.entry_path("slug", "channel").count("/")  # how deep every link is
        return {self._folder(qid) + f"{t.id}/index.html":
                self._form_page(qn, t, link + self._folder(qid).count("/"), "")
                for qid, qn in self.survey.questionnaires.items() if qn.modules for t in qn.modules.topics}

    def _form_page(self, qn: Questionnaire, topic: Topic, depth: int, attribution: str) -> str:
        """One topic's form in a folder below the questionnaire's page, that page `depth` folders deep: attributed
        to `attribution` (the campaign's own entry: UNATTRIBUTED), or with "" to whatever its address says."""
        fid = form_id(qn.id, topic.id)
        root = "../" * (depth + 1)
        return self._render(
            "form_page.html.j2", qn=self.survey.forms[fid], base=qn, topic=topic, form=self.forms[fid],
            others=self._others(qn.id, depth=1), consent=self.survey.consent, root=root,
            url=self.c.site_url + CAMPAIGN_ENTRY + self._folder(qn.id) + f"{topic.id}/",
            sponsor=attribution, channel=attribution, action=f"{root}api/submit" if attribution else "submit",
            opens_ms=int(self.c.opens.timestamp() * 1000), closes_ms=int(self.c.closes.timestamp() * 1000),
            script_version=self.script_version,
        )

    def campaign_entry(self) -> list[Page]:
        """The questionnaires on the campaign's own pages (home, thank-you): no sponsor's link, so their answers
        count as unattributed, as any answer without a sponsor does."""
        share = "assets/img/campaign-mark.svg"
        return self._entries(CAMPAIGN_ENTRY, None, UNATTRIBUTED, None, share)

    def _campaign_links(self) -> dict[str, object]:
        """The campaign's own questionnaire links for the home and thank-you pages, and the first one's QR code."""
        from . import images  # the drawing code is only loaded when pages are rendered

        url = self.c.site_url + CAMPAIGN_ENTRY
        qr = base64.b64encode(images.qr_png(url, f"{self.c.title} · 问卷")).decode()
        entries = [{"path": CAMPAIGN_ENTRY + (sub + "/" if sub else ""), "title": qn.title, "audience": qn.audience}
                   for (qid, qn), sub in zip(self.survey.questionnaires.items(), self.folders.values())]
        return {"entries": entries, "entry_url": url, "entry_qr": "data:image/png;base64," + qr}

    def redirects(self) -> list[Page]:
        """Old slugs keep working: every page and link published under them forwards to the current one."""
        pages = []
        for old, new in sorted(self.sl.aliases.items()):
            s = self.sl.get(new)
            targets = ["", "certificate/"] + (["invitation/"] if s.is_initiator else [])
            for sub in targets:
                pages.append(self._redirect(links.sponsor_path(old) + sub, links.sponsor_path(new) + sub))
            for channel in s.channels:
                for sub in self._below_link():
                    old_entry, new_entry = links.entry_path(old, channel) + sub, links.entry_path(new, channel) + sub
                    pages.append(self._redirect(old_entry, new_entry))
        for old in self.c.retired_slugs:
            pages.append(self._redirect(links.sponsor_path(old), ""))
            for channel in self.c.channels:
                pages.append(self._redirect(links.entry_path(old, channel), ""))
        return pages

    def _below_link(self) -> list[str]:
        """Every page folder below an attributed link: each questionnaire's, and each topic form's."""
        found = []
        for qid, qn in self.survey.questionnaires.items():
            found.append(self._folder(qid))
            found += [self._folder(qid) + f"{t.id}/" for t in (qn.modules.topics if qn.modules else ())]
        return found

    def _redirect(self, old_dir: str, new_dir: str) -> Page:
        html = self._render("redirect.html.j2", target=rel(new_dir or "./", old_dir),
                            canonical=self.c.site_url + new_dir, root="../" * old_dir.count("/"))
        return Page(old_dir + "index.html", html)


def prizes_path(slug: str) -> str:
    """The small file the thank-you page reads a sponsor's prizes from (the whole sponsor list is too large)."""
    return f"s/{slug}/prizes.json"


def link_path(slug: str) -> str:
    """What a topic's form, one page for every link, shows of the sponsor whose link it was opened from."""
    return f"s/{slug}/link.json"


def link_data(s: Sponsor, mark: str) -> str:
    """The sponsor's names, its mark (a site path), its province and its prizes, as link_path holds them."""
    data = {"name": s.name, "short_name": s.short_name, "mark": mark, "province": s.province, "prizes": _prizes(s)}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


def shown_at_links(survey: Survey) -> str:
    """What of the questionnaires a sponsor's own pages show, which their remembered part is keyed by: all of a
    questionnaire without topics (its form is there), and of one with topics only its topic list, so that editing
    a question's wording reuses every sponsor's pages."""
    if not any(qn.modules for qn in survey.questionnaires.values()):
        return repr(survey)
    shown = [survey.consent]
    for qn in survey.questionnaires.values():
        if qn.modules is None:
            shown.append(repr(qn))
            continue
        topics = [(t.id, t.title, t.intro, t.target) for t in qn.modules.topics]
        shown.append(repr((qn.id, qn.title, qn.audience, qn.intro, qn.modules.assignment, qn.modules.offer, topics)))
    return "\n".join(shown)


def _prizes(s: Sponsor) -> list[dict[str, object]]:
    return [{"provider": p.provider, "item": p.item, "quantity": p.quantity, "scope": p.scope} for p in s.prizes]


def prizes_data(s: Sponsor) -> str:
    return json.dumps({"province": s.province, "prizes": _prizes(s)}, ensure_ascii=False, separators=(",", ":")) + "\n"


def live_links(sl: SponsorList) -> set[str]:
    """Every attributed link the sponsor list serves under current slugs."""
    return {links.entry_path(s.slug, ch) for s in sl.sponsors for ch in s.channels}


def manifest(sl: SponsorList, published: set[str]) -> str:
    """sponsors.json: the sponsors and links the collection API accepts, and every link ever published."""
    c = sl.campaign
    current = live_links(sl)
    campaign: dict[str, object] = {"title": c.title, "opens": c.opens.isoformat(), "closes": c.closes.isoformat(),
                                   "site_url": c.site_url, "channels": c.channels}
    if c.deadlines is not None:
        campaign["deadlines"] = {name: c.deadlines.passes(name).isoformat() for name in ("links", "prizes")}
    data = {
        "campaign": campaign,
        "channels": c.channels,
        "sponsors": {
            s.slug: {"name": s.name, "kind": s.kind, "province": s.province, "nominated_by": s.nominated_by,
                     "channels": list(s.channels),
                     "sublinks": [{"id": x.id, "channel": x.channel, "key": x.key, "label": x.label}
                                  for x in s.sublinks],
                     "prizes": _prizes(s)}
            for s in sl.sponsors
        },
        "aliases": dict(sorted(sl.aliases.items())),
        "retired": list(c.retired_slugs),
        "published_links": sorted(published | current),
    }
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=False) + "\n"


def vanished_links(sl: SponsorList, published: set[str]) -> list[str]:
    """Links published by an earlier build that this sponsor list would break."""
    live = live_links(sl)
    for old, new in sl.aliases.items():
        live |= {links.entry_path(old, ch) for ch in sl.get(new).channels}
    retired = set(sl.campaign.retired_slugs)
    return sorted(p for p in published if p not in live and p.split("/")[1] not in retired)


def read_published(site_dir: Path) -> set[str]:
    """The links the last good build published (empty before the first build)."""
    try:
        data = json.loads((site_dir / "sponsors.json").read_text(encoding="utf-8"))
        return set(data.get("published_links", []))
    except (FileNotFoundError, ValueError):
        return set()
