"""Settings from `O2O_`-prefixed environment variables (and a `.env` file)."""

from __future__ import annotations

import hashlib
import hmac
import logging
from functools import lru_cache

from pydantic import AliasChoices, AwareDatetime, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.privacy.keys import parse_data_key

logger = logging.getLogger(__name__)

INSECURE_DEV_SECRET = "dev-insecure-secret-change-me-0123456789"
# Keys that are published (in this repository or its docs): whoever knows one can forge a token
# or a session cookie, so `o2o serve` refuses them outside demo mode.
KNOWN_PUBLIC_SECRETS = frozenset({INSECURE_DEV_SECRET})
MIN_SECRET_CHARS = 32


# One revenue row above 100 million yuan (in fen) is a data error unless configured otherwise.
DEFAULT_MAX_REVENUE_AMOUNT_FEN = 10_000_000_000


class Settings(BaseSettings):
    """Everything an operator can set; defaults make a local demo work."""

    model_config = SettingsConfigDict(env_prefix="O2O_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./o2o.db"
    secret_key: str = Field(default=INSECURE_DEV_SECRET, min_length=MIN_SECRET_CHARS)
    # Lets `o2o serve` run on the published development key (a local demo, never production).
    demo_mode: bool = False
    # Keyed hash of mobile numbers; separate from the token key so rotating one keeps the other.
    customer_key_secret: str | None = None
    # AES-GCM key for mobile numbers at rest (32 bytes, hex or base64); kept apart from the
    # database and from secret_key. Unset: derived from secret_key, with a warning.
    data_key: str | None = None
    access_token_minutes: int = Field(default=60, ge=1, le=24 * 60)
    followup_deadline_hours: int = Field(default=72, ge=1)
    # Count the deadline on working days only: "weekdays", or a CSV of holidays and make-up
    # workdays (app/ownership/deadline.py). Unset: every hour counts.
    work_calendar: str | None = None
    # Branches hear of leads this many (working) hours before their deadline (0: never).
    deadline_warning_hours: int = Field(default=8, ge=0)
    # Notification webhooks (WeCom or SMS gateways, docs/contract.md §10): one URL for the
    # deployment and/or per branch code (JSON: {"SZ-FT": "https://..."}); bodies are signed
    # with HMAC-SHA256 under the secret. No URL for a branch: its notifications stay in the inbox.
    notify_webhook_url: str | None = None
    notify_branch_webhooks: dict[str, str] = Field(default_factory=dict)
    notify_webhook_secret: str | None = Field(default=None, min_length=16)
    notify_max_attempts: int = Field(default=16, ge=1, le=100)  # ~10 h of retries
    notify_backoff_seconds: float = Field(default=30.0, gt=0)  # doubled per attempt, jittered
    notify_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    notify_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    max_page_size: int = Field(default=200, ge=1, le=10_000)
    default_page_size: int = Field(default=50, ge=1)
    max_upload_bytes: int = Field(default=512 * 1024 * 1024, ge=1024)
    # Limits that keep one request from exhausting memory or time (413/422 when crossed).
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_import_rows: int = Field(default=2_000_000, ge=1)
    # A revenue row above this many fen either way is a data error (a misplaced decimal
    # point, a total pasted as a row): 100 million yuan. With max_import_rows rows at most,
    # a file's totals stay far inside 64-bit fen (the importer checks that too).
    max_revenue_amount_fen: int = Field(default=DEFAULT_MAX_REVENUE_AMOUNT_FEN, ge=1, le=2**63 - 1)
    # A reversal or suspense reclassification moving more than this many fen waits for a
    # second finance user's approval (app/journal/approvals.py); 0: every correction does.
    # 50,000 yuan by default.
    correction_approval_fen: int = Field(default=5_000_000, ge=0, le=2**63 - 1)
    max_export_rows: int = Field(default=2_000_000, ge=1)
    round_time_limit_seconds: float = Field(default=60.0, ge=1, le=3600)
    # Scenario sweeps (issue 15.2) run their solves on this Ray cluster ("ray://host:10001",
    # "auto", or "local" for a throw-away local instance) when set; else on local processes.
    ray_address: str | None = None
    import_batch_rows: int = Field(default=5_000, ge=100, le=100_000)
    # PostgreSQL work_mem of a bulk transaction (a lead or revenue import, a round's store and
    # commit): their sorts, hashes and trigger transition tables span a whole file or pool.
    # O2O_IMPORT_WORK_MEM_MB is its earlier name, still read.
    bulk_work_mem_mb: int = Field(
        default=256, ge=4, le=16_384,
        validation_alias=AliasChoices(
            "bulk_work_mem_mb", "O2O_BULK_WORK_MEM_MB", "O2O_IMPORT_WORK_MEM_MB"
        ),
    )  # fmt: skip
    # Imported credits carry the KPI overlay (points to the lead's acquiring channel): half
    # of an import's postings. A finance option: off, new credits carry their money legs only.
    ledger_kpi_overlay: bool = True
    # Rounds also run the greedy / round-robin / weighted-random baselines up to this pool size.
    round_baseline_max_leads: int = Field(default=50_000, ge=0)
    # Rounds that keep room for arrivals (`reserve_for_arrivals: auto`, app/rounds/reserve.py):
    # the channel intake of the last this many days, scaled to this many days until the next.
    reserve_window_days: int = Field(default=7, ge=1, le=365)
    reserve_horizon_days: float = Field(default=1.0, gt=0, le=365)
    # Password guessing: this many attempts without a success, for one username from one client
    # address, lock that pair out for the window (docs/security.md).
    login_max_failures: int = Field(default=10, ge=1)
    login_lockout_minutes: int = Field(default=15, ge=1)
    # Failed sign-ins from one client address (any usernames) before it is locked out too.
    login_max_failures_per_client: int = Field(default=100, ge=1)
    reveal_limit_per_hour: int = Field(default=30, ge=0)
    # Comma-separated proxy IPs whose X-Forwarded-For names the client (docs/security.md).
    trusted_proxies: str = ""
    sqlite_busy_timeout_ms: int = Field(default=10_000, ge=0)
    # Jobs (docs/jobs.md): the queue is Redis when this is set; else tables in the PostgreSQL
    # database; else a SQLite file (job_queue_path; unset: beside the SQLite database).
    redis_url: str | None = None
    job_queue_path: str | None = None
    # Uploads waiting for their import job (unset: beside a SQLite database, or
    # ./o2o-job-files); workers on other hosts need it on shared storage.
    job_files_path: str | None = None
    # A lead file uploaded on the import page at least this big is imported by a job.
    import_job_min_bytes: int = Field(default=8 * 1024 * 1024, ge=0)
    # Worker threads the web process runs itself (the demo: one command); 0 in production,
    # where `o2o worker` runs beside `o2o serve`.
    job_workers_in_process: int = Field(default=1, ge=0, le=8)
    # A running job renews its lease every third of this; past it, the job's worker is dead.
    job_lease_seconds: int = Field(default=60, ge=3, le=3600)
    # Runs the process as if it started at this instant (ISO 8601 with an offset): replays,
    # demos and subprocess tests. Unset in production: the system clock.
    clock_start: AwareDatetime | None = None

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("O2O_DATABASE_URL must be a sqlite:// or postgresql:// URL")
        return value

    @field_validator("data_key")
    @classmethod
    def _usable_data_key(cls, value: str | None) -> str | None:
        if value:
            parse_data_key(value)
        return value

    @property
    def sqlalchemy_url(self) -> str:
        """The URL with the psycopg 3 driver named explicitly for PostgreSQL."""
        if self.database_url.startswith("postgresql://"):
            return "postgresql+psycopg://" + self.database_url.removeprefix("postgresql://")
        return self.database_url

    @property
    def insecure_secret_problem(self) -> str | None:
        """Why the signing key cannot protect a real deployment, or None when it can."""
        if self.secret_key.strip() in KNOWN_PUBLIC_SECRETS:
            return "O2O_SECRET_KEY is the published development key; anyone can forge a token"
        if len(set(self.secret_key)) < 8:
            return "O2O_SECRET_KEY has fewer than 8 distinct characters; it can be guessed"
        return None

    @property
    def customer_key(self) -> bytes:
        return (self.customer_key_secret or self.secret_key + ":customer-key").encode()

    @property
    def data_key_bytes(self) -> bytes:
        if self.data_key:
            return parse_data_key(self.data_key)
        return _derived_data_key(self.secret_key)


@lru_cache(maxsize=8)
def _derived_data_key(secret_key: str) -> bytes:
    """Without O2O_DATA_KEY: a key derived from the token secret (warned once per process).

    Demos and tests keep working; production sets a separate key, so that a leaked token
    secret (or database dump plus secret) is not enough to read mobile numbers.
    """
    logger.warning(
        "O2O_DATA_KEY is not set: mobile numbers are encrypted with a key derived from "
        "O2O_SECRET_KEY; set a separate O2O_DATA_KEY in production"
    )
    return hmac.new(secret_key.encode(), b"o2o data key v1", hashlib.sha256).digest()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
