"""Settings every service shares; each service extends them with its own."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tally06.domain.registry import ReconcileRules


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TALLY06_", extra="ignore", use_attribute_docstrings=True)

    database_url: str = Field(
        "postgresql://postgres@127.0.0.1:55432/tally06",
        validation_alias=AliasChoices("DATABASE_URL", "TALLY06_DATABASE_URL"),
    )
    kafka_bootstrap: str = Field(
        "127.0.0.1:19092",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP", "TALLY06_KAFKA_BOOTSTRAP"),
    )
    # Topics a service finds missing are created with this; production Kafka uses 3.
    topic_replication_factor: int = 1
    hmac_key: str = ""
    pii_keys: str = ""
    # Days clear personal data (citizen_pii) is kept; `tally06 pii retention` erases older rows.
    pii_retention_days: int = 365
    home: Path = Path(".tally06")
    log_level: str = "INFO"
    log_json: bool = True
    # "production" hides docs endpoints; "embedded" is the one-command local stack.
    mode: str = "embedded"
    # "system", "offset:SECONDS" (the demo at night) or "file:PATH" (tests move time).
    clock: str = "system"
    # How far from a claim's day a registry activation still confirms it, in days before and
    # after (the reasons of the defaults are in tally06.domain.registry.ReconcileRules).
    registry_before_days: int = ReconcileRules.before_days
    registry_after_days: int = ReconcileRules.after_days

    def reconcile_rules(self) -> ReconcileRules:
        return ReconcileRules(self.registry_before_days, self.registry_after_days)
