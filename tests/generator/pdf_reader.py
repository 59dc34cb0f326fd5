"""Just enough PDF reading to check what WeasyPrint wrote: the page size, the embedded fonts and the text.

WeasyPrint compresses objects into Flate streams and writes text as glyph codes with a ToUnicode map per font;
reading them back here keeps the tests free of a PDF library.
"""

from __future__ import annotations

import re
import zlib


def streams(data: bytes) -> list[bytes]:
    """Every stream of the file, inflated where it is Flate-compressed."""
    out = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            out.append(zlib.decompress(raw))
        except zlib.error:
            out.append(raw)
    return out


def _cmaps(parts: list[bytes]) -> list[dict[str, str]]:
    maps = []
    for part in parts:
        if b"begincmap" not in part:
            continue
        table: dict[str, str] = {}
        for block in re.findall(rb"beginbfchar(.*?)endbfchar", part, re.S):
            for code, uni in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
                table[code.decode().lower()] = bytes.fromhex(uni.decode()).decode("utf-16-be")
        for block in re.findall(rb"beginbfrange(.*?)endbfrange", part, re.S):
            for lo, hi, start in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
                first = int(start, 16)
                width = len(lo)
                for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                    table[f"{code:0{width}x}"] = chr(first + i)
        maps.append(table)
    return maps


def text(data: bytes) -> str:
    """The text the file shows, run by run; each run is read with the font map that knows all its glyphs."""
    parts = streams(data)
    maps = _cmaps(parts)
    runs = []
    for part in parts:
        for array in re.findall(rb"\[(.*?)\]\s*TJ", part, re.S):
            codes = [c.decode().lower() for chunk in re.findall(rb"<([0-9a-fA-F]*)>", array)
                     for c in re.findall(rb"[0-9a-fA-F]{4}", chunk)]
            table = next((m for m in maps if all(c in m for c in codes)), {})
            runs.append("".join(table.get(c, "?") for c in codes))
    return "".join(runs)


def page_sizes(data: bytes) -> list[tuple[float, float]]:
    found = []
    for part in [data, *streams(data)]:
        for box in re.findall(rb"/MediaBox\s*\[\s*([\d.\s-]+)\]", part):
            x0, y0, x1, y1 = (float(v) for v in box.split())
            found.append((round(x1 - x0, 1), round(y1 - y0, 1)))
    return found


def embedded_fonts(data: bytes) -> int:
    """How many font programs the file carries (FontFile, FontFile2, FontFile3)."""
    return sum(len(re.findall(rb"/FontFile[23]?\b", part)) for part in [data, *streams(data)])
