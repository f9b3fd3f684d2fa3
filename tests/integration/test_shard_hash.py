"""The staging shard hash: equal values get equal shards in any form Arrow holds them, and the
values are pinned, because workers of different releases staging one ingestion must agree."""

from __future__ import annotations

import datetime
import struct

import numpy as np
import pyarrow as pa
import pytest

from adapters.pyarrow_files.shard_hash import shard_ids

pytestmark = pytest.mark.integration


def test_the_hash_is_pinned_so_every_worker_and_release_shards_alike() -> None:
    assert shard_ids(pa.array(range(8)), 4).tolist() == [0, 1, 3, 0, 2, 2, 3, 0]
    assert shard_ids(pa.array(["a", "customer_000123", "customer_000124", ""]), 8).tolist() == [1, 4, 5, 0]


def test_equal_values_share_a_shard_however_arrow_holds_them() -> None:
    words = pa.array(["x", "a much longer value, past sixteen bytes", None, "x"])
    expected = shard_ids(words, 16).tolist()
    assert expected[0] == expected[3]
    assert shard_ids(words.cast(pa.large_string()), 16).tolist() == expected
    assert shard_ids(words.dictionary_encode(), 16).tolist() == expected
    assert shard_ids(pa.chunked_array([words.slice(0, 1), words.slice(1)]), 16).tolist() == expected
    assert shard_ids(pa.array(["pad", *words.to_pylist()]).slice(1), 16).tolist() == expected  # an offset array
    numbers = pa.array([None, 5, None, 7, 2**40])
    assert shard_ids(numbers.slice(1), 64).tolist() == shard_ids(pa.array([5, 0, 7, 2**40]), 64).tolist()


def test_zeros_and_nans_that_the_warehouse_holds_equal_share_a_shard() -> None:
    other_nan = struct.unpack("<d", struct.pack("<Q", 0xFFF8000000000001))[0]
    ids = shard_ids(pa.array([0.0, -0.0, float("nan"), other_nan, -float("nan")]), 64).tolist()
    assert ids[0] == ids[1] and ids[2] == ids[3] == ids[4]


def test_times_hash_by_their_ticks_and_nulls_by_the_zero_of_their_type() -> None:
    days = pa.array([datetime.date(2026, 1, 1), None, datetime.date(1970, 1, 1)])
    ids = shard_ids(days, 64).tolist()
    assert ids[1] == ids[2]
    stamps = pa.array([datetime.datetime(2026, 1, 1, 12), datetime.datetime(2026, 1, 1, 12)], pa.timestamp("ms"))
    assert len(set(shard_ids(stamps, 64).tolist())) == 1


@pytest.mark.parametrize("values", [
    pa.array(range(100_000)),
    pa.array([f"customer_{i:06d}" for i in range(100_000)]),
    pa.array(np.arange(100_000) * 0.25),
], ids=["sequential ints", "ids with one long prefix", "floats"])
def test_common_columns_spread_evenly_over_the_shards(values: pa.Array) -> None:
    counts = np.bincount(shard_ids(values, 10), minlength=10)
    assert counts.min() > 0.9 * counts.mean()
