"""Settings in one typed place, read from the environment (prefix ``CITYSCORE_``) with documented defaults."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "cityscore"


class Settings(BaseSettings):
    """Where CityScore-KZ keeps its state and which version of the standard it uses by default."""

    model_config = SettingsConfigDict(env_prefix="CITYSCORE_", extra="ignore")

    home: Path = Field(
        default_factory=_default_home,
        description="Directory for imported catalogs and other state (CITYSCORE_HOME; default "
        "$XDG_DATA_HOME/cityscore or ~/.local/share/cityscore).",
    )
    standard: str = Field(
        default="469/НК-2025",
        description="Default catalog: a standard id or a catalog directory (CITYSCORE_STANDARD).",
    )
    ingest_earliest: date = Field(
        default=date(2000, 1, 1),
        description="Earliest plausible date of a record; earlier timestamps and dates are rejected "
        "(CITYSCORE_INGEST_EARLIEST).",
    )
    ingest_latest: date = Field(
        default=date(2100, 1, 1),
        description="First implausible date: records on or after it are rejected (CITYSCORE_INGEST_LATEST).",
    )


def get_settings() -> Settings:
    return Settings()
