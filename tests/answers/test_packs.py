"""The packed account rows of the rollups: written and read back unchanged, and the per-voice sums by hand and
against a plain Python count (also with keys too large for the one-key sort)."""

from __future__ import annotations

import json
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resonanz.answers import packs as packs_module
from resonanz.answers.packs import (
    AccountRow,
    PackError,
    PostRow,
    Standing,
    drifted,
    heads,
    pack,
    unpack,
    weight_squares,
)


def _ints(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def test_a_pack_reads_back_what_was_written() -> None:
    rows = [
        AccountRow(voice_key=17, identity_id=3, segment="A", platform="mastodon", language="de", weight_sum=5.5,
                 unweighted=0),
        AccountRow(voice_key=-4, identity_id=4, segment="prospect", platform="bluesky", language="en", weight_sum=0.0,
                 unweighted=2),
        AccountRow(voice_key=17, identity_id=9, segment="A", platform="bluesky", language="de", weight_sum=1.25,
                 unweighted=1),
    ]  # fmt: skip
    vocab, data = pack("accounts", rows)
    packed = unpack("accounts", vocab, memoryview(data))
    assert json.loads(vocab) == {"segment": ["A", "prospect"], "platform": ["mastodon", "bluesky"],
                                 "language": ["de", "en"]}  # fmt: skip
    assert packed.rows["voice_key"].tolist() == [17, -4, 17]
    assert packed.rows["identity_id"].tolist() == [3, 4, 9]
    assert packed.rows["weight_sum"].tolist() == [5.5, 0.0, 1.25]
    assert packed.rows["unweighted"].tolist() == [0, 2, 1]
    assert packed.codes("platform", ["bluesky"]).tolist() == [False, True, True]
    assert packed.codes("segment", ["B"]).tolist() == [False, False, False]
    numbering = {"prospect": 0}
    assert packed.mapped("segment", numbering).tolist() == [1, 0, 1]
    assert numbering == {"prospect": 0, "A": 1}


def test_a_broken_pack_says_how_to_repair_it() -> None:
    vocab, data = pack("accounts", [AccountRow(1, 1, "A", "rss", "de", 1.0, 0)])
    with pytest.raises(PackError, match="rebuild-rollups"):
        unpack("accounts", vocab, data[:-1])
    with pytest.raises(PackError, match="rebuild-rollups"):
        unpack("posts", vocab, data)  # 31 bytes are no post row (35)


def test_more_than_256_values_in_a_column_is_refused() -> None:
    rows = [AccountRow(i, i, "A", f"plattform{i}", "de", 1.0, 0) for i in range(257)]
    with pytest.raises(PackError, match="257 Werte in 'platform'"):
        pack("accounts", rows)


def test_a_post_pack_keeps_missing_weights_and_filters_by_class() -> None:
    rows = [PostRow(11, "A", "rss", "de", 0.7, 0.1, 4.0), PostRow(12, "prospect", "rss", "en", 0.2, 0.5, None)]
    vocab, data = pack("posts", rows)
    packed = unpack("posts", vocab, data)
    assert packed.rows["post_id"].tolist() == [11, 12]
    assert packed.rows["p_negative"].tolist() == [0.7, 0.2]
    assert packed.rows["weight"][0] == 4.0 and np.isnan(packed.rows["weight"][1])
    assert packed.matching(classes=["prospect"]).rows["post_id"].tolist() == [12]
    assert packed.matching(languages=["de"], platforms=["rss"]).rows["post_id"].tolist() == [11]
    assert packed.matching() is packed


def test_drifted_accounts_by_hand() -> None:
    rows = [
        AccountRow(-4, 4, "prospect", "rss", "de", 1.0, 0),  # a prospect, linked since to customer 9
        AccountRow(7, 5, "A", "rss", "de", 1.0, 0),  # customer 7, still A
        AccountRow(7, 6, "A", "rss", "de", 1.0, 0),  # customer 7, this account unlinked since
        AccountRow(8, 3, "B", "rss", "de", 1.0, 0),  # customer 8, now C
        AccountRow(-2, 2, "prospect", "rss", "de", 1.0, 0),  # still a prospect
    ]
    packed = unpack("accounts", *pack("accounts", rows))
    now = Standing.of({4: (9, "B"), 5: (7, "A"), 3: (8, "C")})
    assert sorted(drifted(packed, now).tolist()) == [3, 4, 6]
    assert sorted(drifted(packed, Standing.of({})).tolist()) == [3, 5, 6]  # every link gone


@pytest.mark.parametrize("dense", [True, False], ids=["counted", "sorted"])
def test_weight_squares_by_hand(dense: bool) -> None:
    # group 0: voice 7 weighs 1 + 2 = 3, voice -2 weighs 4 -> 2 voices, 9 + 16; group 1: voice 7 alone weighs 5;
    # group 2 has no rows and is not reported
    with patch.object(packs_module, "DENSE_CELLS", 1 << 20 if dense else 0):
        found = weight_squares(_ints(0, 0, 0, 3), _ints(7, 7, -2, 7), np.array([1.0, 2.0, 4.0, 5.0]))
        assert found == {0: (2, 25.0), 3: (1, 25.0)}
        assert weight_squares(_ints(0), _ints(4), np.zeros(1)) == {0: (1, 0.0)}  # a voice that weighs nothing
        assert weight_squares(_ints(), _ints(), np.zeros(0)) == {}


@pytest.mark.parametrize("dense", [True, False], ids=["counted", "sorted"])
def test_heads_by_hand(dense: bool) -> None:
    with patch.object(packs_module, "DENSE_CELLS", 1 << 20 if dense else 0):
        # group 0: customer 5 with two accounts (2 authors, 1 customer), prospect -3 (1 author); group 2: customer 5
        found = heads(_ints(0, 0, 0, 0, 2), _ints(5, 5, -3, 5, 5), _ints(1, 2, 3, 1, 1))
        assert found == {0: (3, 1), 2: (1, 1)}
        # account 1 wrote as customer 5 and, unlinked, as -1: two authors, one customer (always sorted)
        assert heads(_ints(0, 0), _ints(5, -1), _ints(1, 1)) == {0: (2, 1)}
        assert heads(_ints(), _ints(), _ints()) == {}


rows_st = st.lists(
    st.tuples(st.integers(0, 5), st.sampled_from([-(2**45), -9, -2, 1, 3, 2**45]), st.integers(1, 4),
              st.floats(0.0, 10.0)),
    max_size=40,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(rows=rows_st, big_groups=st.booleans(), dense=st.booleans())
def test_the_sums_equal_a_plain_count(rows: list[tuple[int, int, int, float]], big_groups: bool, dense: bool) -> None:
    """Groups beyond 2^30 with voice keys ±2^45 do not fit one 63-bit sort number with the row number and take
    the ``lexsort`` path; few groups and voice keys are counted in an array (``dense``); every path gives the plain
    count."""
    offset = 2**30 if big_groups else 0
    groups = _ints(*[g + offset for g, _, _, _ in rows])
    voices = _ints(*[v for _, v, _, _ in rows])
    accounts = _ints(*[a for _, _, a, _ in rows])
    weights = np.array([w for _, _, _, w in rows], dtype=np.float64)
    per_voice: dict[tuple[int, int], float] = {}
    for g, v, _, w in rows:
        per_voice[(g + offset, v)] = per_voice.get((g + offset, v), 0.0) + w
    expected: dict[int, tuple[int, float]] = {}
    for (g, _), w in per_voice.items():
        n, s = expected.get(g, (0, 0.0))
        expected[g] = (n + 1, s + w * w)
    with patch.object(packs_module, "DENSE_CELLS", 1 << 16 if dense else 0):
        found = weight_squares(groups, voices, weights)
    assert found.keys() == expected.keys()
    for g, (n, s) in expected.items():
        assert found[g][0] == n
        assert found[g][1] == pytest.approx(s)
    pairs = {(g + offset, v, a) for g, v, a, _ in rows}
    expected_heads = {
        g: (sum(1 for p in pairs if p[0] == g), len({p[1] for p in pairs if p[0] == g and p[1] > 0}))
        for g in {p[0] for p in pairs}
    }
    with patch.object(packs_module, "DENSE_CELLS", 1 << 16 if dense else 0):
        assert heads(groups, voices, accounts) == expected_heads
