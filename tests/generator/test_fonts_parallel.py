"""Image workers are forked from a build that has just read the fonts: they must draw glyph outlines side by side.

fontTools reads a font's tables when they are first used. When it read them from an open file, every forked worker
shared that file's offset, and two workers loading 'vmtx' at once read each other's data: `TTLibError: unexpected
end of 'vmtx' table data` (issue 14: a cold build at 1,000 sponsors, once in two runs). Here fresh workers are
released at the same moment, from a barrier, into their first outlines, round after round, from a cold font cache;
and a neighbour forked from the same build moves the offset of any font file the build left open, without pause, as
a worker's reads would, but far more often. The old code failed in each of six runs, within seconds.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from threading import BrokenBarrierError

import pytest

from generator import draw, fonts
from generator.fonts import Typeface

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir() or not hasattr(os, "fork"),
                                reason="needs fork and /proc (Linux), as the build's image workers do")

WORKERS = 4
ROUNDS = 12
TEXT = "网民网络安全感满意度调查广东省网络空间安全协会立即参与北京市计算机学会深圳融媒体中心"
CONTEXT = multiprocessing.get_context("fork")

_start: multiprocessing.synchronize.Barrier | None = None


def _keep(barrier: multiprocessing.synchronize.Barrier) -> None:
    global _start
    _start = barrier


def _lines(job: int) -> tuple[str, str]:
    """A regular and a bold line, chosen by `job` so that workers outline different glyphs."""
    text = TEXT[job % len(TEXT):] + TEXT[: job % len(TEXT)]
    return text[:8], text[8:16]


def _draw(job: int) -> str:
    """One SVG with a line in each weight, drawn once every worker of the round is ready."""
    face = fonts.typeface()
    regular, bold = _lines(job)
    scene = draw.Scene(400, 120, f"job {job}", face.regular, face.bold)
    scene.add(draw.Text(0, 0, 40, regular, "#000000"), draw.Text(0, 60, 40, bold, "#000000", bold=True))
    if _start is not None:
        try:
            _start.wait(timeout=30)
        except BrokenBarrierError:
            pass  # a round whose workers did not all start: draw anyway
    return draw.to_svg(scene)


def _open_font_files() -> list[int]:
    """This process's open descriptors of the font files: what a forked worker would share with its siblings."""
    paths = {str(path.resolve()) for path in fonts.font_files()}
    found = []
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}") in paths:
                found.append(int(name))
        except OSError:
            continue  # closed meanwhile (the descriptor of the listing itself)
    return found


def _jostle(descriptors: list[int], stop: multiprocessing.synchronize.Event) -> None:
    """What a sibling's reads do to a shared file offset, without pause: move it to the end of the file."""
    while not stop.is_set():
        for _ in range(1000):
            for fd in descriptors:
                os.lseek(fd, 0, os.SEEK_END)


@pytest.fixture
def cold_fonts(tmp_path: Path) -> Iterator[Typeface]:
    """The typeface read from the font files into an empty font cache, as in the first build on a machine."""
    before = fonts.cache_folder()
    fonts.use_cache(tmp_path / "fonts")
    try:
        yield fonts.typeface()
    finally:
        fonts.use_cache(before)
        fonts.typeface.cache_clear()


@pytest.fixture
def neighbour(cold_fonts: Typeface) -> Iterator[None]:
    # as the build holds the typeface just before it forks its image workers (assets.draw_missing): the character
    # maps read, no outline yet
    _ = cold_fonts.regular.cmap, cold_fonts.bold.cmap
    stop = CONTEXT.Event()
    jostler = CONTEXT.Process(target=_jostle, args=(_open_font_files(), stop), daemon=True)
    jostler.start()
    try:
        yield
    finally:
        stop.set()
        jostler.join(10)


def test_forked_workers_draw_outlines_at_once_from_a_cold_font_cache(cold_fonts: Typeface, neighbour: None):
    assert not cold_fonts.regular.data["outlines"] and not cold_fonts.bold.data["outlines"]
    for round_ in range(ROUNDS):
        # WHEN fresh workers, forked from the build's state, all start outlining at the same moment
        jobs = range(round_ * WORKERS, (round_ + 1) * WORKERS)
        with ProcessPoolExecutor(WORKERS, mp_context=CONTEXT, initializer=_keep,
                                 initargs=(CONTEXT.Barrier(WORKERS),)) as pool:
            svgs = list(pool.map(_draw, jobs))
        # THEN every SVG holds an outline for each character it shows, in each weight
        for job, svg in zip(jobs, svgs):
            regular, bold = _lines(job)
            outlines = re.findall(r'<path id="([rb])[^"]+" d="([^"]*)"/>', svg)
            assert sorted(weight for weight, _ in outlines) == ["b"] * len(set(bold)) + ["r"] * len(set(regular))
            assert all(d.startswith("M") for _, d in outlines), svg[:300]
    # and the build never outlined a glyph itself: every round started as cold as the first
    assert not cold_fonts.regular.data["outlines"] and not cold_fonts.bold.data["outlines"]
