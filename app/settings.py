"""The one typed settings object. Nothing else in Hoist reads os.environ."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app import durations, limits

# Where `npm ci` puts GraphiQL and React (the README's commands run it).
_REPO_NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"

# What a browser sends as Origin: scheme://host[:port], nothing after it. A trailing slash
# or a path never equals any Origin header, so such an entry would silently allow nobody.
_ORIGIN = re.compile(r"https?://[^/?#\s]+")
_AUTHOR = re.compile(r"(?P<name>[^<>\n]*[^<>\s])\s*<(?P<email>[^<>\s]+)>")


class Settings(BaseSettings):
    """Every `HOIST_` setting; the README's configuration table mirrors this class."""

    model_config = SettingsConfigDict(env_prefix="HOIST_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Folder for the embedded default's files.")
    database_url: str | None = Field(
        None,
        description="postgres://user:pass@host:5432/db, or a SQLite URL; "
        "default: a SQLite file in the data folder.",
    )
    broker_url: str | None = Field(
        None,
        description="Celery broker (redis://...). Unset: an in-process worker is used.",
    )
    host: str = Field(
        "127.0.0.1",
        min_length=1,
        max_length=253,
        description="Address `hoist serve` (and `hoist worker`'s metrics port) listens on "
        "(0.0.0.0: every interface).",
    )
    port: int = Field(8000, ge=1, le=65535, description="Port `hoist serve` listens on.")
    workers: int = Field(
        1,
        ge=1,
        le=256,
        description="Server processes `hoist serve` runs (uvicorn workers, not `hoist worker`), "
        "each with its own database connections and, without a broker, its own job worker; "
        "more than 1 needs PostgreSQL.",
    )
    public_url: str = Field(
        "",
        max_length=2000,
        description="Base of links Hoist hands out (emails, the webhook's "
        "reportTo); unset: http://HOST:PORT, the address served (localhost for 0.0.0.0).",
    )
    log_level: str = Field("INFO", description="Python logging level.")
    log_format: Literal["text", "json"] = Field(
        "text",
        description="text: one human-readable line per record; json: one JSON object per "
        'line with the request id, trace id, operation and user id (README "Logs").',
    )
    keep_alive_seconds: int = Field(
        30,
        ge=1,
        le=3600,
        description="How long `hoist serve` keeps an idle client connection open. Longer "
        "than clients' and proxies' own idle timeouts (httpx: 5 s), so a client never "
        "sends on a connection the server is closing.",
    )
    node_modules: Path = Field(
        _REPO_NODE_MODULES,
        description="Folder holding the GraphiQL/React npm packages.",
    )
    # NoDecode: read as comma-separated text (below), not as the JSON list pydantic-settings
    # expects by default.
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        max_length=100,
        description="Origins (scheme://host[:port], comma-separated; `*`: any) whose "
        "browser pages may call the API; unset: none, and no CORS headers at all.",
    )

    # Limits of one request (README "Reliability and limits"); app/graphql/limits.py.
    graphql_max_depth: int = Field(
        12,
        ge=1,
        description="Deepest allowed GraphQL query: fields with a selection set "
        "nested in one another, fragments expanded (introspection fields not counted).",
    )
    graphql_max_aliases: int = Field(
        30,
        ge=0,
        description="Most aliases in one GraphQL document, a fragment's counted at each spread.",
    )
    graphql_max_tokens: int = Field(5000, ge=1, description="Most tokens in one GraphQL document.")
    graphql_max_fragments: int = Field(
        100,
        ge=0,
        description="Most fragment definitions in one GraphQL document, and "
        "separately most fragment spreads (`...Name`).",
    )
    graphql_max_selections: int = Field(
        5000,
        ge=1,
        description="Most fields one GraphQL document selects once every fragment "
        "spread is expanded (refuses short documents that stand for huge ones).",
    )
    graphql_max_cost: int = Field(
        10_000,
        ge=1,
        description="Highest estimated cost of one GraphQL operation: each field counts "
        "once per item of the lists around it, a list holding `first` items (100 when "
        "`first` is a variable) or 4 when it takes no `first`.",
    )
    max_body_bytes: int = Field(
        1024 * 1024,
        ge=1024,
        description="Largest HTTP request body, in bytes; a bigger one "
        "is refused with 413 before it is read further.",
    )
    max_evidence_bytes: int = Field(
        limits.EVIDENCE_BYTES,
        ge=1024,
        le=64 * 1024 * 1024,
        description="Largest evidence document (attachEvidence), in UTF-8 bytes. It travels "
        "inside a GraphQL request, so HOIST_MAX_BODY_BYTES must be larger still.",
    )

    outbox_relay_after_seconds: float = Field(
        30.0,
        description="A job not done this long after it was written is handed over again.",
    )
    outbox_relay_interval_seconds: float = Field(
        15.0,
        description="How often the periodic outbox relay runs, and the sweeps for what "
        "comes due by the clock (expiry, reminders, promotion windows).",
    )
    outbox_max_attempts: int = Field(
        10,
        ge=1,
        description="Handler runs of one job that may fail before it is DEAD.",
    )
    outbox_retry_base_seconds: float = Field(
        5.0,
        ge=0,
        description="Wait after a job's handler first fails; it doubles each time.",
    )
    outbox_retry_max_seconds: float = Field(
        600.0,
        ge=0,
        description="Longest wait between two runs of a failing job.",
    )

    deploy_executor: Literal["noop", "webhook"] = Field(
        "noop",
        description="noop: report every stage succeeded at once; webhook: POST to a "
        "deployer that reports back with recordStageResult. A pipeline with a Git target "
        "uses the git executor whatever this says.",
    )
    deploy_webhook_url: str | None = Field(None, description="Where the webhook executor POSTs.")
    deploy_webhook_secret: str | None = Field(
        None,
        description="Key of the HMAC-SHA256 signature over timestamp and body "
        "(X-Hoist-Signature, X-Hoist-Timestamp).",
    )
    deploy_webhook_timeout_seconds: float = Field(10.0, description="Timeout of one POST.")
    deploy_webhook_attempts: int = Field(
        4,
        description="Tries for a POST that fails transiently (network, 429, 5xx).",
    )
    deploy_webhook_backoff_seconds: float = Field(
        0.5,
        description="First wait between tries; it doubles each time.",
    )

    # Signed promotion records (issue 20): app/attestation/keys.py.
    signing_key_file: Path | None = Field(
        None,
        description="PEM file of Hoist's private key for signed promotion records (ECDSA "
        "P-256 or Ed25519, PKCS#8, unencrypted); unset: hoist-signing-key.pem in the data "
        "folder, generated at first start.",
    )

    # The `git` executor (issue 18): pipelines with a Git target; app/deployments/git.
    git_workdir: Path | None = Field(
        None,
        description="Folder of the cached working copies of Git targets "
        "(unset: `git` in the data folder).",
    )
    git_credentials_dir: Path | None = Field(
        None,
        description="Folder (a mounted secret) of the files Git targets name as `credential`: "
        "`username:token` for https, a private key for ssh, and `known_hosts`.",
    )
    git_author: str = Field(
        "Hoist <hoist@localhost>",
        description="Author and committer of the git executor's commits: `Name <email>`.",
    )
    git_commit_message: str = Field(
        "Deploy {image} to {application}/{environment}\\n\\n"
        "Deployed by {deployer}; request {request}, approved by {approvers}.",
        description="Template of the commit message (placeholders in the README); the "
        "Hoist-Request and Hoist-Deployment trailers follow it.",
    )
    git_push_attempts: int = Field(
        3,
        ge=1,
        le=20,
        description="Pushes tried when others push to the branch first, then FAILED.",
    )
    git_timeout_seconds: float = Field(
        60.0, gt=0, description="Longest one git command (clone, fetch, push) may take."
    )

    # Event webhooks (issue 17); app/webhooks/delivery.py explains the tries.
    webhook_allow_private: bool = Field(
        False,
        description="Allow webhook endpoints on loopback, private and link-local addresses "
        "(off: such URLs are refused, so the server cannot be made to reach internal services).",
    )
    webhook_timeout_seconds: float = Field(10.0, gt=0, description="Timeout of one webhook POST.")
    webhook_max_attempts: int = Field(
        12, ge=1, description="Tries of one delivery before it is FAILED (redeliver by hand)."
    )
    webhook_retry_base_seconds: float = Field(
        10.0, gt=0, description="First wait after a failed try; it doubles each time."
    )
    webhook_retry_max_seconds: float = Field(
        3600.0, gt=0, description="Longest wait between two tries of one delivery."
    )
    webhook_claim_timeout_seconds: float = Field(
        120.0,
        gt=0,
        description="A try unfinished after this long was a worker that stopped: try again.",
    )
    webhook_disable_after: int = Field(
        50,
        ge=1,
        description="Failed tries in a row after which an endpoint is switched off "
        "(the super-admins are told).",
    )

    # Live GraphQL subscriptions (issue 17); app/live.py and app/graphql/live.py.
    live_max_subscriptions: int = Field(
        1000,
        ge=1,
        description="Most live subscriptions one API process holds (WebSocket and SSE).",
    )
    live_max_subscriptions_per_connection: int = Field(
        20,
        ge=1,
        le=1000,
        description="Most operations one WebSocket connection runs at once.",
    )
    live_queue_size: int = Field(
        100,
        ge=1,
        le=100_000,
        description="Events waiting for one subscriber; a subscriber that falls further "
        "behind is dropped with a SUBSCRIBER_TOO_SLOW error.",
    )
    live_recheck_seconds: float = Field(
        30.0,
        gt=0,
        le=60,
        description="How often a subscription checks its token again (a revoked or "
        "expired one ends it) and re-reads the caller's roles.",
    )
    live_heartbeat_seconds: float = Field(
        15.0,
        gt=0,
        le=300,
        description="How often a subscription's connection carries a heartbeat (a "
        "graphql-transport-ws ping message; an SSE comment), so proxies keep it open.",
    )

    # Email notifications (SPEC §7); app/notifications/delivery.py explains the retries.
    email_backend: Literal["console", "smtp", "ses"] = Field(
        "console",
        description="console: write emails to the log; smtp: aiosmtplib; ses: Amazon SES v2.",
    )
    email_sender: str = Field(
        "Hoist <hoist@localhost>",
        description="From address of every email.",
    )
    email_max_attempts: int = Field(
        5,
        ge=1,
        description="Tries of one email before it is FAILED (transient errors only).",
    )
    email_retry_base_seconds: float = Field(
        30.0,
        ge=0,
        description="Wait before the first retry; it doubles with each attempt.",
    )
    email_retry_max_seconds: float = Field(
        300.0,
        ge=0,
        description="Longest wait between two tries of an email; an unreachable "
        "mail server is retried at this pace for as long as it is down, using no attempts.",
    )
    email_claim_timeout_seconds: float = Field(
        300.0,
        gt=0,
        description="An email claimed by a worker that stopped this long ago is "
        "UNKNOWN (maybe delivered), never sent again by itself.",
    )
    # Approve and reject from the email (issue 16): app/notifications/links.py.
    email_actions: Literal["all", "non-production", "off"] = Field(
        "all",
        description="all: approval emails carry Approve and Reject links; non-production: "
        "not for production environments (decided signed in to the dashboard); off: none.",
    )
    email_link_ttl: str = Field(
        "72h",
        description="How long an email's Approve and Reject links work (a duration such as "
        "72h or 3d, or a number of hours), never past the request's own expiry.",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Key that signs the email links; unset: a random key Hoist makes once "
        "and keeps in the database, shared by every process.",
    )
    smtp_host: str = Field("localhost", description="SMTP server.")
    smtp_port: int = Field(25, description="SMTP port (465 for tls, 587 for starttls).")
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        "none",
        description="none: plain, starttls: upgrade (required), tls: TLS from the start.",
    )
    smtp_user: str | None = Field(None, description="SMTP login (unset: no AUTH).")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_timeout: float = Field(10.0, gt=0, description="Timeout of each SMTP command, seconds.")
    ses_region: str | None = Field(
        None,
        description="AWS region of SES (unset: the AWS default chain's region).",
    )
    ses_access_key_id: str | None = Field(
        None,
        description="AWS key id (unset: the default AWS credential chain).",
    )
    ses_secret_access_key: SecretStr | None = Field(None, description="AWS secret key.")
    ses_configuration_set: str | None = Field(None, description="SES configuration set to use.")
    ses_endpoint_url: str | None = Field(
        None,
        description="Another SES endpoint (tests point it at moto).",
    )

    # Prometheus metrics (issue 19); README "Metrics", app/observability.
    metrics_token: SecretStr | None = Field(
        None,
        description="Bearer token a scraper must send to read /metrics (and the worker's "
        "metrics port); unset: anyone who reaches them may read them.",
    )
    metrics_dir: Path | None = Field(
        None,
        description="Folder where every process of this machine (server processes, worker "
        "pool) keeps its metrics, added up when scraped (unset: `metrics` in the data folder).",
    )
    worker_metrics_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="`hoist worker` serves its own /metrics on this port (at HOIST_HOST), for "
        "a worker on another machine or container than the server; unset: no port.",
    )

    # Client side of the `hoist` CLI (commands that talk to a server over HTTP).
    url: str = Field("http://127.0.0.1:8000", description="Server the CLI talks to.")
    token: str | None = Field(None, description="API token the CLI sends.")

    @field_validator("email_link_ttl")
    @classmethod
    def _check_link_ttl(cls, value: str) -> str:
        if link_ttl_seconds(value) is None:
            raise ValueError(
                f"{value[:40]!r} is not a duration: write e.g. 72h, 3d, 1h30m or a number of hours"
            )
        return value

    @property
    def email_link_ttl_seconds(self) -> int:
        """HOIST_EMAIL_LINK_TTL in seconds (checked when the settings were read)."""
        seconds = link_ttl_seconds(self.email_link_ttl)
        assert seconds is not None
        return seconds

    @field_validator("git_author")
    @classmethod
    def _check_author(cls, value: str) -> str:
        if not _AUTHOR.fullmatch(value):
            raise ValueError(f"{value[:80]!r} is not `Name <email>`")
        return value

    @property
    def git_author_parts(self) -> tuple[str, str]:
        """HOIST_GIT_AUTHOR as (name, email) (checked when the settings were read)."""
        found = _AUTHOR.fullmatch(self.git_author)
        assert found is not None
        return found["name"], found["email"]

    @property
    def resolved_metrics_dir(self) -> Path:
        return (self.metrics_dir or self.data_dir / "metrics").resolve()

    @property
    def resolved_signing_key_file(self) -> Path:
        return (self.signing_key_file or self.data_dir / "hoist-signing-key.pem").resolve()

    @property
    def resolved_git_workdir(self) -> Path:
        return (self.git_workdir or self.data_dir / "git").resolve()

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"{origin[:100]!r} is not an origin: write scheme://host[:port], "
                    "without a path or a trailing slash (or * for any)"
                )
        return origins

    # True while public_url is derived from host and port, so it follows `serve --port`.
    _public_url_follows_address: bool = PrivateAttr(False)

    @model_validator(mode="after")
    def _derive_public_url(self) -> Settings:
        if not self.public_url:
            self._public_url_follows_address = True
            self.public_url = served_url(self.host, self.port)
        return self

    def serve_at(self, host: str, port: int) -> None:
        """`hoist serve --host/--port` override HOIST_HOST/HOIST_PORT for this process; a
        public URL derived from them follows, so links point where the server really is."""
        self.host, self.port = host, port
        if self._public_url_follows_address:
            self.public_url = served_url(host, port)

    def serve_environment(self) -> dict[str, str]:
        """What `hoist serve --workers` hands its processes: each reads its settings afresh
        from the environment, so the --host/--port overrides travel as HOIST_ variables."""
        return {"HOIST_HOST": self.host, "HOIST_PORT": str(self.port)}

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite://{(self.data_dir / 'hoist.sqlite3').resolve()}"


def link_ttl_seconds(text: str) -> int | None:
    """HOIST_EMAIL_LINK_TTL in seconds: a duration (`72h`, `3d`) or a whole number of hours;
    None when it is neither, or not positive."""
    text = text.strip()
    seconds = int(text) * 3600 if text.isdigit() and len(text) <= 6 else durations.parse(text)
    return seconds if seconds else None


# OpenTelemetry's own variables, read by its SDK (app/observability/tracing.py); Hoist only
# asks whether one is set, since an endpoint is what turns tracing on.
OTLP_TRACES_ENDPOINTS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


def otlp_traces_configured() -> bool:
    """True when an OTLP endpoint for traces is set (the standard OTEL_ variables), unless
    OTEL_SDK_DISABLED=true switches OpenTelemetry off as the specification says."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(os.environ.get(name, "").strip() for name in OTLP_TRACES_ENDPOINTS)


def served_url(host: str, port: int) -> str:
    """http://host:port as a browser reaches it: a wildcard address is not one to link to."""
    if host in {"0.0.0.0", "::", "[::]"}:
        host = "localhost"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 literal
    return f"http://{host}:{port}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
