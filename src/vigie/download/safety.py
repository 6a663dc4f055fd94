"""Where a download may be written: file names that cannot escape the target folder.

(What may be fetched, URL schemes and addresses, is :mod:`vigie.net.policy`.)"""

from __future__ import annotations

import functools
import hashlib
import unicodedata
from array import array
from pathlib import Path
from urllib.parse import unquote, urlsplit

from vigie.errors import UnsafeURLError

MAX_NAME_BYTES = 200


def safe_filename(name: str, fallback: str = "file") -> str:
    """A name that is one plain path component: no separators, NUL, controls or leading dots,
    at most ``MAX_NAME_BYTES`` UTF-8 bytes (the extension is kept)."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").split("/")[-1]
    cleaned = "".join(
        c if (c.isalnum() or c in "._-") and c.isprintable() else "_" for c in name
    ).lstrip(".")
    if cleaned.strip("._-") == "":
        cleaned = fallback
    stem, dot, ext = cleaned.rpartition(".")
    if not dot or len(ext) > 10:
        stem, ext = cleaned, ""
    suffix = f".{ext}" if ext else ""
    while len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return (stem or fallback) + suffix


def name_from_url(url: str) -> str:
    """A safe file name from the last path segment of ``url`` (decoded)."""
    segment = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return safe_filename(segment, fallback="file-" + hashlib.sha1(url.encode()).hexdigest()[:12])


class Seen:
    """A set of strings kept as 16-byte digests (BLAKE2b) in one flat open-addressing table,
    24 to 48 bytes an entry whatever the string's length and no Python object per entry: the
    names and URLs a streamed input has met so far. (Two strings with the same digest, about
    one chance in 10**26 at a million entries, would count as one.)"""

    __slots__ = ("_count", "_mask", "_table")

    def __init__(self) -> None:
        self._table = array("Q", bytes(16 * 1024))  # 1,024 slots of two words; 0: empty
        self._mask = 1023
        self._count = 0

    @staticmethod
    def _digest(value: str) -> tuple[int, int]:
        d = hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        return int.from_bytes(d[:8], "little") | 1, int.from_bytes(d[8:], "little")

    def _slot(self, lo: int, hi: int) -> tuple[int, bool]:
        table, mask = self._table, self._mask
        i = (lo >> 1) & mask
        while True:  # linear probing, the table at most 2/3 full
            word = table[2 * i]
            if word == 0:
                return i, False
            if word == lo and table[2 * i + 1] == hi:
                return i, True
            i = (i + 1) & mask

    def __contains__(self, value: object) -> bool:
        return isinstance(value, str) and self._slot(*self._digest(value))[1]

    def add(self, value: str) -> None:
        self._put(*self._digest(value))

    def _put(self, lo: int, hi: int) -> None:
        i, found = self._slot(lo, hi)
        if found:
            return
        self._table[2 * i], self._table[2 * i + 1] = lo, hi
        self._count += 1
        if 3 * self._count > 2 * (self._mask + 1):
            old = self._table
            self._table = array("Q", bytes(32 * (self._mask + 1)))
            self._mask = 2 * self._mask + 1
            self._count = 0
            for k in range(0, len(old), 2):
                if old[k]:
                    self._put(old[k], old[k + 1])

    def __len__(self) -> int:
        return self._count


def unique_name(name: str, url: str, used: set[str] | Seen) -> str:
    """``name``, or ``<stem>-<hash of url>.<ext>`` when another URL already took it."""
    if name not in used:
        used.add(name)
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    tag = hashlib.sha1(url.encode()).hexdigest()[:10]
    candidate = f"{stem}-{tag}" + (f".{ext}" if ext else "")
    n = 2
    while candidate in used:
        candidate = f"{stem}-{tag}-{n}" + (f".{ext}" if ext else "")
        n += 1
    used.add(candidate)
    return candidate


@functools.lru_cache(maxsize=256)
def _resolved(folder: Path) -> Path:
    return folder.resolve()


def inside(folder: Path, name: str) -> Path:
    """``folder / name``, checked to be one plain component directly inside ``folder``.

    The check is on the name itself (no separator, NUL, ``.`` or ``..``), so no file system
    call is needed per item; a symlink under that name is replaced by ``os.replace``, never
    followed.

    Raises:
        UnsafeURLError: the name would escape the folder (``..``, absolute path, separators).
    """
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
        raise UnsafeURLError(f"unsafe file name {name[:80]!r}")
    # resolved once per absolute folder (symlinked parents); relative ones depend on the cwd
    return (_resolved(folder) if folder.is_absolute() else folder.resolve()) / name
