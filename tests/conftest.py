from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CAMPAIGN = (ROOT / "sponsors.yaml").read_text(encoding="utf-8").split("\nsponsors:\n")[0]

SMALL_SPONSORS = """
sponsors:
  - slug: guangdong-cyber
    name: 广东省网络空间安全协会
    short_name: 广东网安协会
    kind: initiator
    province: 广东省
    logo: site_src/logos/guangdong-sample.png
    website: https://guangdong-cyber.example.org/
    channels: [website, wechat, poster]
    prizes:
      - {provider: 广东省网络空间安全协会, item: 定制雨伞, quantity: 100, scope: local}
  - slug: shenzhen-media
    name: 深圳融媒体中心
    short_name: 深圳融媒
    kind: media
    province: 广东省
    city: 深圳市
    nominated_by: guangdong-cyber
    channels: [website, app]
  - slug: beijing-ccs
    name: 北京市计算机学会
    short_name: 北京计算机学会
    kind: initiator
    province: 北京市
    channels: [website, wechat]
    former_slugs: [beijing-old]
"""


def write_project(root: Path, sponsors_text: str) -> Path:
    """A copy of the real project's site sources and config with its own sponsors.yaml."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "mkdocs.yml", root / "mkdocs.yml")
    if not (root / "site_src").exists():
        shutil.copytree(ROOT / "site_src", root / "site_src")
    (root / "sponsors.yaml").write_text(sponsors_text, encoding="utf-8")
    return root


def mkdocs_build(project: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ, NO_MKDOCS_2_WARNING="1", SOURCE_DATE_EPOCH="1595379600")
    full_env.pop("SURVEY_SITE_URL", None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-f", str(project / "mkdocs.yml"), *extra],
        capture_output=True, text=True, env=full_env, cwd=project,
    )


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture
def small_project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "project", CAMPAIGN + SMALL_SPONSORS)


@pytest.fixture(scope="session")
def built_small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = write_project(tmp_path_factory.mktemp("built") / "project", CAMPAIGN + SMALL_SPONSORS)
    result = mkdocs_build(project)
    assert result.returncode == 0, result.stderr
    return project


@pytest.fixture(scope="session")
def built_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped sample, all sponsors, built once for the session."""
    project = write_project(tmp_path_factory.mktemp("sample") / "project", (ROOT / "sponsors.yaml").read_text(encoding="utf-8"))
    result = mkdocs_build(project)
    assert result.returncode == 0, result.stderr
    return project


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """An environment with no AWS settings at all, as on a fresh laptop."""
    for name in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance role to look for here
    return monkeypatch
