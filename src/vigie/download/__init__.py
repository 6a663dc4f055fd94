"""Bulk download: manifest or URL list -> validated files, with every item's state in the catalog."""

from vigie._api import make_stage_callable
from vigie.download.core import download
from vigie.download.fetch import FetchError
from vigie.download.jobs import Job, read_manifest, read_url_list
from vigie.download.model import DownloadResult, ItemResult, Layout
from vigie.download.safety import inside, name_from_url, safe_filename

# public names of this stage since its first release, now on the floor (vigie.media, vigie.net)
from vigie.media import InvalidMediaError, MediaInfo, validate_media
from vigie.net import address_allowed, backoff, check_scheme, parse_retry_after

__all__ = [
    "DownloadResult",
    "FetchError",
    "InvalidMediaError",
    "ItemResult",
    "Job",
    "Layout",
    "MediaInfo",
    "address_allowed",
    "backoff",
    "check_scheme",
    "download",
    "inside",
    "name_from_url",
    "parse_retry_after",
    "read_manifest",
    "read_url_list",
    "safe_filename",
    "validate_media",
]

make_stage_callable(__name__, download)
