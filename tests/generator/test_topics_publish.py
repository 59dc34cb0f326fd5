"""Publishing shared copies (a topic's form under every link): kept out of the subtrees' stamps, every copy in a site
one file of that site's own, rewritten in place where its form changed (in the staging folder, never in the live
site or the cache), and never leaving the live site half old, half new."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from generator import publish
from generator.cache import Asset

LINKS = ("s/a/web/", "s/a/poster/", "s/b/web/")


def cached(tmp_path: Path, text: str) -> str:
    path = tmp_path / "cache" / f"{text}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def trees(tmp_path: Path, ai: str, fraud: str = "fraud-v1", page: str = "list",
          previous: dict[str, publish.Tree] | None = None) -> dict[str, publish.Tree]:
    """Every link's topic list (a page of its own) and its copies of two shared forms; one kit file."""
    shared = {"ai/index.html": cached(tmp_path, ai), "fraud/index.html": cached(tmp_path, fraud)}
    pages = [(link + "index.html", f"{page} {link}") for link in LINKS]
    copies = [publish.Copy(link + rel, rel, path) for link in LINKS for rel, path in shared.items()]
    kit = [Asset("sponsors/a/kit/a.png", cached(tmp_path, "kit"))]
    return publish.group(pages, kit, copies=copies, previous=previous)


def stamps(grouped: dict[str, publish.Tree]) -> dict[str, str]:
    return {name: tree.stamp for name, tree in grouped.items()}


def test_a_subtree_holding_what_it_held_keeps_its_stamp_and_any_other_is_hashed_again(tmp_path):
    first = trees(tmp_path, "ai-v1")
    assert stamps(trees(tmp_path, "ai-v2", previous=first)) == stamps(first)  # a shared file is not in the stamp
    changed = trees(tmp_path, "ai-v1", page="new list", previous=first)
    assert stamps(changed) == stamps(trees(tmp_path, "ai-v1", page="new list"))
    assert changed["s/a"].stamp != first["s/a"].stamp
    assert changed["sponsors/a/kit"].stamp == first["sponsors/a/kit"].stamp


def inode(path: Path) -> int:
    return path.stat().st_ino


def files_of(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != publish.STAMPS}


def copies_of(site: Path, rel: str) -> tuple[set[int], set[str]]:
    """The files every link's copy of `rel` is in `site`, and their texts."""
    return {inode(site / link / rel) for link in LINKS}, {(site / link / rel).read_text() for link in LINKS}


def test_a_shared_file_is_out_of_the_stamps_and_its_changed_copies_are_rewritten_in_place(tmp_path):
    first, second = tmp_path / "site1", tmp_path / "site2"
    before = trees(tmp_path, "ai-v1")
    assert publish.place(before, first) == 3
    (ai,), texts = copies_of(first, "ai/index.html")
    assert texts == {"ai-v1"} and ai != inode(tmp_path / "cache/ai-v1.html")  # the site's own file, not the cache's
    page, fraud = inode(first / "s/a/web/index.html"), inode(first / "s/a/web/fraud/index.html")
    # GIVEN one shared form's new file: no subtree's stamp changes
    after = trees(tmp_path, "ai-v2")
    assert {n: t.stamp for n, t in after.items()} == {n: t.stamp for n, t in before.items()}
    # WHEN placed from the previous site THEN no subtree is written, every copy of that form holds the new bytes
    # (the one file moved with them, rewritten), the cache is as it was, and everything else is what was moved
    assert publish.place(after, second, first) == 0
    assert copies_of(second, "ai/index.html") == ({ai}, {"ai-v2"})
    assert (tmp_path / "cache/ai-v1.html").read_text() == "ai-v1"
    assert inode(second / "s/a/web/index.html") == page and inode(second / "s/a/web/fraud/index.html") == fraud
    assert not list(second.rglob("*.relink"))
    # and the site records the file each shared name has now
    assert json.loads((second / publish.STAMPS).read_text())["shared"]["ai/index.html"] == "ai-v2.html"


def test_a_changed_page_beside_shared_copies_rewrites_its_subtree_with_the_current_copies(tmp_path):
    first, second = tmp_path / "site1", tmp_path / "site2"
    publish.place(trees(tmp_path, "ai-v1"), first)
    assert publish.place(trees(tmp_path, "ai-v2", page="new list"), second, first) == 2  # s/a and s/b, not the kit
    assert (second / "s/b/web/index.html").read_text() == "new list s/b/web/"
    assert len(copies_of(second, "ai/index.html")[0]) == 1  # the written copies are links of the moved ones' file
    assert copies_of(second, "ai/index.html")[1] == {"ai-v2"}


