"""Study links: study database rows -> Link records -> link files, manifest and catalog items."""

from vigie.links.core import (
    LinksResult,
    build_links,
    classify_media_type,
    link_record,
    register_links,
    rows_to_links,
    target_filename,
    write_manifest,
)
from vigie.links.query import SELECTION, StudyMediaRow, parse_bound, select_study_media

__all__ = [
    "SELECTION",
    "LinksResult",
    "StudyMediaRow",
    "build_links",
    "classify_media_type",
    "link_record",
    "parse_bound",
    "register_links",
    "rows_to_links",
    "select_study_media",
    "target_filename",
    "write_manifest",
]
