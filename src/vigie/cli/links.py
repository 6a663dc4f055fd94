"""``vigie links``: a study's media links from the study database (registered by vigie.cli.app)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from vigie.cli import common


class ManifestFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"


def register(app: typer.Typer) -> None:
    """Add ``links`` to the root app."""
    app.command("links")(links)


def links(
    ctx: typer.Context,
    study: Annotated[int, typer.Option("--study", help="study id", min=0)],
    date_from: Annotated[
        str, typer.Option("--from", help="first day (YYYY-MM-DD or ISO date-time), included")
    ],
    date_to: Annotated[
        str, typer.Option("--to", help="last day, included to 23:59:59 when a bare date")
    ],
    db: Annotated[
        str | None,
        typer.Option("--db", help="study database SQLAlchemy URL (default VIGIE_STUDY_DB_URL)"),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help=common.with_default("folder of link files and manifest", "links.out"),
        ),
    ] = None,
    tag: Annotated[
        str | None,
        typer.Option(
            "--tag", help=common.with_default("suffix of the seed's folders", "links.tag")
        ),
    ] = None,
    manifest_format: Annotated[
        ManifestFormat | None,
        typer.Option(
            "--format", "-f", help=common.with_default("manifest format", "links.manifest_format")
        ),
    ] = None,
    presign: Annotated[
        bool | None,
        typer.Option(
            "--presign/--no-presign",
            help=common.with_default("presigned S3 URLs (private bucket)", "links.presign"),
        ),
    ] = None,
    s3_bucket: Annotated[
        str | None,
        typer.Option(
            "--s3-bucket",
            help=common.with_default("bucket of the non-Twitter media", "links.s3_bucket"),
        ),
    ] = None,
    s3_region: Annotated[
        str | None,
        typer.Option("--s3-region", help=common.with_default("bucket region", "links.s3_region")),
    ] = None,
    s3_url_template: Annotated[
        str | None,
        typer.Option(
            "--s3-url-template",
            help=common.with_default(
                "public URL of a key: {bucket}, {region}, {key}", "links.s3_url_template"
            ),
        ),
    ] = None,
) -> None:
    """Build the download links of a study's validated publications for a period.

    Images (IMAGE, CAROUSEL_ALBUM, photo) and videos (VIDEO, video, animated_gif) get S3 links
    (<publication>_<platform>.jpg/mp4 in --s3-bucket), except Twitter media which keep their
    original URL. Each distinct media of a publication is one link: the first is named
    <study>_<publication>_<platform>.<ext>, the n-th <study>_<publication>_<platform>_<n>.<ext>.
    Writes images_<study>_<tag>/ and videos_<study>_<tag>/ (aws_links.txt, twitter_links.txt),
    a manifest links_<study>_<tag>.jsonl, and registers every link in the catalog.

    Examples:

        vigie links --study 53 --from 2025-08-01 --to 2025-10-31 --s3-bucket my-bucket

        vigie links --study 53 --from 2025-08-01 --to 2025-10-31 --db mysql+pymysql://user@host/study --out links --format csv
    """
    from rich.table import Table

    from vigie.links import build_links

    cfg = common.settings(
        ctx,
        study_db_url=db,
        links={
            "out": out,
            "tag": tag,
            "manifest_format": manifest_format.value if manifest_format else None,
            "presign": presign,
            "s3_bucket": s3_bucket,
            "s3_region": s3_region,
            "s3_url_template": s3_url_template,
        },
    )
    cat = common.open_catalog(cfg)
    try:
        result = build_links(study, date_from, date_to, settings=cfg, catalog=cat)
    finally:
        cat.close()
    table = Table(title=f"study {study} links")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("rows read", str(result.rows))
    table.add_row("image links", str(result.images))
    table.add_row("video links", str(result.videos))
    table.add_row("duplicates removed", str(result.duplicates))
    for name, n in sorted(result.unknown_types.items()):
        table.add_row(f"unknown type {name!r} (skipped)", str(n))
    table.add_row("twitter rows without URL (skipped)", str(len(result.missing_url)))
    common.console.print(table)
    for platform, publication in result.missing_url[:20]:
        common.console.print(f"no media_url: platform {platform}, publication {publication}")
    common.console.print(f"manifest: {result.manifest}")
