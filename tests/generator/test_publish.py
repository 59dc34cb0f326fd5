from __future__ import annotations

import pytest

from generator import publish
from generator.cache import Asset


def trees(tmp_path, kit_text: str):
    source = tmp_path / "cache" / "ab" / f"ab{kit_text}.png"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(kit_text)
    pages = [("s/a/web/index.html", "A"), ("s/b/web/index.html", "B"), ("index.md", "not in a subtree")]
    return publish.group(pages, [Asset("sponsors/a/kit/a.png", str(source))])


def test_unchanged_subtrees_move_and_changed_ones_are_written(tmp_path):
    first, second = tmp_path / "site1", tmp_path / "site2"
    assert publish.place(trees(tmp_path, "v1"), first) == 3
    kept = (first / "s/b/web/index.html").stat().st_ino
    changed = trees(tmp_path, "v2")
    assert set(changed) == {"s/a", "s/b", "sponsors/a/kit"}
    assert publish.place(changed, second, first) == 1  # only the kit changed
    assert (second / "s/b/web/index.html").stat().st_ino == kept
    assert (second / "sponsors/a/kit/a.png").read_text() == "v2"
    assert (second / "s/a/web/index.html").read_text() == "A"
    assert not (first / "s/b").exists()


def test_failure_puts_moved_subtrees_back(tmp_path, monkeypatch):
    first, second = tmp_path / "site1", tmp_path / "site2"
    publish.place(trees(tmp_path, "v1"), first)
    before = sorted(p.relative_to(first) for p in first.rglob("*"))

    def broken(tree, target):
        raise OSError("disk full")

    monkeypatch.setattr(publish, "_write", broken)
    with pytest.raises(OSError):
        publish.place(trees(tmp_path, "v2"), second, first)
    assert sorted(p.relative_to(first) for p in first.rglob("*")) == before


def files_of(folder):
    return {str(p.relative_to(folder)): p.read_text() for p in folder.rglob("*") if p.is_file()}


def test_publish_takes_unchanged_subtrees_from_the_replaced_site_and_never_empties_the_live_one(tmp_path):
    site = tmp_path / "site"

    def build(version: str) -> int:
        stage = publish.prepare(site)
        stage.mkdir()
        (stage / "index.html").write_text(version)  # what MkDocs writes
        return publish.publish(trees(tmp_path, version), stage, site)

    assert build("v1") == 3
    assert build("v1") == 3  # nothing replaced yet to take folders from
    donor = tmp_path / "site.prev"
    assert files_of(donor) == files_of(site)
    taken = (donor / "s/b/web/index.html").stat().st_ino
    live = files_of(site)
    assert build("v2") == 1  # only the kit changed
    assert (site / "s/b/web/index.html").stat().st_ino == taken
    assert files_of(donor) == live  # the site it replaced, whole
    assert (site / "sponsors/a/kit/a.png").read_text() == "v2" and (site / "index.html").read_text() == "v2"
    assert not (tmp_path / "site.partial").exists()
