"""Configuration: defaults < vigie.toml < environment / .env < CLI flags.

One table of defaults (the ``*Settings`` models below) feeds the CLI help, the config file and
the Python API. Sections map to ``[section]`` tables of ``vigie.toml`` and to environment
variables ``VIGIE_<SECTION>__<FIELD>`` (e.g. ``VIGIE_CAPTURE__EVERY=30``).

Secrets (tokens, passwords) come only from the environment or ``.env``; a secret in
``vigie.toml`` is refused, and secrets are ``SecretStr`` so they never print.
The seed scripts' names ``TOKEN`` and ``IMAGE_URL`` are still accepted.
"""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import AliasChoices, BaseModel, Field, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from vigie.config_layers import CONFIG_FILE_NAME as CONFIG_FILE_NAME
from vigie.config_layers import SECRET_FIELDS as SECRET_FIELDS
from vigie.config_layers import check_known
from vigie.config_layers import config_file_path as config_file_path
from vigie.config_layers import read_config_file as read_config_file
from vigie.errors import ConfigError

_Section = TypeVar("_Section", bound=BaseModel)

_toml_data: ContextVar[dict[str, Any]] = ContextVar("vigie_toml_data", default={})  # noqa: B039


class CaptureSettings(BaseModel):
    every: float = Field(60.0, gt=0, description="seconds between two snapshots")
    count: int = Field(50, ge=0, description="snapshots per camera; 0 runs until stopped")
    out: Path = Field(Path("captures"), description="folder of camera folders")
    camera_folders: bool = Field(
        True, description="one sub-folder per camera; false: files straight in out (the seed)"
    )
    hash: Literal["ahash", "phash", "dhash"] = "ahash"
    threshold: int = Field(0, ge=0, description="max hamming distance for 'same picture'")
    timezone: Literal["utc", "local"] = Field("utc", description="clock used in file names")
    timeout: float = Field(10.0, gt=0, description="seconds per request")
    max_pixels: int = Field(50_000_000, gt=0, description="decompression-bomb limit")
    max_bytes: int = Field(50 * 1024**2, gt=0, description="largest snapshot body accepted")
    max_retry_after: float = Field(3600.0, ge=0, description="cap on a server's Retry-After")
    stop_grace: float = Field(3.0, ge=0, description="seconds to finish a frame after Ctrl-C")
    kind: Literal["auto", "snapshot", "hls", "rtsp", "mjpeg"] = Field(
        "auto", description="camera URL kind; auto: from the URL, then the Content-Type"
    )
    reopen_min: float = Field(0.5, gt=0, description="first wait before reopening a stream")
    reopen_max: float = Field(30.0, gt=0, description="longest wait between stream reopens")
    cameras_source: str = Field(
        "https://download.data.grandlyon.com/wfs/grandlyon?SERVICE=WFS&VERSION=2.0.0"
        "&request=GetFeature&typename=pvo_patrimoine_voirie.pvocameracriter"
        "&outputFormat=application/json;%20subtype=geojson&SRSNAME=EPSG:4171",
        description="camera registry (Grand Lyon CRITER open data): URL or file",
    )


class DedupSettings(BaseModel):
    hash: Literal["ahash", "phash", "dhash"] = Field("ahash", description="perceptual hash")
    threshold: int = Field(0, ge=0, description="max hamming distance for 'same picture'")
    recursive: bool = Field(True, description="scan sub-folders too")
    hash_size: int = Field(8, ge=2, description="hash side: hash_size**2 bits")


class LinksSettings(BaseModel):
    twitter_platform_id: int = 3
    s3_bucket: str | None = Field(None, description="bucket of the non-Twitter media (required)")
    s3_region: str = "eu-west-3"
    s3_url_template: str = "https://{bucket}.s3.{region}.amazonaws.com/{key}"
    s3_endpoint_url: str | None = None
    presign: bool = False
    presign_expires: int = 7 * 24 * 3600
    tag: str = "links"
    out: Path = Path(".")
    manifest_format: Literal["csv", "jsonl"] = "jsonl"
    page_size: int = Field(5000, ge=1, description="study publications read per query page")
    read_retries: int = Field(
        5, ge=0, description="reconnections after a lost study-database connection"
    )


class DownloadSettings(BaseModel):
    concurrency: int = Field(64, ge=1)
    per_host: int = Field(16, ge=1)
    retries: int = Field(4, ge=0)
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    item_deadline: float = 300.0
    max_bytes: int = 2 * 1024**3
    frame_threshold: int = 150
    frames_per_short_video: int = 20
    out: Path = Path(".")
    backoff_base: float = Field(0.5, ge=0, description="first retry wait (s), doubled each try")
    backoff_cap: float = Field(30.0, ge=0, description="longest wait between two tries (s)")
    retry_budget: float = Field(600.0, gt=0, description="total seconds one item may take")
    retry_after_max: float = Field(120.0, ge=0, description="clamp for Retry-After (s)")
    max_redirects: int = Field(5, ge=0)
    max_pixels: int = Field(50_000_000, gt=0, description="decompression-bomb limit")
    validate_workers: int = Field(0, ge=0, description="validation threads; 0 = CPUs")
    processes: int = Field(0, ge=0, description="worker processes; 0 = auto (big runs)")
    user_agent: str = "vigie-download/0.1"
    object_store_per_host: int = Field(
        64, ge=1, description="per-host limit for object stores (S3 hosts, links.s3_endpoint_url)"
    )
    stall_timeout: float = Field(
        3.0, gt=0, description="seconds a body may send nothing before it is retried"
    )
    idle_release: float = Field(
        1.0, gt=0, description="seconds without a byte after which a body frees its host slot"
    )
    min_rate: int = Field(
        1024, ge=0, description="bytes/s a body must average over each stall_timeout window"
    )


