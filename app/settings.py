"""The one typed settings object. Nothing else in Hoist reads os.environ."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# Where `npm ci` puts GraphiQL and React (the README's commands run it).
_REPO_NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"

class Settings(BaseSettings):
    """Every `HOIST_` setting; the README's configuration table mirrors this class."""

    model_config = SettingsConfigDict(env_prefix="HOIST_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Folder for the embedded default's files.")
    database_url: str | None = Field(
        None, description="postgres://user:pass@host:5432/db, or a SQLite URL; "
        "default: a SQLite file in the data folder.",
    )
    broker_url: str | None = Field(
        None, description="Celery broker (redis://...). Unset: an in-process worker is used.",
    )
    public_url: str = Field("http://127.0.0.1:8000", description="Base of links in emails.")
    log_level: str = Field("INFO", description="Python logging level.")
    node_modules: Path = Field(
        _REPO_NODE_MODULES, description="Folder holding the GraphiQL/React npm packages.",
    )

    graphql_max_depth: int = Field(12, description="Deepest allowed GraphQL query.")
    graphql_max_aliases: int = Field(30, description="Most aliases in one GraphQL document.")
    graphql_max_tokens: int = Field(5000, description="Most tokens in one GraphQL document.")

    outbox_relay_after_seconds: float = Field(
        30.0, description="A job not done this long after it was written is handed over again.",
    )
    outbox_relay_interval_seconds: float = Field(
        15.0, description="How often the periodic outbox relay runs.",
    )
    embedded_poll_seconds: float = Field(
        0.05, description="Polling interval of the in-process worker's filesystem broker.",
    )

    # Client side of the `hoist` CLI (commands that talk to a server over HTTP).
    url: str = Field("http://127.0.0.1:8000", description="Server the CLI talks to.")
    token: str | None = Field(None, description="API token the CLI sends.")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite://{(self.data_dir / 'hoist.sqlite3').resolve()}"

@lru_cache
def get_settings() -> Settings:
    return Settings()
