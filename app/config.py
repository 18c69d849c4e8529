"""Settings from `O2O_`-prefixed environment variables (and a `.env` file)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import AwareDatetime, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

INSECURE_DEV_SECRET = "dev-insecure-secret-change-me-0123456789"


class Settings(BaseSettings):
    """Everything an operator can set; defaults make a local demo work."""

    model_config = SettingsConfigDict(env_prefix="O2O_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./o2o.db"
    secret_key: str = Field(default=INSECURE_DEV_SECRET, min_length=32)
    # Keyed hash of mobile numbers; separate from the token key so rotating one keeps the other.
    customer_key_secret: str | None = None
    access_token_minutes: int = Field(default=60, ge=1, le=24 * 60)
    followup_deadline_hours: int = Field(default=72, ge=1)
    max_page_size: int = Field(default=200, ge=1, le=10_000)
    default_page_size: int = Field(default=50, ge=1)
    max_upload_bytes: int = Field(default=512 * 1024 * 1024, ge=1024)
    # Limits that keep one request from exhausting memory or time (413/422 when crossed).
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_import_rows: int = Field(default=2_000_000, ge=1)
    max_export_rows: int = Field(default=2_000_000, ge=1)
    round_time_limit_seconds: float = Field(default=60.0, ge=1, le=3600)
    import_batch_rows: int = Field(default=5_000, ge=100, le=100_000)
    # PostgreSQL work_mem of a revenue import: its sorts and hashes span the whole file.
    import_work_mem_mb: int = Field(default=256, ge=4, le=16_384)
    # Rounds also run the greedy / round-robin / weighted-random baselines up to this pool size.
    round_baseline_max_leads: int = Field(default=50_000, ge=0)
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
    # Runs the process as if it started at this instant (ISO 8601 with an offset): replays,
    # demos and subprocess tests. Unset in production: the system clock.
    clock_start: AwareDatetime | None = None

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("O2O_DATABASE_URL must be a sqlite:// or postgresql:// URL")
        return value

    @property
    def sqlalchemy_url(self) -> str:
        """The URL with the psycopg 3 driver named explicitly for PostgreSQL."""
        if self.database_url.startswith("postgresql://"):
            return "postgresql+psycopg://" + self.database_url.removeprefix("postgresql://")
        return self.database_url

    @property
    def customer_key(self) -> bytes:
        return (self.customer_key_secret or self.secret_key + ":customer-key").encode()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