class FramesSettings(BaseModel):
    format: Literal["jpg", "png"] = "jpg"
    quality: int = Field(95, ge=1, le=100)
    out: Path = Path("frames")
    workers: int = Field(0, ge=0, description="0 = number of CPUs")
    video_timeout: float = Field(
        1800.0, gt=0, description="seconds a folder run waits on a stuck decoder before stopping it"
    )


class LabelStudioSettings(BaseModel):
    url: str = "http://127.0.0.1:8080"
    batch: int = Field(50, ge=1)
    local_files_document_root: Path | None = None
    media_root: Path | None = Field(
        None, description="Label Studio's <data dir>/media, read by `ls pull`"
    )
    pull_out: Path = Field(Path("labelstudio"), description="`ls pull` target folder")
    pull_images_dir: str = Field(
        "images", description="images sub-folder of `ls pull`; '.' puts them in the target itself"
    )
    labels: list[str] = Field(
        default_factory=lambda: [
            "Car",
            "Pedestrian",
            "Truck",
            "Scooter",
            "Motorbike",
            "Bus",
            "Bicycle",
            "Motor Scooter",
        ]
    )


class DatasetSettings(BaseModel):
    val_fraction: float = Field(0.2, ge=0.0, lt=1.0)
    seed: int = 0
    dedup_threshold: int = 4
    # pHash: aHash puts far-apart frames of one fixed camera within 4 bits of each other, which
    # would glue a whole camera into one group and empty the validation split.
    hash_method: Literal["ahash", "phash", "dhash"] = "phash"


class TrainSettings(BaseModel):
    model: str = "yolo11n.pt"
    epochs: int = 100
    imgsz: int = 640
    batch: int = 8
    device: str | None = None
    project: Path = Path("runs/train")
    plots: bool = Field(False, description="keep ultralytics' training plots, shown by the report")


class DetectSettings(BaseModel):
    conf: float = 0.25
    iou: float = 0.7
    imgsz: int = 640
    backend: Literal["torch", "onnx"] = "onnx"
    out: Path = Path(".")
    batch: int = Field(4, ge=1, description="images per inference call")


class TrackSettings(BaseModel):
    tracker: str = "vigie"
    conf: float = 0.35
    min_frames: int = 3
    max_age: int = 20
    min_hits: int = 2
    iou_threshold: float = 0.3
    out: Path = Path("tracks")
    stride: int = Field(1, ge=1, description="analyse every Nth frame")
    batch: int = Field(8, ge=1, description="frames per detector call")
    video: bool = Field(True, description="write the annotated MP4")
    segment_seconds: float = Field(
        600.0, ge=0, description="on Ray, cut longer videos into segments this long (0: never)"
    )
    segment_overlap: float = Field(
        2.0, ge=0, description="seconds two segments share, to stitch the tracks across the cut"
    )


class RaySettings(BaseModel):
    address: str | None = Field(
        None, description="Ray cluster: auto, HOST:PORT or ray://HOST:PORT (none: this machine)"
    )
    shard_size: int = Field(500, ge=1, description="download URLs per Ray task")
    num_gpus: float = Field(0.0, ge=0, description="GPUs per detect actor (fractions allowed)")
    workers: int = Field(
        0, ge=0, description="tasks (download) or actors (detect) at once; 0 = one per CPU/GPU"
    )


class ServeSettings(BaseModel):
    host: str = Field("127.0.0.1", description="address the dashboard listens on")
    port: int = Field(8765, ge=0, le=65535, description="port of the dashboard (0 = any free)")
    token: SecretStr | None = Field(
        None, description="required by every request; needed for a host other than loopback"
    )
    refresh: float = Field(3.0, gt=0, description="seconds between two refreshes of a live page")


# The settings that name an output folder: relative values lie in the workspace (output_path).
OUTPUT_SETTINGS = (
    ("capture", "out"),
    ("links", "out"),
    ("download", "out"),
    ("frames", "out"),
    ("labelstudio", "pull_out"),
    ("train", "project"),
    ("detect", "out"),
    ("track", "out"),
)


