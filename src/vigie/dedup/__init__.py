"""Perceptual hashing, a hamming index and near-duplicate grouping.

Public API (other stages import only these):

- :func:`image_hash` - aHash/pHash/dHash of a file or bytes as an int (fast reduced-size decode);
- :func:`hamming` - bit distance of two hashes;
- :func:`group_near_duplicates` - connected groups of hashes within a threshold (indexed);
- :func:`keep_decisions` - the capture rule over time-ordered frames, as full-decode imagehash but fast;
- :func:`find_duplicates` - ``vigie dedup``: group a folder, optionally move duplicates aside.
"""

from vigie.dedup.core import DedupReport, DuplicateGroup, find_duplicates, hash_files, list_images
from vigie.dedup.hashing import METHODS, hamming, hash_pil, hashes_pil, image_hash, int_to_hex
from vigie.dedup.index import HammingIndex, group_near_duplicates
from vigie.dedup.sequence import (
    SequenceDecisions,
    hash_refined,
    hash_with_margin,
    keep_decisions,
)

__all__ = [
    "METHODS",
    "DedupReport",
    "DuplicateGroup",
    "HammingIndex",
    "SequenceDecisions",
    "find_duplicates",
    "group_near_duplicates",
    "hamming",
    "hash_files",
    "hash_pil",
    "hash_refined",
    "hash_with_margin",
    "hashes_pil",
    "image_hash",
    "int_to_hex",
    "keep_decisions",
    "list_images",
]
