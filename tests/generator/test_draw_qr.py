"""The QR codes are qrcode's own: the same modules as its make(), whose choice of mask is found on arrays."""

from __future__ import annotations

import numpy as np
import pytest
import qrcode
import qrcode.util

from generator import images

URLS = [f"https://survey.example.org/s/{slug}/{channel}/" for slug in ("a", "guangdong-cyber", "x" * 40, "y" * 140)
        for channel in ("poster", "web", "wechat.school-12")] + ["https://e.cn/", "https://survey.example.org/" + "z" * 300]


def reference(url: str) -> tuple[tuple[bool, ...], ...]:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(url)
    code.make(fit=True)
    return tuple(tuple(bool(m) for m in row) for row in code.get_matrix())


@pytest.mark.parametrize("url", URLS)
def test_qr_matrix_is_the_one_qrcode_makes(url):
    images.qr_matrix.cache_clear()
    assert images.qr_matrix(url) == reference(url)


@pytest.mark.parametrize("url", URLS[::3])
def test_every_mask_scores_as_qrcode_scores_it(url):
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(url)
    code.best_fit()
    for mask in range(8):
        code.makeImpl(True, mask)
        assert images._penalty(np.array(code.modules, dtype=bool)) == qrcode.util.lost_point(code.modules)
