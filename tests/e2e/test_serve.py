"""The README's main command: build for this machine, serve, stop cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import zxingcpp
from PIL import Image

from tests.helpers import free_port


def test_serve_builds_for_the_local_address_and_stops_on_ctrl_c(small_project):
    port = free_port()
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    env.pop("SURVEY_SITE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "generator", "serve", "--port", str(port)], cwd=small_project,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(base + "sponsors/beijing-ccs/", timeout=2) as response:
                    assert "北京市计算机学会" in response.read().decode()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read() if proc.stdout else ""
                time.sleep(0.3)
        with urllib.request.urlopen(base + "sponsors/beijing-ccs/kit/beijing-ccs-qr-wechat.png", timeout=5) as response:
            qr = Image.open(response)
            assert [r.text for r in zxingcpp.read_barcodes(qr)] == [base + "s/beijing-ccs/wechat/"]
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "stopped" in output
