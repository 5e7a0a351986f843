"""Application settings: environment variables (``RESONANZ_*``) and one optional TOML file.

Precedence, highest first: explicit arguments, environment variables, the TOML file
named by ``RESONANZ_CONFIG`` (default: ``<config dir>/resonanz.toml``), defaults.
Nested sections use ``__`` in environment variables, e.g. ``RESONANZ_SMTP__HOST``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from platformdirs import user_cache_dir, user_config_dir, user_data_dir
from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

APP = "resonanz"


def data_dir() -> Path:
    return Path(os.environ.get("RESONANZ_DATA_DIR") or user_data_dir(APP))


def cache_dir() -> Path:
    return Path(os.environ.get("RESONANZ_CACHE_DIR") or user_cache_dir(APP))


def config_file() -> Path:
    return Path(os.environ.get("RESONANZ_CONFIG") or Path(user_config_dir(APP)) / "resonanz.toml")


class SmtpSettings(BaseModel):
    host: str = "localhost"
    port: int = 25
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = False
    ssl: bool = False
    sender: str = "resonanz@localhost"
    timeout: float = 30.0


class DigestSettings(BaseModel):
    recipients: list[str] = Field(default_factory=list)
    day_of_week: str = "mon"
    hour: int = 7
    minute: int = 0
    timezone: str = "Europe/Berlin"


class WebSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8765
    secret_key: SecretStr | None = None
    secure_cookies: bool = False


class NlpSettings(BaseModel):
    sentiment_model: str = "default"
    """'default' (bundled, offline: one German model for any brand, trained on all corpora, see
    nlp/MODEL_CARD.md), the earlier bundled 'germeval' (Deutsche Bahn feedback, hybrid; the retired name
    'general' selects 'default'), a Hugging Face model id, or a local directory (e.g. from ``resonanz train``)."""
    offensive_model: str | None = "default"
    """Offensive-language classifier ('default', hub id, directory); empty/None turns those flags off."""
    embedding_model: str | None = "default"
    """e5-style encoder for topic recall ('default' = bundled e5-small); empty/None: keyword topics only."""
    label_map: dict[str, str] = Field(default_factory=dict)
    """Model label -> negative/neutral/positive, for sentiment models with unclear label names."""
    precision: str = "auto"
    """'auto' (bf16 where the CPU has AMX/AVX512-BF16, else fp32), 'fp32' or 'bf16'; bf16 scores are stored
    under their own model version (``+bf16``)."""
    batch_tokens: int = 4096
    """Padded tokens per batch: 4096 measured best for e5-small on CPU (larger activations fall out of cache)."""
    max_length: int = 256
    threads: int | None = None
    """Parallel single-threaded scoring workers; default one per available core."""
    topics_file: Path | None = None
    flags_file: Path | None = None
    flag_model: str | None = "default"
    """Classifier heads for churn, complaint, offensive, spam and question flags: 'default' (bundled,
    nlp/weights/flags-de.safetensors), a path to one trained with scripts/train_flags.py, or empty/None
    for the keyword rules alone. Needs the embedding model."""


class ValueSettings(BaseModel):
    window_months: int = 12
    abc_basis: str = "revenue"  # revenue | margin
    abc_method: str = "cumulative"  # cumulative | headcount
    abc_a_share: float = 0.80
    abc_b_share: float = 0.95
    abc_a_headcount: float = 0.20
    """headcount method: the best 20 % (rounded up) are A ..."""
    abc_c_headcount: float = 0.20
    """... and the worst 20 % (rounded down) are C."""
    weight_mode: str = "abc"  # abc | revenue_share | clv
    abc_weights: dict[str, float] = Field(default_factory=lambda: {"A": 5.0, "B": 2.0, "C": 1.0})
    prospect_weight: float = 0.5
    max_weight: float = 50.0
    """Cap for the relative weight modes (revenue_share, clv)."""
    loyalty_threshold: float = 100.0
    loyalty_points: dict[str, float] = Field(
        default_factory=lambda: {
            "purchase": 10.0,
            "positive_post": 5.0,
            "campaign_reaction": 3.0,
            "app_use": 1.0,
        }
    )
    discount_rate: float = 0.10
    clv_horizon_years: int = 3
    clv_model: str = "auto"  # auto (BG/NBD + Gamma-Gamma when the history allows) | simple
    clv_min_repeat_customers: int = 20
    retention_rate: float | None = None
    """Yearly retention for the simple CLV model; None = measured from the previous window."""
    schedule_hour: int = 3
    """``resonanz run`` recomputes values daily at this hour (digest.timezone)."""


class LinkSettings(BaseModel):
    auto_threshold: float = 0.95
    review_threshold: float = 0.60
    expected_customer_share: float = 0.30
    """Prior: share of social authors who are customers at all (see linker/identity/model.py)."""
    name_only_threshold: float = 0.97
    """Auto-link on the name alone (no matching place or contact) only from this probability on."""
    interval_minutes: int = 60
    """``resonanz run`` links new identities this often."""


class CollectorSettings(BaseModel):
    user_agent: str = "Resonanz/0.1 (+https://github.com/resonanz/resonanz; social listening)"
    backfill_days: int = 30
    timeout: float = 20.0
    max_retries: int = 5
    mastodon_token: SecretStr | None = None
    bluesky_handle: str | None = None
    bluesky_app_password: SecretStr | None = None
    reddit_client_id: str | None = None
    reddit_client_secret: SecretStr | None = None
    youtube_api_key: SecretStr | None = None
    youtube_daily_quota: int = 10000


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RESONANZ_", env_nested_delimiter="__", extra="ignore", toml_file=None)

    database_url: str = ""
    log_level: str = "INFO"
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    nlp: NlpSettings = Field(default_factory=NlpSettings)
    value: ValueSettings = Field(default_factory=ValueSettings)
    link: LinkSettings = Field(default_factory=LinkSettings)
    collectors: CollectorSettings = Field(default_factory=CollectorSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = config_file()
        if path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{data_dir() / 'resonanz.core.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    get_settings.cache_clear()


def settings_from(**overrides: Any) -> Settings:
    return Settings(**overrides)
