from __future__ import annotations

import random

import pytest

from vigie.dedup import HammingIndex, group_near_duplicates, hamming


def _brute_groups(hashes: list[int], threshold: int) -> list[list[int]]:
    parent = list(range(len(hashes)))

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for i in range(len(hashes)):
        for j in range(i):
            if hamming(hashes[i], hashes[j]) <= threshold:
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(hashes)):
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def _near(h: int, rng: random.Random, flips: int) -> int:
    for bit in rng.sample(range(64), flips):
        h ^= 1 << bit
    return h


@pytest.mark.parametrize("threshold", [0, 1, 3, 6, 20])
def test_grouping_matches_brute_force(threshold: int) -> None:
    rng = random.Random(threshold)
    bases = [rng.getrandbits(64) for _ in range(40)]
    hashes = [_near(rng.choice(bases), rng, rng.randint(0, 5)) for _ in range(300)]
    assert group_near_duplicates(hashes, threshold) == _brute_groups(hashes, threshold)


def test_groups_partition_every_index_and_chain_transitively() -> None:
    a = 0
    b = 0b11  # 2 bits from a
    c = 0b1111  # 2 bits from b, 4 from a
    far = (1 << 64) - 1
    assert group_near_duplicates([a, far, b, c, a], 2) == [[0, 2, 3, 4], [1]]
    assert group_near_duplicates([a, far, b, c, a], 0) == [[0, 4], [1], [2], [3]]
    assert group_near_duplicates([], 3) == []


def test_index_query_finds_every_hash_within_radius() -> None:
    rng = random.Random(7)
    index = HammingIndex(threshold=4)
    values = [rng.getrandbits(64) for _ in range(500)]
    for i, v in enumerate(values):
        index.add(v, i)
    probe = _near(values[10], rng, 3)
    found = {h for h, _ in index.query(probe)}
    assert values[10] in found
    assert found == {v for v in values if hamming(v, probe) <= 4}
    assert len(index) == 500 and index.ids(values[10]) == [10]
    with pytest.raises(ValueError):
        index.query(probe, radius=5)
