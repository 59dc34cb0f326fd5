"""The collection API's configuration, read once per container from the environment the template (or the local
stack) gives each function. Each function reads only what it needs: the sweeper and the counts function know no
secret at all; the submit function's keys come from Secrets Manager (see keys.py), never from its environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SHARDS = 16


class SettingsError(RuntimeError):
    pass


@dataclass(frozen=True)
class Settings:
    table: str
    catalog: Path  # sponsors.json from the site build
    shards: int = DEFAULT_SHARDS  # counter items per day: spreads one day's writes over this many partitions
    site_origin: str = ""  # another origin the site is served from (a custom domain), besides the catalog's
    max_body: int = 16 * 1024

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        if not env.get("SURVEY_TABLE"):
            raise SettingsError("set SURVEY_TABLE in the function's environment (see infra/template.yaml)")
        try:
            shards = int(env.get("SURVEY_SHARDS", DEFAULT_SHARDS))
        except ValueError as exc:
            raise SettingsError(f"SURVEY_SHARDS must be a whole number: {exc}") from exc
        if not 1 <= shards <= 256:
            raise SettingsError("SURVEY_SHARDS must be 1–256")
        catalog = Path(env.get("SURVEY_CATALOG") or Path(__file__).parent.parent / "sponsors.json")
        return cls(env["SURVEY_TABLE"], catalog, shards, env.get("SURVEY_SITE_ORIGIN", "").rstrip("/"))

    @property
    def questionnaires(self) -> Path:
        """The questionnaires the site's forms were built from, published by the same build as the catalog."""
        return self.catalog.with_name("questionnaires.json")

    @property
    def rules(self) -> Path:
        """The validity rules the site publishes, from the same build."""
        return self.catalog.with_name("rules.json")
