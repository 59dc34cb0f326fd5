"""A build killed at any step of publishing leaves `site/` whole: the last good site or the new one, never a mix."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.helpers import CAMPAIGN, SMALL_SPONSORS, mkdocs_build, tree_digest, write_project

# A `mkdocs build` in this process that kills itself (SIGKILL: no clean-up runs) just before its n-th publishing
# step: moving a folder, writing a changed subtree, or exchanging the staging folder with the site.
KILLED_BUILD = """
import os, signal, sys
from generator import publish
from mkdocs.__main__ import cli

steps = 0
def step(original):
    def counted(*args, **kwargs):
        global steps
        steps += 1
        if steps == int(sys.argv[2]):
            os.kill(os.getpid(), signal.SIGKILL)
        return original(*args, **kwargs)
    return counted

publish.os.rename = step(os.rename)
publish._write = step(publish._write)
publish._exchange = step(publish._exchange)
cli(["build", "-q", "-f", sys.argv[1]])
"""

EDITED = {"short_name: 深圳融媒": "short_name: 深圳融媒体"}  # its kit and its entry pages change


def edited(text: str) -> str:
    for old, new in EDITED.items():
        assert old in text
        text = text.replace(old, new)
    return text


def test_a_build_killed_at_each_publishing_step_leaves_the_site_whole(tmp_path: Path) -> None:
    # GIVEN a site built from the small list, and the results of an edited list in the cache
    project = write_project(tmp_path / "project", CAMPAIGN + SMALL_SPONSORS)
    sponsors = project / "sponsors.yaml"
    assert mkdocs_build(project).returncode == 0
    sponsors.write_text(edited(CAMPAIGN + SMALL_SPONSORS))
    assert mkdocs_build(project).returncode == 0
    new = tree_digest(project / "site")
    sponsors.write_text(CAMPAIGN + SMALL_SPONSORS)
    assert mkdocs_build(project).returncode == 0
    old = tree_digest(project / "site")
    assert old != new
    sponsors.write_text(edited(CAMPAIGN + SMALL_SPONSORS))
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", SOURCE_DATE_EPOCH="1595379600")
    env.pop("SURVEY_SITE_URL", None)
    # WHEN the edited list's build is killed before its first step, then its second, ... until one finishes
    outcomes = []
    for n in range(1, 200):
        result = subprocess.run([sys.executable, "-c", KILLED_BUILD, str(project / "mkdocs.yml"), str(n)],
                                capture_output=True, text=True, env=env, cwd=project)
        # THEN the site is always one of the two, whole
        site = tree_digest(project / "site")
        assert site in (old, new), f"killed before step {n}: the site is neither the old one nor the new one"
        outcomes.append("old" if site == old else "new")
        if result.returncode != -signal.SIGKILL:
            assert result.returncode == 0, result.stderr
            break
    else:
        raise AssertionError("the build never finished")
    # and it was killed at several steps before the exchange, at least once after, and the last build published
    assert outcomes.count("old") >= 5 and outcomes.count("new") >= 2, outcomes
    assert outcomes[-1] == "new"
    # A build after all those kills still equals a fresh build of the same list.
    fresh = write_project(tmp_path / "fresh", edited(CAMPAIGN + SMALL_SPONSORS))
    assert mkdocs_build(fresh).returncode == 0
    assert mkdocs_build(project).returncode == 0
    assert tree_digest(project / "site") == tree_digest(fresh / "site")
