"""The collection API's configuration, read once from the environment the template (or the local stack) sets."""

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
    secret: bytes  # keys the IP hash and signs proof-of-work challenges
    shards: int = DEFAULT_SHARDS  # counter items per day: spreads one day's writes over this many partitions
    proof_bits: int = 16  # leading zero bits a proof of work needs: about 65,000 hashes, a second or two on a phone
    max_body: int = 16 * 1024

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, need_secret: bool = True) -> Settings:
        env = dict(os.environ if env is None else env)
        missing = [k for k in ("SURVEY_TABLE", "SURVEY_SECRET") if not env.get(k) and (need_secret or k != "SURVEY_SECRET")]
        if missing:
            raise SettingsError(f"set {', '.join(missing)} in the function's environment (see infra/template.yaml)")
        try:
            shards = int(env.get("SURVEY_SHARDS", DEFAULT_SHARDS))
            bits = int(env.get("SURVEY_PROOF_BITS", 16))
        except ValueError as exc:
            raise SettingsError(f"SURVEY_SHARDS and SURVEY_PROOF_BITS must be whole numbers: {exc}") from exc
        if not 1 <= shards <= 256 or not 0 <= bits <= 28:
            raise SettingsError("SURVEY_SHARDS must be 1–256 and SURVEY_PROOF_BITS 0–28")
        catalog = Path(env.get("SURVEY_CATALOG") or Path(__file__).parent.parent / "sponsors.json")
        return cls(env["SURVEY_TABLE"], catalog, env.get("SURVEY_SECRET", "").encode(), shards, bits)

    @property
    def questionnaires(self) -> Path:
        """The questionnaires the site's forms were built from, published by the same build as the catalog."""
        return self.catalog.with_name("questionnaires.json")
