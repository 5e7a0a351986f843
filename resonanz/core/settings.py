"""Application settings: environment variables (``RESONANZ_*``) and one optional TOML file.

Precedence, highest first: explicit arguments, environment variables, the TOML file
named by ``RESONANZ_CONFIG`` (default: ``<config dir>/resonanz.toml``), defaults.
Nested sections use ``__`` in environment variables, e.g. ``RESONANZ_SMTP__HOST``.

The database: ``RESONANZ_DATABASE_URL`` (or ``database_url`` in the TOML file); without one, the database
``resonanz demo`` left behind (its marker ``<data dir>/demo-database.json``, until ``resonanz demo --leave``);
else SQLite in the data directory. :func:`get_settings` turns an unreadable TOML file or an invalid value into
:class:`ConfigError` (German, says what to change) and warns when ``RESONANZ_CONFIG`` names no file.
"""

from __future__ import annotations

import json
import logging
import os
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from platformdirs import user_cache_dir, user_config_dir, user_data_dir
from pydantic import BaseModel, Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from resonanz.core.errors import AnswersError

APP = "resonanz"
DEMO_MARKER = "demo-database.json"
"""In the data directory: the database ``resonanz demo`` filled, the default while none is configured."""
log = logging.getLogger(__name__)


class ConfigError(AnswersError, ValueError):
    """The settings cannot be read: a broken TOML file, a value of the wrong kind, an unusable database URL."""


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
    offensive_second_model: str | None = "default"
    """The offensive cascade's second model (nlp/offensive.py): it reads the posts the first model gives at least
    ``offensive_gate`` ('default': the bundled all-layer model; a hub id or directory); empty/None: the first
    model alone."""
    offensive_gate: float = Field(default=0.25, ge=0.0, lt=0.5)
    """The first model's probability from which a post goes to the second (0 to below 0.5; lower: more posts)."""
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
    analyse_batch: int = Field(default=1024, ge=1)
    """Posts analysed together inside a scoring chunk (at most the chunk, 1,024). Smaller bounds the working memory
    at a cost in speed: ``resonanz score`` of 10,000 posts, quiet, in one session (before the language window and
    the mapped embeddings, which took the default to 1.55 GB): 1,024 71 posts/s and 2.13 GB peak, 256 59 posts/s
    and 1.96 GB (bench/bench_score_pipeline.py). For a small machine: 256."""
    language_detection: Literal["accurate", "light"] = "accurate"
    """lingua's high-accuracy mode (``accurate``, ~400 MB) or its low-accuracy mode (``light``, ~30 MB, a few
    per cent of short German posts taken for Danish or Dutch); the numbers are in nlp/language.py. ``resonanz score``
    of a whole backlog releases the accurate models while the transformers run, so the two never add up."""
    topics_file: Path | None = None
    flags_file: Path | None = None
    flag_model: str | None = "default"
    """Classifier heads for churn, complaint, offensive, spam and question flags: 'default' (bundled,
    nlp/weights/flags-de.safetensors), a path to one trained with scripts/train_flags.py, or empty/None
    for the keyword rules alone. Needs the embedding model."""


WEIGHT_MODES = ("revenue_share", "clv", "abc")
"""``value.weight_mode``: the modes of :func:`linker.value.weights.customer_weight` (``linker.value.weights.MODES``)."""
WEIGHT_MODE_ALIASES = {"class": "abc", "clv_share": "clv"}


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
    weight_mode: str = "revenue_share"
    """How a post counts (:mod:`resonanz.pipeline.weighting`): ``revenue_share`` (default; the customer's revenue
    relative to the average customer, who weighs 1), ``clv`` (the same with CLV; also ``clv_share``) or ``abc``
    (the fixed class weights ``abc_weights``; also ``class``)."""
    abc_weights: dict[str, float] = Field(default_factory=lambda: {"A": 5.0, "B": 2.0, "C": 1.0})
    prospect_weight: float = 0.5
    """Unlinked authors (prospects); in the relative modes also the floor for a linked customer."""
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

    @field_validator("weight_mode", mode="before")
    @classmethod
    def _weight_mode(cls, value: Any) -> Any:
        """The weighting by its name; ``class`` and ``clv_share`` are other names for ``abc`` and ``clv``."""
        if not isinstance(value, str):
            return value
        mode = WEIGHT_MODE_ALIASES.get(value.strip().lower(), value.strip().lower())
        if mode not in WEIGHT_MODES:
            raise PydanticCustomError(
                "weight_mode",
                "revenue_share (Umsatzanteil, Standard), clv (Kundenwert; auch clv_share) oder abc "
                "(feste Klassengewichte; auch class)",
            )
        return mode

    @field_validator("prospect_weight")
    @classmethod
    def _floor(cls, value: float) -> float:
        if value < 0:
            raise PydanticCustomError("weight_floor", "eine Zahl ab 0 (das Gewicht eines Beitrags ohne Kund:in)")
        return value

    @field_validator("max_weight")
    @classmethod
    def _cap(cls, value: float, info: ValidationInfo) -> float:
        floor = info.data.get("prospect_weight", 0.0)
        if value < floor:
            raise PydanticCustomError(
                "weight_cap",
                "eine Obergrenze, mindestens so groß wie prospect_weight ({floor})",
                {"floor": floor},
            )
        return value


