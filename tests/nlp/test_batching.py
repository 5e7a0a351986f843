from __future__ import annotations

import random

import pytest
import torch

from nlp.batching import Batch, RunStats, collate, plan_batches


@pytest.mark.parametrize("budget", [1, 16, 100, 1000])
def test_every_text_in_exactly_one_batch_within_budget(budget: int) -> None:
    rng = random.Random(budget)
    lengths = [rng.choice([3, 5, 12, 40, 60, 256]) for _ in range(300)]
    batches = plan_batches(lengths, budget)
    seen = sorted(i for b in batches for i in b.indices)
    assert seen == list(range(len(lengths)))
    for b in batches:
        assert b.width == max(lengths[i] for i in b.indices)
        # over budget only when a single text alone is longer than the budget
        assert b.padded_tokens <= budget or len(b.indices) == 1


def test_batches_are_length_sorted_so_padding_is_small() -> None:
    rng = random.Random(7)
    lengths = [rng.randint(5, 60) for _ in range(2000)] + [rng.randint(100, 256) for _ in range(20)]
    batches = plan_batches(lengths, 4096)
    stats = RunStats(real_tokens=sum(lengths), padded_tokens=sum(b.padded_tokens for b in batches))
    assert stats.padding_efficiency > 0.95
    # unsorted fixed-size batches of the same count would waste far more
    naive = sum(max(lengths[i : i + 64]) * len(lengths[i : i + 64]) for i in range(0, len(lengths), 64))
    assert stats.padded_tokens < naive
    # longest first: the expensive batches are handed out first
    assert batches[0].width == max(lengths)


def test_max_batch_size() -> None:
    batches = plan_batches([2] * 10, token_budget=1000, max_batch_size=4)
    assert [len(b.indices) for b in batches] == [4, 4, 2]


def test_collate_pads_right_with_mask() -> None:
    ids = [[5, 6, 7], [8], [9, 10]]
    input_ids, mask = collate(ids, Batch((0, 1, 2), 3), pad_id=0)
    assert input_ids.tolist() == [[5, 6, 7], [8, 0, 0], [9, 10, 0]]
    assert mask.tolist() == [[1, 1, 1], [1, 0, 0], [1, 1, 0]]
    assert input_ids.dtype == torch.long


def test_invalid_budget() -> None:
    with pytest.raises(ValueError):
        plan_batches([1, 2], 0)
