"""A hamming-distance index over integer hashes (multi-index hashing), and grouping.

Multi-index hashing (Norouzi et al.): split each ``nbits`` hash into ``threshold + 1`` disjoint
bit chunks. Two hashes within ``threshold`` bits of each other agree exactly on at least one chunk
(pigeonhole), so candidates come from ``threshold + 1`` dictionary look-ups and only those are
checked with a popcount. Identical hashes are folded first, so a folder of repeated frames costs
one entry per distinct picture. For thresholds so large that chunks get shorter than a few bits
the look-ups stop pruning; the index then compares against every distinct hash (still exact).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from vigie.dedup.hashing import hamming

_MIN_CHUNK_BITS = 4


class HammingIndex:
    """Distinct hashes with their ids, searchable by hamming radius.

    Args:
        threshold: the largest radius :meth:`query` will be asked for.
        nbits: hash length in bits (64 for the default 8x8 hashes).
    """

    def __init__(self, threshold: int, nbits: int = 64) -> None:
        if threshold < 0:
            raise ValueError("threshold must be >= 0")
        self.threshold = threshold
        self.nbits = max(1, nbits)
        chunks = threshold + 1
        if self.nbits // chunks < _MIN_CHUNK_BITS:
            chunks = 0  # brute force over distinct hashes
        self._spans = _chunk_spans(self.nbits, chunks) if chunks else []
        self._tables: list[dict[int, list[int]]] = [defaultdict(list) for _ in self._spans]
        self._ids: dict[int, list[int]] = {}  # hash -> ids

    def __len__(self) -> int:
        return sum(len(v) for v in self._ids.values())

    def add(self, value: int, item_id: int) -> None:
        """Index ``value`` under ``item_id``."""
        ids = self._ids.get(value)
        if ids is not None:
            ids.append(item_id)
            return
        self._ids[value] = [item_id]
        for table, (shift, mask) in zip(self._tables, self._spans, strict=True):
            table[(value >> shift) & mask].append(value)

    def query(self, value: int, radius: int | None = None) -> list[tuple[int, int]]:
        """Distinct indexed hashes within ``radius`` (default: the threshold) as (hash, distance)."""
        radius = self.threshold if radius is None else radius
        if radius > self.threshold:
            raise ValueError("radius larger than the index threshold")
        if not self._spans:
            candidates: Iterable[int] = self._ids.keys()
        else:
            found: set[int] = set()
            for table, (shift, mask) in zip(self._tables, self._spans, strict=True):
                found.update(table.get((value >> shift) & mask, ()))
            candidates = found
        out = []
        for cand in candidates:
            d = hamming(value, cand)
            if d <= radius:
                out.append((cand, d))
        return out

    def ids(self, value: int) -> list[int]:
        """Ids indexed under exactly ``value``."""
        return list(self._ids.get(value, ()))


def _chunk_spans(nbits: int, chunks: int) -> list[tuple[int, int]]:
    """(shift, mask) of ``chunks`` disjoint, nearly equal bit ranges covering ``nbits``."""
    spans = []
    base, extra = divmod(nbits, chunks)
    shift = 0
    for i in range(chunks):
        width = base + (1 if i < extra else 0)
        spans.append((shift, (1 << width) - 1))
        shift += width
    return spans


def group_near_duplicates(
    hashes: Sequence[int], threshold: int, nbits: int | None = None
) -> list[list[int]]:
    """Partition hashes into groups of near-duplicates.

    Two hashes are linked when their hamming distance is ``<= threshold``; a group is a connected
    component of those links (so a slow drift can chain A~B~C into one group, which is what a
    train/val split needs). Every index appears in exactly one group, singletons included.

    Args:
        hashes: integer hashes (e.g. from :func:`vigie.dedup.image_hash`).
        threshold: the largest hamming distance still called "the same picture" (0 = equal hashes).
        nbits: hash length; default 64, or the bit length of the largest hash if longer.

    Returns:
        Groups of indices into ``hashes``; each group sorted, groups ordered by their first index.
    """
    if threshold < 0:
        raise ValueError("threshold must be >= 0")
    width = max([64, *(h.bit_length() for h in hashes)]) if nbits is None else nbits
    distinct: dict[int, list[int]] = {}
    for i, h in enumerate(hashes):
        distinct.setdefault(h, []).append(i)
    values = list(distinct)
    parent = list(range(len(values)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    if threshold > 0:
        position = {v: i for i, v in enumerate(values)}
        index = HammingIndex(threshold, width)
        for i, v in enumerate(values):
            for cand, _ in index.query(v):
                a, b = find(i), find(position[cand])
                if a != b:
                    parent[max(a, b)] = min(a, b)
            index.add(v, i)
    groups: dict[int, list[int]] = defaultdict(list)
    for i, v in enumerate(values):
        groups[find(i)].extend(distinct[v])
    return sorted((sorted(g) for g in groups.values()), key=lambda g: g[0])
