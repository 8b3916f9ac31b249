"""Additive shares: they sum back to the contribution, each alone is uniform and looks the
same whatever the contribution, and each opens only with its aggregator's key."""

from __future__ import annotations

import bisect
import secrets

import pytest

from apps.commons import shares
from apps.commons.shares import PRIME, ShareError

BUCKETS = 16
SAMPLES = 16_000
# chi-square, 15 degrees of freedom: exceeded with probability 1e-4 by uniform data.
CHI2_CRITICAL = 44.3


def chi2(values: list[int]) -> float:
    counts = [0] * BUCKETS
    for v in values:
        counts[v * BUCKETS // PRIME] += 1
    expected = len(values) / BUCKETS
    return sum((c - expected) ** 2 / expected for c in counts)


def test_split_sums_back() -> None:
    values = [0, 1, 12345, 2**64, PRIME - 1]
    first, second = shares.split(values)
    assert shares.combine(first, second) == [shares.centered(v) for v in values]
    assert all(0 <= x < PRIME for x in first + second)


def test_sums_of_shares_are_shares_of_sums() -> None:
    pods = [[secrets.randbelow(20_000) for _ in range(24)] for _ in range(50)]
    split = [shares.split(p) for p in pods]
    a = shares.sum_shares((s[0] for s in split), 24)
    b = shares.sum_shares((s[1] for s in split), 24)
    assert shares.combine(a, b) == [sum(col) for col in zip(*pods, strict=True)]


@pytest.mark.parametrize("value", [0, 1, 19_999, 10**9])
def test_each_share_alone_is_uniform(value: int) -> None:
    split = [shares.split([value]) for _ in range(SAMPLES)]
    assert chi2([s[0][0] for s in split]) < CHI2_CRITICAL
    assert chi2([s[1][0] for s in split]) < CHI2_CRITICAL


def test_shares_of_different_values_are_indistinguishable() -> None:
    """A two-sample test between the second shares of 0 and of a large value: the
    aggregator holding them cannot tell which it got."""
    low = sorted(shares.split([0])[1][0] for _ in range(4000))
    high = sorted(shares.split([20_000])[1][0] for _ in range(4000))
    # Kolmogorov-Smirnov statistic; 1.95 * sqrt(2/n) is its alpha = 0.001 threshold.
    merged = sorted(set(low) | set(high))
    d = max(
        abs(bisect.bisect_right(low, x) / len(low) - bisect.bisect_right(high, x) / len(high))
        for x in merged[:: max(1, len(merged) // 2000)]
    )
    assert d < 1.95 * (2 / 4000) ** 0.5


def test_shares_open_only_for_their_aggregator() -> None:
    mine, other = shares.new_key("broker"), shares.new_key("authority")
    token = shares.encrypt([1, 2, 3], mine.export_public(as_dict=True), "study r1")
    assert shares.decrypt(token, mine, "study r1", 3) == [1, 2, 3]
    with pytest.raises(ShareError):
        shares.decrypt(token, other, "study r1", 3)
    with pytest.raises(ShareError, match="another study or round"):
        shares.decrypt(token, mine, "study r2", 3)
    with pytest.raises(ShareError, match="size"):
        shares.decrypt(token, mine, "study r1", 4)
    with pytest.raises(ShareError):
        shares.decrypt("garbage", mine, "study r1", 3)
