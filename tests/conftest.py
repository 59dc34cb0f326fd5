from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import (  # noqa: F401  (tree_digest: imported from here by other modules)
    CAMPAIGN, ROOT, SMALL_SPONSORS, chromium, mkdocs_build, tree_digest, write_project,
)


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


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, one per test module."""
    with chromium() as b:
        yield b