class Settings(BaseSettings):
    """All of Vigie's settings. Build with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="VIGIE_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    workspace: Path = Field(Path("."), description="where the catalog and outputs live")
    catalog_url: str | None = Field(None, description="SQLAlchemy URL; default sqlite in workspace")
    allow_private_networks: bool = Field(
        False,
        validation_alias=AliasChoices("allow_private_networks", "VIGIE_ALLOW_PRIVATE_NETWORKS"),
    )
    image_url: str | None = Field(
        None, validation_alias=AliasChoices("image_url", "VIGIE_IMAGE_URL", "IMAGE_URL")
    )
    study_db_url: str | None = Field(
        None,
        validation_alias=AliasChoices("study_db_url", "VIGIE_STUDY_DB_URL", "STUDY_DB_URL"),
    )
    labelstudio_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices(
            "labelstudio_token", "VIGIE_LABELSTUDIO_TOKEN", "LABEL_STUDIO_API_KEY", "TOKEN"
        ),
    )

    capture: CaptureSettings = Field(default_factory=CaptureSettings)
    dedup: DedupSettings = Field(default_factory=DedupSettings)
    links: LinksSettings = Field(default_factory=LinksSettings)
    download: DownloadSettings = Field(default_factory=DownloadSettings)
    frames: FramesSettings = Field(default_factory=FramesSettings)
    labelstudio: LabelStudioSettings = Field(default_factory=LabelStudioSettings)
    dataset: DatasetSettings = Field(default_factory=DatasetSettings)
    train: TrainSettings = Field(default_factory=TrainSettings)
    detect: DetectSettings = Field(default_factory=DetectSettings)
    track: TrackSettings = Field(default_factory=TrackSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    ray: RaySettings = Field(default_factory=RaySettings)

    def output_path(self, path: Path | str) -> Path:
        """The output rule: a relative output path lies in the workspace (absolute result).

        The workspace is ``-w/--workspace``, ``VIGIE_WORKSPACE`` or ``workspace`` in vigie.toml,
        else the current folder; an absolute path is kept as it is.
        """
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.workspace.expanduser() / p).absolute()

    def resolve_outputs(self) -> Settings:
        """Apply :meth:`output_path` to every output setting (``OUTPUT_SETTINGS``); return self."""
        for section, name in OUTPUT_SETTINGS:
            model = getattr(self, section)
            setattr(model, name, self.output_path(getattr(model, name)))
        return self

    @property
    def resolved_catalog_url(self) -> str:
        """The catalog URL, defaulting to ``sqlite:///<workspace>/vigie.db``."""
        if self.catalog_url:
            return self.catalog_url
        return f"sqlite:///{(self.workspace / 'vigie.db').resolve()}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # First wins: CLI flags, then environment, then .env, then vigie.toml, then defaults.
        return (init_settings, env_settings, dotenv_settings, _TomlSource(settings_cls))

    def safe_dump(self) -> dict[str, Any]:
        """The settings as JSON-able data with secrets masked (for run records and logs)."""
        data = self.model_dump(mode="json")
        for key in SECRET_FIELDS:
            if data.get(key):
                data[key] = "***"
        return data


class _TomlSource(PydanticBaseSettingsSource):
    """The table of vigie.toml that :func:`load_settings` read (see :func:`read_config_file`)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ returns the whole table

    def __call__(self) -> dict[str, Any]:
        return _toml_data.get()


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    return value


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings from every layer.

    Args:
        config_file: an explicit vigie.toml (else ``VIGIE_CONFIG`` or ./vigie.toml if present).
        **overrides: CLI-level values; ``None`` means "not given". Sections take dicts,
            e.g. ``load_settings(capture={"every": 5})``.

    Raises:
        ConfigError: a malformed file, a secret in the file, an unknown key in the file or a
            misspelt ``VIGIE_*`` variable (naming the closest valid one), or an invalid value.
    """
    path = config_file_path(config_file)
    data = read_config_file(path)
    check_known(Settings, data, path or Path(CONFIG_FILE_NAME))
    token = _toml_data.set(data)
    try:
        return Settings(**_drop_none(overrides))
    except ValidationError as exc:
        hint = "check vigie.toml, VIGIE_* environment variables and the flags"
        raise invalid_value(exc, "setting", hint) from None
    finally:
        _toml_data.reset(token)


def stage_options(section: _Section, section_name: str = "", **overrides: Any) -> _Section:
    """A stage's options: its settings section with the values given for this call.

    The defaults live once, in the ``*Settings`` models above; a stage core called with
    ``quality=None`` (the default of its keyword) keeps the setting, any other value replaces it
    and is validated as the setting would be::

        opts = stage_options(settings.frames, quality=quality, format=fmt)

    ``section_name`` names the section in the error message (``capture``: "invalid capture
    option every: ...").

    Raises:
        ConfigError: a value the setting does not accept (naming the setting).
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    if not given:
        return section.model_copy()
    try:
        return type(section).model_validate({**section.model_dump(), **given})
    except ValidationError as exc:
        prefix = f"{section_name}." if section_name else ""
        hint = "check the value given to the stage (its setting accepts the same values)"
        raise invalid_value(exc, f"{prefix}option", hint) from None


def invalid_value(exc: ValidationError, what: str, hint: str) -> ConfigError:
    """The one-line ConfigError of a pydantic validation error: the first field and why."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or what
    return ConfigError(f"invalid {what} {where}: {first.get('msg', 'bad value')}", hint=hint)