def test_copies_from_a_site_without_files_of_its_own_are_linked_to_the_new_sites(tmp_path):
    # GIVEN a previous site whose copies are no file of its own (built before there were any)
    first, second = tmp_path / "site1", tmp_path / "site2"
    publish.place(trees(tmp_path, "ai-v1"), first)
    import shutil
    shutil.rmtree(first / publish.SHARED)
    # WHEN placed from it THEN nothing is written, and every copy is one file of the new site's own, not the cache's
    assert publish.place(trees(tmp_path, "ai-v1"), second, first) == 0
    (ai,), texts = copies_of(second, "ai/index.html")
    assert texts == {"ai-v1"} and ai == inode(second / publish.SHARED / "ai__index.html")
    assert ai != inode(tmp_path / "cache/ai-v1.html")


def test_a_failure_after_relinking_leaves_no_copy_the_record_misdescribes(tmp_path, monkeypatch):
    first, second, third = tmp_path / "site1", tmp_path / "site2", tmp_path / "site3"
    publish.place(trees(tmp_path, "ai-v1"), first)
    before = files_of(first)

    def broken(tree, target):
        raise OSError("disk full")

    # GIVEN a build that relinks s/a and s/b, then fails writing the changed kit
    changed = trees(tmp_path, "ai-v2")
    changed["sponsors/a/kit"] = changed["sponsors/a/kit"]._replace(stamp="other")
    with monkeypatch.context() as m:
        m.setattr(publish, "_write", broken)
        with pytest.raises(OSError):
            publish.place(changed, second, first)
    # THEN the previous site has every folder back
    assert set(files_of(first)) == set(before)
    # and a build of the first version from it (the edit undone) has the first version's copies everywhere
    publish.place(trees(tmp_path, "ai-v1"), third, first)
    assert files_of(third) == before


# A publish in a process that kills itself (SIGKILL: no clean-up runs) just before its n-th step: moving a folder,
# writing one, relinking a copy, or exchanging the staging folder with the site.
KILLED = """
import os, signal, sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from generator import publish
from tests.generator.test_topics_publish import trees

steps = 0
def step(original, kind):
    def counted(*args, **kwargs):
        global steps
        steps += 1
        if steps == int(sys.argv[2]):
            print(kind, file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        return original(*args, **kwargs)
    return counted

publish.os.rename = step(os.rename, "rename")
publish.os.replace = step(os.replace, "relink")
publish._rewrite = step(publish._rewrite, "rewrite")
publish._write = step(publish._write, "write")
publish._exchange = step(publish._exchange, "exchange")
tmp, site = Path(sys.argv[1]), Path(sys.argv[1]) / "site"
stage = publish.prepare(site)
stage.mkdir()
publish.publish(trees(tmp, "ai-v2"), stage, site)
"""


def test_a_publish_killed_at_each_step_leaves_the_site_old_or_new(tmp_path):
    def publish_version(base: Path, ai: str) -> dict[str, str]:
        site = base / "site"
        stage = publish.prepare(site)
        stage.mkdir()
        publish.publish(trees(base, ai), stage, site)
        return files_of(site)

    root = str(Path(__file__).resolve().parents[2])
    outcomes = []
    for n in range(1, 100):
        # GIVEN a site whose replaced site (site.prev) holds the first version's folders to move
        base = tmp_path / f"run-{n}"
        base.mkdir()
        new = publish_version(base, "ai-v2")
        publish_version(base, "ai-v1")
        old = publish_version(base, "ai-v1")
        # WHEN a publish of the new version is killed before its n-th step THEN the site is the old or the new one
        result = subprocess.run([sys.executable, "-c", KILLED, str(base), str(n), root], capture_output=True,
                                text=True)
        now = files_of(base / "site")
        assert now in (old, new), f"killed before step {n}: the site is neither the old one nor the new one"
        outcomes.append((result.stderr.strip(), "old" if now == old else "new"))
        if result.returncode != -signal.SIGKILL:
            assert result.returncode == 0, result.stderr
            break
        # and the next publish of the new version publishes exactly it
        assert publish_version(base, "ai-v2") == new, f"after a kill before step {n}"
    else:
        raise AssertionError("the publish never finished")
    # It was killed while rewriting the changed form and the live site stayed the old one; the last publish made it
    # the new one
    assert ("rewrite", "old") in outcomes and ("exchange", "old") in outcomes, outcomes
    assert outcomes[-1] == ("", "new"), outcomes
    # The copies of the published site are one file with the current bytes
    site = base / "site"
    assert copies_of(site, "ai/index.html")[1] == {"ai-v2"} and len(copies_of(site, "ai/index.html")[0]) == 1
    assert os.path.isdir(site.with_name("site.prev"))
