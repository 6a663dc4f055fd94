"""Links of the non-Twitter media: S3 keys and the URL builder (public template or presigned)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from vigie.config import LinksSettings
from vigie.errors import ConfigError, require
from vigie.types import MediaKind

EXTENSIONS = {MediaKind.IMAGE: "jpg", MediaKind.VIDEO: "mp4"}


def s3_key(publication: str, platform: int, kind: MediaKind) -> str:
    """The bucket key the media was copied to: ``<publication>_<platform>.<ext>``."""
    return f"{publication}_{platform}.{EXTENSIONS[kind]}"


def make_url_builder(cfg: LinksSettings) -> Callable[[str], str]:
    """A function key -> URL: the public template, or a presigned GET (boto3) when private.

    The returned function raises ConfigError when no bucket is set (or the template is bad):
    only a study with non-Twitter media needs one.

    Raises:
        ConfigError: presigning is asked for but boto3 finds no credentials.
    """
    if not cfg.presign:
        template = cfg.s3_url_template
        if "{bucket}" in template and not cfg.s3_bucket:
            return _no_bucket

        def public(key: str) -> str:
            try:
                return template.format(bucket=cfg.s3_bucket, region=cfg.s3_region, key=quote(key))
            except (KeyError, IndexError, ValueError) as exc:
                raise ConfigError(
                    f"bad S3 URL template {template!r}: {exc.__class__.__name__}: {exc}",
                    hint="use the fields {bucket}, {region} and {key}, e.g. "
                    "https://{bucket}.s3.{region}.amazonaws.com/{key}",
                ) from None

        return public
    if not cfg.s3_bucket:
        return _no_bucket

    require("boto3", "s3")
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, NoCredentialsError

    client = boto3.client(
        "s3",
        region_name=cfg.s3_region,
        endpoint_url=cfg.s3_endpoint_url,
        config=Config(signature_version="s3v4"),
    )

    def presigned(key: str) -> str:
        try:
            return str(
                client.generate_presigned_url(
                    "get_object",
                    Params={"Bucket": cfg.s3_bucket, "Key": key},
                    ExpiresIn=cfg.presign_expires,
                )
            )
        except (NoCredentialsError, BotoCoreError) as exc:
            raise ConfigError(
                f"cannot presign S3 links: {exc}",
                hint="set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or a profile) in the environment",
            ) from None

    return presigned


def _no_bucket(key: str) -> str:
    raise ConfigError(
        f"no S3 bucket set for the study's non-Twitter media (first key: {key})",
        hint="pass --s3-bucket NAME, or set VIGIE_LINKS__S3_BUCKET or s3_bucket under [links] "
        "in vigie.toml (--s3-url-template for another host)",
    )
