"""A demo study: media files on the local media server and their rows in a study database.

The rows follow ``../shared/study-db/schema.sql``: media of the Twitter platform keep their own
URL, media of other platforms live in an S3-like bucket under ``<publication>_<platform>.<ext>``
(served here under ``/s3/``, so ``links.s3_url_template`` points at the media server). A few rows
are broken on purpose (a missing file, an HTML error page served as a JPEG) so the report has
failures to show, and a few are outside the selection (not validated, out of the period).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from vigie.demo.scene import Scene, _atomic_write, jpeg_bytes, render_video
from vigie.demo.servers import MediaServer

STUDY_ID = 53
PERIOD = ("2026-01-01", "2026-01-31")
PLATFORMS = {1: "instagram", 2: "facebook", 3: "twitter"}
TWITTER = 3


@dataclass
class DemoStudy:
    """What :func:`build_study` wrote: counts of rows and the expected outcome."""

    study_id: int
    start: str
    end: str
    images: int = 0
    videos: int = 0
    broken: int = 0
    excluded: int = 0
    video_starts: dict[str, int] = field(default_factory=dict)  # file name -> first scene frame

    @property
    def selected(self) -> int:
        return self.images + self.videos + self.broken


def s3_template(media: MediaServer) -> str:
    """The ``links.s3_url_template`` that points the bucket at the media server."""
    return media.url("/s3/{key}")


def build_study(
    scene: Scene,
    media: MediaServer,
    db_url: str,
    *,
    images: int = 8,
    videos: int = 2,
    video_frames: int = 60,
    first_frame: int = 2000,
) -> DemoStudy:
    """Render the study's media under ``media.root`` and write its rows into ``db_url``.

    Args:
        scene: the street the media show (frames from ``first_frame`` on).
        media: the server the files are served from (its root is written into).
        db_url: SQLAlchemy URL of the study database (tables created where missing).
        images, videos: how many good media of each kind.
        video_frames: length of each video in frames.
    """
    from sqlalchemy import create_engine

    from vigie.studydb import (
        create_schema,
        plateforms,
        publication_media_status,
        publication_medias,
        publications_meta,
        study_publication_affectation,
    )

    root = media.root
    study = DemoStudy(STUDY_ID, *PERIOD)
    when = datetime(2026, 1, 3, 9, 0)
    aff, meta, medias, status = [], [], [], []

    def add(pub: str, platform: int, url: str | None, kind: str, *, valid: int = 1) -> None:
        nonlocal when
        when += timedelta(hours=7)
        aff.append(
            {
                "id_study": STUDY_ID,
                "id_plateform": platform,
                "id_publication": pub,
                "flag_validated": valid,
            }
        )
        meta.append({"plateform_id": platform, "publication_id": pub, "publication_datetime": when})
        medias.append(
            {"id_plateform": platform, "publication_id": pub, "media_url": url, "type": kind}
        )
        status.append({"publication_id": pub, "status": "ok"})

    frame = first_frame
    for i in range(images):
        platform = (1, 2, 3)[i % 3]
        pub = f"img{i:03d}"
        data = jpeg_bytes(scene.render(frame))
        frame += 37
        if platform == TWITTER:
            _atomic_write(root / "twitter" / f"{pub}.jpg", data)
            add(pub, platform, media.url(f"/twitter/{pub}.jpg"), "photo")
        else:
            _atomic_write(root / "s3" / f"{pub}_{platform}.jpg", data)
            add(pub, platform, None, ("IMAGE", "CAROUSEL_ALBUM")[i % 2])
        study.images += 1
    for i in range(videos):
        platform = (1, 3)[i % 2]
        pub = f"vid{i:03d}"
        if platform == TWITTER:
            path = render_video(scene, root / "twitter" / f"{pub}.mp4", video_frames, frame)
            add(pub, platform, media.url(f"/twitter/{pub}.mp4"), "video")
        else:
            path = render_video(scene, root / "s3" / f"{pub}_{platform}.mp4", video_frames, frame)
            add(pub, platform, None, "VIDEO")
        study.video_starts[path.name] = frame
        frame += video_frames + 50
        study.videos += 1
    # broken on purpose: a file missing from the bucket, a vanished tweet, an HTML error page
    add("gone001", 2, None, "IMAGE")
    add("gone002", TWITTER, media.url("/twitter/gone002.jpg"), "photo")
    error_page = b"<html><body><h1>Rate limit exceeded</h1></body></html>"
    add("html001", TWITTER, media.add_failure("/twitter/html001.jpg", 200, error_page), "photo")
    study.broken = 3
    # outside the selection: not validated, and published after the period
    add("draft001", 1, None, "IMAGE", valid=0)
    add("late001", 1, None, "IMAGE")
    meta[-1]["publication_datetime"] = datetime(2026, 3, 1, 12, 0)
    study.excluded = 2

    engine = create_engine(db_url)
    try:
        create_schema(engine)
        with engine.begin() as conn:
            for table in (
                publication_media_status,
                publication_medias,
                publications_meta,
                study_publication_affectation,
                plateforms,
            ):
                conn.execute(table.delete())
            conn.execute(
                plateforms.insert(),
                [{"id_plateform": k, "name": v} for k, v in PLATFORMS.items()],
            )
            conn.execute(study_publication_affectation.insert(), aff)
            conn.execute(publications_meta.insert(), meta)
            conn.execute(publication_medias.insert(), medias)
            conn.execute(publication_media_status.insert(), status)
    finally:
        engine.dispose()
    return study


def study_db_url(folder: Path) -> str:
    """The SQLite study database of a demo workspace."""
    return f"sqlite:///{(folder / 'study.db').resolve()}"