class LinkSettings(BaseModel):
    auto_threshold: float = 0.95
    review_threshold: float = 0.60
    expected_customer_share: float = 0.30
    """Prior: share of social authors who are customers at all (see linker/identity/model.py)."""
    name_only_threshold: float = 0.97
    """Auto-link on the name alone (no matching place or contact) only from this probability on, and only for a
    name nobody else plausibly bears (linker.identity.namefreq); with the built-in name tables that is no name,
    so name-only matches go to review."""
    interval_minutes: int = 60
    """``resonanz run`` links new identities this often."""


class ScoreSettings(BaseModel):
    """``[score]``: how ``resonanz run`` scores what the collectors stored (resonanz/pipeline/jobs.py)."""

    enabled: bool = True
    """False: ``resonanz run`` scores nothing (``resonanz score`` by hand; alerts then see posts unscored)."""
    interval_minutes: int = 15
    """Fallback: every this often even without a collection (posts imported or stored by another process);
    a collection that stores posts starts the scoring at once."""
    batch_size: int = 256
    """Posts scored and committed per batch; the alerts are evaluated after every batch that scored posts."""

    @field_validator("interval_minutes")
    @classmethod
    def _interval(cls, value: int) -> int:
        if not 1 <= value <= 1440:
            raise PydanticCustomError("score_interval", "eine ganze Zahl von 1 bis 1440 (Minuten)")
        return value

    @field_validator("batch_size")
    @classmethod
    def _batch(cls, value: int) -> int:
        if not 1 <= value <= 100_000:
            raise PydanticCustomError("score_batch", "eine ganze Zahl von 1 bis 100000 (Beiträge je Stapel)")
        return value


class WorkerSettings(BaseModel):
    """``[workers]``: several ``resonanz worker`` processes on one PostgreSQL (resonanz/workers/, deployment docs)."""

    mode: Literal["scheduler", "procrastinate"] = "scheduler"
    """``scheduler``: ``resonanz run`` runs every job itself, in one process (SQLite and PostgreSQL).
    ``procrastinate`` (PostgreSQL only): ``resonanz run`` only defers the jobs into the database and any number
    of ``resonanz worker`` processes, on any machines, run them (``RESONANZ_WORKERS__MODE``)."""
    concurrency: int = 1
    """Jobs one worker process runs at the same time (scoring uses every core already: keep 1)."""
    score_chunk: int = 256
    """Posts per scoring job: a worker killed mid-job scores at most this many posts again."""
    score_queue: int = 64
    """At most this many scoring jobs wait at once; the planner tops the queue up as jobs finish."""
    heartbeat_seconds: float = 10.0
    """Every worker writes a sign of life this often."""
    stalled_after_seconds: float = 30.0
    """A worker without a sign of life for this long is dead: its running job goes back into the queue."""
    stalled_check_seconds: int = 60
    """How often (1-60 s) the workers look for jobs of dead workers."""
    stale_run_seconds: float = 120.0
    """A collection run of a source without a stored page for this long, found by the worker that holds the
    source's lock, belonged to a dead worker (another machine) and is taken over."""
    keep_finished_jobs: bool = False
    """Keep succeeded jobs in ``procrastinate_jobs`` (an audit of what ran where); default: deleted when done."""

    @field_validator("concurrency")
    @classmethod
    def _positive(cls, value: int) -> int:
        if not 1 <= value <= 100:
            raise PydanticCustomError("worker_count", "eine ganze Zahl von 1 bis 100")
        return value

    @field_validator("score_chunk", "score_queue")
    @classmethod
    def _chunk(cls, value: int) -> int:
        if not 1 <= value <= 100_000:
            raise PydanticCustomError("worker_chunk", "eine ganze Zahl von 1 bis 100000")
        return value

    @field_validator("stalled_check_seconds")
    @classmethod
    def _check(cls, value: int) -> int:
        if not 1 <= value <= 60:
            raise PydanticCustomError("worker_check", "eine ganze Zahl von 1 bis 60 (Sekunden)")
        return value

    @field_validator("stalled_after_seconds")
    @classmethod
    def _stalled(cls, value: float, info: ValidationInfo) -> float:
        heartbeat = info.data.get("heartbeat_seconds", 10.0)
        if value < 2 * heartbeat:
            raise PydanticCustomError(
                "worker_stalled",
                "mindestens das Doppelte von heartbeat_seconds ({heartbeat}), sonst gelten lebende Worker als tot",
                {"heartbeat": heartbeat},
            )
        return value


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
    google_business_client_id: str | None = None
    """OAuth client (Google Cloud console) authorised by an account that manages the Business Profile locations."""
    google_business_client_secret: SecretStr | None = None
    google_business_refresh_token: SecretStr | None = None
    """Scope https://www.googleapis.com/auth/business.manage."""
    google_play_service_account_file: str | None = None
    """Path to the JSON key of a service account invited to the Play Console (permission: reply to reviews)."""
    trustpilot_api_key: SecretStr | None = None
    meta_access_token: SecretStr | None = None
    """A Page access token (or a System User token with the Pages and their Instagram accounts assigned)."""
    meta_app_secret: SecretStr | None = None
    """Optional: signs every Graph API call (appsecret_proof), needed when the app requires it."""


