"""The batch runner: order restoration, worker errors, progress threshold and runtime defaults."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer

from nlp.encoder import EncoderRunner
from nlp.runtime import available_cores, default_workers, tune_allocator


@pytest.fixture(scope="module")
def tokenizer(tiny_sentiment_dir: Path):  # type: ignore[no-untyped-def]
    return AutoTokenizer.from_pretrained(tiny_sentiment_dir)


def test_rows_come_back_in_input_order_from_several_threads(tokenizer) -> None:  # type: ignore[no-untyped-def]
    texts = [" ".join(["super"] * n) for n in (5, 1, 9, 3, 7, 2, 8, 4, 6, 1, 10)]
    seen_threads: set[int] = set()
    lock = threading.Lock()
    # the first two workers wait for each other: on a busy machine one fast worker could otherwise take
    # every batch; with a single worker the barrier times out and the test fails
    barrier = threading.Barrier(2, timeout=20)

    def forward(ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with lock:
            first_call = threading.get_ident() not in seen_threads and len(seen_threads) < 2
            seen_threads.add(threading.get_ident())
        if first_call:
            barrier.wait()
        assert not torch.is_grad_enabled()  # inference mode in every worker thread
        return mask.sum(1, keepdim=True).float(), ids[:, :1].float()

    runner = EncoderRunner(tokenizer, batch_tokens=12, workers=3, progress=False)
    lengths, first = runner.run(texts, forward)
    assert lengths[:, 0].tolist() == [n + 2 for n in (5, 1, 9, 3, 7, 2, 8, 4, 6, 1, 10)]  # [CLS] ... [SEP]
    assert set(first[:, 0].tolist()) == {tokenizer.cls_token_id}
    assert runner.last_stats.batches > 3 and len(seen_threads) > 1


def test_a_worker_error_reaches_the_caller(tokenizer) -> None:  # type: ignore[no-untyped-def]
    def forward(ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if ids.shape[1] > 6:
            raise RuntimeError("boom")
        return mask.float()

    runner = EncoderRunner(tokenizer, batch_tokens=8, workers=2, progress=False)
    with pytest.raises(RuntimeError, match="boom"):
        runner.run(["super", "super toll gut schlecht super toll"], forward)


def test_empty_input(tokenizer) -> None:  # type: ignore[no-untyped-def]
    runner = EncoderRunner(tokenizer, progress=False)
    assert runner.run([], lambda i, m: m.float()) == ()
    assert runner.last_stats.texts == 0


def test_runtime_defaults() -> None:
    assert default_workers(3) == 3
    assert default_workers(None) == available_cores() >= 1
    if hasattr(os, "sched_getaffinity"):
        assert available_cores() == len(os.sched_getaffinity(0))
    assert isinstance(tune_allocator(), bool)


def test_segments_reach_the_forward_padded_like_the_ids(tokenizer) -> None:  # type: ignore[no-untyped-def]
    ids = [[5, 6, 7], [5], [5, 6]]
    segments = [[0, 1, 2], [3], [4, 4]]

    def forward(input_ids: torch.Tensor, mask: torch.Tensor, numbers: torch.Tensor) -> torch.Tensor:
        assert numbers.shape == input_ids.shape and torch.equal(numbers * (1 - mask), torch.zeros_like(numbers))
        return numbers.sum(1, keepdim=True).float()

    runner = EncoderRunner(tokenizer, batch_tokens=4, workers=2, progress=False)
    (sums,) = runner.run_ids(ids, forward, segments)
    assert sums[:, 0].tolist() == [3.0, 3.0, 8.0]
    with pytest.raises(ValueError, match="parallel"):
        runner.run_ids(ids, forward, [[0, 1, 2], [3], [4]])
