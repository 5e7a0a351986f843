"""A page of the posts behind an answer needs only the (weight, day) groups it falls into (``posts.page_groups``)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from resonanz.answers.posts import page_groups


def test_page_groups_by_hand() -> None:
    weights, days = np.array([5.0, 5.0, 5.0, 1.0]), np.array([3, 2, 2, 9])
    # order: post 0 (5, day 3), posts 1 and 2 (5, day 2: the time decides), post 3 (1, day 9)
    spanned, skip = page_groups(weights, days, 1, 1)
    assert sorted(spanned.tolist()) == [1, 2] and skip == 0
    spanned, skip = page_groups(weights, days, 2, 1)
    assert sorted(spanned.tolist()) == [1, 2] and skip == 1
    spanned, skip = page_groups(weights, days, 0, 1)
    assert spanned.tolist() == [0] and skip == 0
    spanned, skip = page_groups(weights, days, 2, 5)  # to the end: the lightest group too
    assert sorted(spanned.tolist()) == [1, 2, 3] and skip == 1
    spanned, skip = page_groups(weights, days, 4, 5)  # beyond the end
    assert spanned.tolist() == [] and skip == 0


posts_st = st.lists(
    st.tuples(st.sampled_from([0.5, 1.0, 5.0]), st.integers(0, 3), st.integers(0, 23)), min_size=1, max_size=40
)


@given(posts_st, st.integers(0, 45), st.integers(1, 10))
def test_the_groups_give_the_page_of_the_full_order(
    posts: list[tuple[float, int, int]], offset: int, limit: int
) -> None:
    """The page ordered among the spanned groups alone (weight, time, id: what the database does) is the page of
    the order of every post."""
    weights = np.array([w for w, _, _ in posts])
    days = np.array([d for _, d, _ in posts])
    times = [d * 24 + h for _, d, h in posts]  # a later day is a later time

    def query_order(indices: list[int]) -> list[int]:
        return sorted(indices, key=lambda i: (-weights[i], -times[i], -i))

    expected = query_order(list(range(len(posts))))[offset : offset + limit]
    spanned, skip = page_groups(weights, days, offset, limit)
    assert query_order(spanned.tolist())[skip : skip + limit] == expected
    assert len(spanned) <= len(posts)