class WebhookSettings(BaseModel):
    url: str
    format: str = "generic"
    """generic (Resonanz JSON) | slack | mattermost | teams (incoming-webhook shapes, resonanz/alerts/shapes.py)."""
    name: str = ""
    """Shown in the audit trail; default: the format and host."""
    min_severity: int = 1
    """1 Hinweis, 2 Warnung, 3 kritisch: only alerts from this severity on go to this hook."""


class AlertSettings(BaseModel):
    """``[alerts]``: rules, channels, quiet hours. Rules: resonanz/alerts/rules.py (overrides by rule name)."""

    enabled: bool = True
    interval_minutes: int = 5
    """``resonanz run`` evaluates this often; each pass only reads what came in since the last one."""
    public_url: str = "http://127.0.0.1:8765"
    """Where the web app is reached: the link in every alert."""
    email_recipients: list[str] = Field(default_factory=list)
    """Empty: the digest recipients."""
    webhooks: list[WebhookSettings] = Field(default_factory=list)
    quiet_hours: str = "22:00-07:00"
    """Europe/Berlin; empty string: none. Alerts below ``quiet_min_severity`` wait until the end."""
    quiet_min_severity: int = 3
    cooldown_minutes: int = 180
    """A resolved incident that comes back within this time is reopened, not raised again."""
    update_min_minutes: int = 60
    """At most one update message per alert and this many minutes (escalations are sent at once)."""
    resolve_after_hours: float = 12.0
    """A spike, topic or viral alert resolves itself after this long without a crossing."""
    retry_attempts: int = 3
    retry_base_seconds: float = 2.0
    max_attempts: int = 12
    """Across evaluation passes; then the message is marked failed (see the alert page)."""
    rules: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Per rule name: ``enabled`` and parameters, e.g. ``[alerts.rules.spike_thema_volumen] z = 5``."""


class ReviewSettings(BaseModel):
    """``[review]``: what the community managers' queue takes in beyond the flags."""

    key_classes: list[str] = Field(default_factory=lambda: ["A"])
    """ABC classes whose negative posts (and neutral replies to the brand) are queued with no flag
    (:mod:`resonanz.pipeline.key_customers`); ``[]`` turns that off."""

    @field_validator("key_classes")
    @classmethod
    def _classes(cls, value: list[str]) -> list[str]:
        wrong = [c for c in value if c not in ("A", "B", "C")]
        if wrong:
            raise PydanticCustomError(
                "key_classes", 'eine Liste der Klassen A, B, C (z. B. ["A"]), nicht {wrong}', {"wrong": wrong}
            )
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RESONANZ_", env_nested_delimiter="__", extra="ignore", toml_file=None)

    database_url: str = ""
    log_level: str = "INFO"
    language: Literal["de", "en"] = "de"
    """Interface language of the web pages, digest, alert messages and CLI (``RESONANZ_LANGUAGE``): German
    by default, ``en`` for English (resonanz/core/i18n.py)."""
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    nlp: NlpSettings = Field(default_factory=NlpSettings)
    value: ValueSettings = Field(default_factory=ValueSettings)
    link: LinkSettings = Field(default_factory=LinkSettings)
    score: ScoreSettings = Field(default_factory=ScoreSettings)
    collectors: CollectorSettings = Field(default_factory=CollectorSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    workers: WorkerSettings = Field(default_factory=WorkerSettings)
    review: ReviewSettings = Field(default_factory=ReviewSettings)

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
        demo = demo_database()
        if demo is not None:
            return demo.url
        return f"sqlite:///{data_dir() / 'resonanz.db'}"

    def uses_demo_database(self) -> bool:
        """True while no database is configured and ``resonanz demo`` left its database as the default."""
        return not self.database_url and demo_database() is not None


@dataclass(frozen=True)
class DemoDatabase:
    """What ``resonanz demo`` left in the data directory: its database and the week its story tells."""

    url: str
    week: str


def demo_marker() -> Path:
    return data_dir() / DEMO_MARKER


def demo_database() -> DemoDatabase | None:
    """The demo's database, if ``resonanz demo`` left one (and, for SQLite, its file still exists)."""
    path = demo_marker()
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        demo = DemoDatabase(url=str(data["database_url"]), week=str(data.get("week") or ""))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("%s ist nicht lesbar (%s) und wird ignoriert; `resonanz demo` schreibt sie neu.", path, exc)
        return None
    if demo.url.startswith("sqlite:///") and not Path(demo.url[len("sqlite:///") :]).is_file():
        return None
    return demo


def remember_demo_database(url: str, week: str) -> Path:
    """Make ``url`` the default database of later commands while none is configured."""
    path = demo_marker()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"database_url": url, "week": week}, indent=2) + "\n", encoding="utf-8")
    return path


