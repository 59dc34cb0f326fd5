"""The campaign's own artwork, which the secretariat drops into `site_src/artwork/`: its logo and its mascot.

Both are optional. Without a logo the images carry the drawn shield; without a mascot the layouts simply have no
mascot. A file that is there but unreadable stops the build with its name and the fix, before anything is drawn.
"""

from __future__ import annotations

from pathlib import Path

from .model import Problem, SponsorsError

FOLDER = "site_src/artwork"
# slot -> file name, and what the slot is for (in the error messages)
SLOTS = {
    "logo": ("campaign-logo.png", "the campaign's logo (活动标识), drawn in place of the shield"),
    "mascot": ("mascot.png", "the campaign's mascot (吉祥物), drawn on the poster and the large entry images"),
}
MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 16_000_000


def files(base_dir: Path) -> dict[str, Path]:
    """The artwork present in the project, by slot."""
    found = {}
    for slot, (name, _) in SLOTS.items():
        path = base_dir / FOLDER / name
        if path.is_file():
            found[slot] = path
    return found


def check(base_dir: Path) -> dict[str, Path]:
    """The artwork present, each file checked to be a PNG of sensible size; every problem is reported at once."""
    from PIL import Image

    found = files(base_dir)
    problems = []
    for slot, path in found.items():
        name, purpose = SLOTS[slot]
        where = f"{FOLDER}/{name} ({purpose})"
        if path.stat().st_size > MAX_BYTES:
            problems.append(Problem(0, where, f"the file is {path.stat().st_size // 1024} KB. Fix: save it under "
                                              f"{MAX_BYTES // 1024 // 1024} MB (a PNG of about 1000 px is plenty)"))
            continue
        try:
            with Image.open(path) as image:
                if image.format != "PNG":
                    problems.append(Problem(0, where, f"it is {image.format}, not PNG. Fix: save it as PNG "
                                                      "(with a transparent background)"))
                elif image.width * image.height > MAX_PIXELS:
                    problems.append(Problem(0, where, f"it is {image.width}×{image.height} pixels. Fix: scale it to "
                                                      "at most about 4000×4000"))
                else:
                    image.verify()
        except Exception as exc:  # noqa: BLE001 - Pillow reports a broken file with many exception types
            problems.append(Problem(0, where, f"it cannot be read as an image ({exc}). Fix: export it again as PNG"))
    if problems:
        raise SponsorsError(base_dir / FOLDER, problems)
    return found
