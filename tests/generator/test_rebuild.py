"""Rebuilds from a remembered result: what is unchanged is neither loaded nor written again, and whatever the site
serves is what a fresh build of the same inputs would serve."""

from __future__ import annotations

import shutil
from pathlib import Path

from generator import build, publish
from tests.conftest import mkdocs_build, tree_digest, write_project

EDIT = ("short_name: 深圳融媒", "short_name: 深圳融媒体")


def built(project: Path, times: int = 1) -> Path:
    for _ in range(times):
        result = mkdocs_build(project)
        assert result.returncode == 0, result.stderr
    return project / "site"


def recalled(project: Path, kept: dict[str, str]) -> build.Output:
    """The remembered result of the project's current inputs, as the plugin recalls it."""
    out = build.run(project / "sponsors.yaml", project / ".cache/sponsor-pages", set(), kept=kept)
    # recalled, not rendered: no per-sponsor part read
    assert isinstance(out.page_parts, build._Parts) and not out.page_parts.loaded and not out.plan_parts.loaded
    return out


def test_an_unchanged_rebuild_loads_only_the_folders_it_cannot_move(small_project):
    # GIVEN a site built twice, so the site it replaced holds every folder
    site = built(small_project, times=2)
    kept = publish.kept(site)
    # WHEN its result is recalled THEN no folder's contents are read: every one can be moved as it is
    out = recalled(small_project, kept)
    assert kept == {name: tree.stamp for name, tree in out.trees.items()}
    assert all(tree.entries is None for tree in out.trees.values())
    # and with no site to take folders from, every folder is read (and its cached files found) before MkDocs runs
    out = recalled(small_project, {})
    assert all(tree.entries is not None for tree in out.trees.values())
    assert all(e.source for tree in out.trees.values() for e in tree.entries if not e.text)


def test_a_folder_whose_cached_files_are_gone_is_made_again(small_project):
    site = built(small_project, times=2)
    fresh = tree_digest(site)
    # GIVEN no replaced site to move folders from, and a kit's cached image deleted
    shutil.rmtree(site.with_name("site.prev"))
    out = recalled(small_project, {})
    kit = next(name for name in out.trees if name.endswith("/kit"))
    image = next(e.source for e in out.trees[kit].entries if e.source and e.source.endswith(".png"))
    Path(image).unlink()
    # WHEN built THEN the image is drawn again and the site is what it was
    built(small_project)
    assert Path(image).is_file()
    assert tree_digest(site) == fresh


def test_going_back_to_an_earlier_sponsor_list_serves_exactly_its_site(small_project, tmp_path):
    path = small_project / "sponsors.yaml"
    original = path.read_text(encoding="utf-8")
    edited = original.replace(*EDIT)
    site = built(small_project, times=2)
    # WHEN a sponsor is edited, the edit undone and done again: each time from a remembered result
    for text in (edited, original, edited, original):
        path.write_text(text, encoding="utf-8")
        built(small_project)
        # THEN the site is a fresh build's of the same list
        fresh = write_project(tmp_path / f"fresh-{hash(text)}", text)
        if not (fresh / "site").exists():
            built(fresh)
        assert tree_digest(site) == tree_digest(fresh / "site")


def test_a_hand_written_page_inside_a_generated_folder_is_refused(small_project):
    slug = next(line.split(":")[1].strip() for line in (small_project / "sponsors.yaml").read_text().splitlines()
                if line.strip().startswith("- slug:"))
    (small_project / "site_src" / "s" / slug).mkdir(parents=True)
    (small_project / "site_src" / "s" / slug / "notes.md").write_text("# notes\n")
    result = mkdocs_build(small_project)
    assert result.returncode != 0
    assert f"s/{slug}/notes.md" in result.stderr and "generated page" in result.stderr