def forget_demo_database() -> bool:
    """Later commands use the configured (or the embedded default) database again. False: there was no marker."""
    path = demo_marker()
    if not path.exists():
        return False
    path.unlink()
    return True


_TYPE_WORDS = {
    "int_parsing": "eine ganze Zahl",
    "int_from_float": "eine ganze Zahl",
    "float_parsing": "eine Zahl",
    "bool_parsing": "true oder false",
    "string_type": "ein Text in Anführungszeichen",
    "list_type": 'eine Liste, z. B. ["a@example.com"]',
    "dict_type": "ein Abschnitt [name] bzw. eine Tabelle",
    "model_type": "ein Abschnitt [name]",
    "missing": "eine Angabe",
    "literal_error": "einer der erlaubten Werte",
}


def _validation_message(exc: ValidationError, path: Path) -> str:
    lines = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        key = ".".join(loc) or "?"
        env = "RESONANZ_" + "__".join(part.upper() for part in loc)
        section = f"[{'.'.join(loc[:-1])}] " if len(loc) > 1 else ""
        wanted = _TYPE_WORDS.get(str(error.get("type")), str(error.get("msg")))
        if error.get("type") == "literal_error":  # e.g. language: which values there are
            wanted += " (" + str(error.get("ctx", {}).get("expected", "")).replace(" or ", " oder ") + ")"
        value = f" {error['input']!r}" if "input" in error and not isinstance(error["input"], dict) else ""
        where = f"in {path} ({section}{loc[-1] if loc else key} = ...) oder " if path.is_file() else ""
        lines.append(f"{key}: der Wert{value} passt nicht, erwartet ist {wanted}. Zu ändern {where}in {env}.")
    return "Die Einstellungen sind ungültig: " + " ".join(lines)


def _load_settings() -> Settings:
    """``Settings()``, with a broken TOML file or an invalid value as :class:`ConfigError`."""
    path = config_file()
    try:
        return Settings()
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"Die Einstellungsdatei {path} ist kein gültiges TOML ({exc}). Bitte die Stelle korrigieren "
            '(Texte in "Anführungszeichen", Abschnitte als [name]) oder die Datei umbenennen; '
            "RESONANZ_CONFIG wählt eine andere."
        ) from exc
    except OSError as exc:
        raise ConfigError(f"Die Einstellungsdatei {path} ist nicht lesbar ({exc}). Rechte prüfen.") from exc
    except ValidationError as exc:
        raise ConfigError(_validation_message(exc, path)) from exc


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The configured settings (cached). Raises :class:`ConfigError` with what to change."""
    explicit = os.environ.get("RESONANZ_CONFIG")
    if explicit and not Path(explicit).is_file():
        log.warning(
            "RESONANZ_CONFIG nennt %s, dort ist aber keine Datei: es gelten nur Umgebungsvariablen und "
            "Standardwerte. Pfad korrigieren, oder RESONANZ_CONFIG entfernen (dann gilt %s).",
            explicit,
            Path(user_config_dir(APP)) / "resonanz.toml",
        )
    return _load_settings()


def reset_settings_cache() -> None:
    get_settings.cache_clear()


def settings_from(**overrides: Any) -> Settings:
    return Settings(**overrides)
