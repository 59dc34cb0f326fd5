"""Province names as sponsors.yaml writes them: the official list, and the full name a short one most likely meant."""

from __future__ import annotations

from lambdas.survey.regions import PROVINCES  # one list for the site, the form and the server

# "广东" or "广西" alone is a common slip; the fix message offers the full name.
_SHORT = {name.removesuffix("省").removesuffix("市").removesuffix("自治区"): name for name in PROVINCES}
_SHORT.update({"广西": "广西壮族自治区", "宁夏": "宁夏回族自治区", "新疆": "新疆维吾尔自治区", "内蒙古": "内蒙古自治区"})


def suggest_province(value: str) -> str | None:
    """Return the full province name a mistyped value most likely meant, if any."""
    value = value.strip()
    if value in _SHORT:
        return _SHORT[value]
    for name in PROVINCES:
        if value and (name.startswith(value) or value.startswith(name[:2])):
            return name
    return None
