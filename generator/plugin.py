"""The MkDocs adapter: the only module that knows MkDocs.

Everything fallible runs in `on_config`, before MkDocs writes anything. A `mkdocs build` writes into a sibling
staging folder that publish.py makes the site only when the whole build succeeded, so a failed build leaves the last
good site untouched.
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, PackageLoader
from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files, InclusionLevel

from lambdas.survey.questionnaire import QuestionnaireError

from . import build, pages, publish
from .fonts import FontMissing
from .model import SponsorsError

log = logging.getLogger("mkdocs.plugins.sponsor-pages")

# The theme's scripts are not loaded by any page (see overrides/main.html), so they are not published either.
THEME_SCRIPTS = "assets/javascripts/"


class _WarningCount(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


class PluginConfig(Config):
    sponsors = c.Type(str, default="sponsors.yaml")
    # The questionnaire file, relative to mkdocs.yml; unset, the one packaged with the functions. The environment's
    # SURVEY_QUESTIONNAIRES, when set, wins (rehearsals and tests try other files).
    questionnaires = c.Optional(c.Type(str))
    cache_dir = c.Type(str, default=".cache/sponsor-pages")
    workers = c.Optional(c.Type(int))


class SponsorPagesPlugin(BasePlugin[PluginConfig]):
    def __init__(self) -> None:
        self.command = "build"
        self.final_dir: Path | None = None
        self.staging: Path | None = None
        self.output: build.Output | None = None
        self.warnings = _WarningCount()
        self.bodies: dict[str, str] = {}

    def on_startup(self, *, command: str, dirty: bool) -> None:
        self.command = command

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        base = Path(config.config_file_path or ".").resolve().parent
        self.sponsors_path = base / self.config.sponsors
        chosen = os.environ.get("SURVEY_QUESTIONNAIRES") or self.config.questionnaires
        self.questionnaires_path = base / chosen if chosen else build.QUESTIONNAIRES
        final_dir = Path(config.site_dir)
        building = self.command == "build"
        published = pages.read_published(final_dir) if building else set()
        # All the fallible work happens here, before MkDocs empties the output folder. The collector of reference
        # cycles is held meanwhile: loading a remembered result makes hundreds of thousands of objects, none garbage,
        # and they live until the build ends, so it never looks at them again (gc.freeze).
        collecting = gc.isenabled()
        gc.disable()
        try:
            self.output = build.run(self.sponsors_path, base / self.config.cache_dir, published,
                                    os.environ.get("SURVEY_SITE_URL"), self.config.workers,
                                    os.environ.get("SURVEY_OPENS"), self.questionnaires_path,
                                    publish.kept(final_dir) if building else None)
        except (SponsorsError, FontMissing, QuestionnaireError) as exc:
            raise PluginError(str(exc)) from exc
        finally:
            gc.freeze()
            if collecting:
                gc.enable()
        self.sl = self.output.sponsors
        config.site_url = self.sl.campaign.site_url
        # The theme's header and footer name the campaign and its organisers from the same settings as every page.
        config.extra["campaign"] = self.sl.campaign
        if self.command == "build":
            self.final_dir = final_dir
            self.staging = publish.prepare(final_dir)
            config.site_dir = str(self.staging)
            self.warnings.count = 0
            logging.getLogger("mkdocs").addHandler(self.warnings)
        return config

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        assert self.output is not None
        hubs = set(pages.HUB_PAGES)
        generated = [(p.uri, p.source) for p in self.output.pages] + list(self.output.extra.items())
        # Bodies are finished HTML: handing them over after Markdown skips parsing hundreds of large HTML blocks.
        self.bodies = {p.uri: p.body for p in self.output.pages if p.front is not None}
        existing = {f.src_uri for f in files}
        # Entry pages and kits are placed by publish.py after the build, whole folders: nothing else may be there.
        trees = self.output.trees
        clashes = sorted(existing & ({uri for uri, _ in generated} | {a.uri for a in self.output.files})
                         | {uri for uri in existing if publish.subtree_of(uri) in trees})
        if clashes:
            raise PluginError(
                f"{len(clashes)} file(s) in {config.docs_dir} have the path of a generated page, e.g. '{clashes[0]}'. "
                "Fix: rename or remove them; generated pages are never written into the docs folder"
            )
        for theme_script in [f for f in files if f.src_uri.startswith(THEME_SCRIPTS) and not f.generated_by and f.abs_src_path
                             and not f.abs_src_path.startswith(config.docs_dir)]:
            files.remove(theme_script)
        for uri, content in generated:
            inclusion = InclusionLevel.UNDEFINED if uri in hubs else InclusionLevel.NOT_IN_NAV
            files.append(File.generated(config, uri, content=content, inclusion=inclusion))
        for asset in self.output.files:
            files.append(File.generated(config, asset.uri, abs_src_path=asset.path, inclusion=InclusionLevel.NOT_IN_NAV))
        return files

    def on_env(self, env: Environment, *, config: MkDocsConfig, files: Files) -> Environment:
        # The theme includes the generator's footer template, so hub pages and stand-alone pages share one footer.
        env.loader = ChoiceLoader([env.loader, PackageLoader("generator", "templates")])  # type: ignore[list-item]
        return env

    def on_page_content(self, html: str, *, page, config: MkDocsConfig, files: Files) -> str:  # type: ignore[no-untyped-def]
        return self.bodies.get(page.file.src_uri, html)

    def on_serve(self, server, *, config: MkDocsConfig, builder):  # type: ignore[no-untyped-def]
        server.watch(str(self.sponsors_path))
        server.watch(str(self.questionnaires_path))
        for folder in {self.sl.logo_path(s).parent for s in self.sl.sponsors if s.logo}:  # type: ignore[union-attr]
            server.watch(str(folder))
        return server

    @event_priority(-100)  # after every other plugin has written its files
    def on_post_build(self, *, config: MkDocsConfig) -> None:
        logging.getLogger("mkdocs").removeHandler(self.warnings)
        assert self.output is not None
        if self.staging is None or self.final_dir is None:  # serving: no previous site to take folders from
            publish.place(self.output.trees, Path(config.site_dir), None, self.output.shared, self.output.entries)
            return
        if config.strict and self.warnings.count:
            self._discard()
            raise PluginError(f"{self.warnings.count} warning(s) in strict mode; the previous site in {self.final_dir} is kept")
        written = publish.publish(self.output.trees, self.staging, self.final_dir, self.output.shared,
                                  self.output.entries)
        log.info(f"sponsor-pages: {written} of {len(self.output.trees)} entry and kit folders written, the rest kept")
        config.site_dir = str(self.final_dir)
        log.info(f"sponsor-pages: site published to {self.final_dir}")

    def on_build_error(self, *, error: Exception) -> None:
        logging.getLogger("mkdocs").removeHandler(self.warnings)
        self._discard()
        if self.final_dir is not None:
            log.error(f"sponsor-pages: build failed; the previous site in {self.final_dir} is unchanged")

    def _discard(self) -> None:
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
