"""The 31 provincial-level divisions of mainland China, in the official order.

The order is the one used by national statistics, so directory pages list provinces the way readers expect.
"""

from __future__ import annotations

PROVINCES: tuple[str, ...] = (
    "北京市", "天津市", "河北省", "山西省", "内蒙古自治区",
    "辽宁省", "吉林省", "黑龙江省",
    "上海市", "江苏省", "浙江省", "安徽省", "福建省", "江西省", "山东省",
    "河南省", "湖北省", "湖南省", "广东省", "广西壮族自治区", "海南省",
    "重庆市", "四川省", "贵州省", "云南省", "西藏自治区",
    "陕西省", "甘肃省", "青海省", "宁夏回族自治区", "新疆维吾尔自治区",
)

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
