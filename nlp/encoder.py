"""Run a transformer over many texts: tokenise, batch by token budget, fan out to workers, restore order.

:class:`EncoderRunner` is shared by the sentiment scorer, the offensive-language classifier and the
embedder. A *forward* function maps one padded batch ``(input_ids, attention_mask)`` to one tensor
(or a tuple of tensors) with one row per text; the runner returns numpy arrays in input order. Given
per-token *segment numbers* (e.g. which sentence a token belongs to), the forward gets them, padded the
same way, as a third tensor.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from tqdm.auto import tqdm

from nlp import fast_bert
from nlp.batching import Batch, RunStats, collate, collate_segments, plan_batches
from nlp.loading import DEFAULT, LoadedModel, resolve_precision
from nlp.runtime import default_workers, single_threaded_torch, tune_allocator

log = logging.getLogger(__name__)

ForwardFn = Callable[[torch.Tensor, torch.Tensor], "torch.Tensor | tuple[torch.Tensor, ...]"]
SegmentedForwardFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], "torch.Tensor | tuple[torch.Tensor, ...]"]

PROGRESS_MIN_TEXTS = 512
"""Backlogs at least this large get a progress bar."""


class EncoderRunner:
    """Batching and parallel execution for one tokenizer (see the module docstring)."""

    def __init__(
        self,
        tokenizer: Any,
        *,
        max_length: int = 256,
        batch_tokens: int = 4096,
        workers: int | None = None,
        progress: bool = True,
        desc: str = "Scoring",
    ) -> None:
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.batch_tokens = batch_tokens
        self.workers = default_workers(workers)
        self.progress = progress
        self.desc = desc
        self.last_stats = RunStats()
        pad = getattr(tokenizer, "pad_token_id", None)
        self.pad_id = int(pad) if pad is not None else 0

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids per text, with special tokens, truncated to ``max_length``."""
        if not texts:
            return []
        encoded = self.tokenizer(
            list(texts),
            add_special_tokens=True,
            truncation=True,
            max_length=self.max_length,
            return_attention_mask=False,
            return_token_type_ids=False,
        )
        return [list(ids) for ids in encoded["input_ids"]]

    def run(self, texts: Sequence[str], forward: ForwardFn) -> tuple[np.ndarray, ...]:
        """Tokenise ``texts`` and :meth:`run_ids` them."""
        return self.run_ids(self.encode(texts), forward)

    def run_ids(
        self,
        ids: Sequence[Sequence[int]],
        forward: ForwardFn | SegmentedForwardFn,
        segments: Sequence[Sequence[int]] | None = None,
    ) -> tuple[np.ndarray, ...]:
        """Apply ``forward`` to all sequences in ``ids``; one output array per forward output, rows in input order.
        ``segments``: per-token numbers parallel to ``ids`` (then ``forward`` is a :data:`SegmentedForwardFn`)."""
        if segments is not None and [len(s) for s in segments] != [len(s) for s in ids]:
            raise ValueError("segments must be parallel to ids, one number per token")
        start = time.perf_counter()
        lengths = [len(seq) for seq in ids]
        batches = plan_batches(lengths, self.batch_tokens)
        stats = RunStats(
            texts=len(ids),
            batches=len(batches),
            real_tokens=sum(lengths),
            padded_tokens=sum(b.padded_tokens for b in batches),
        )
        outputs: list[np.ndarray] | None = None
        if batches:
            tune_allocator()
            single_threaded_torch()
            outputs = self._execute(ids, batches, forward, segments)
        stats.seconds = time.perf_counter() - start
        self.last_stats = stats
        log.debug(
            "%s: %d texts in %d batches, padding efficiency %.3f, %.1f texts/s",
            self.desc,
            stats.texts,
            stats.batches,
            stats.padding_efficiency,
            stats.texts / stats.seconds if stats.seconds else 0.0,
        )
        return tuple(outputs) if outputs is not None else ()

    def _execute(
        self,
        ids: Sequence[Sequence[int]],
        batches: list[Batch],
        forward: ForwardFn | SegmentedForwardFn,
        segments: Sequence[Sequence[int]] | None,
    ) -> list[np.ndarray]:
        n = len(ids)
        outputs: list[np.ndarray] = []

        def work(batch: Batch) -> tuple[Batch, tuple[np.ndarray, ...]]:
            input_ids, mask = collate(ids, batch, self.pad_id)
            with torch.inference_mode():
                if segments is None:
                    result = cast(ForwardFn, forward)(input_ids, mask)
                else:
                    result = cast(SegmentedForwardFn, forward)(input_ids, mask, collate_segments(segments, batch))
            tensors = result if isinstance(result, tuple) else (result,)
            return batch, tuple(t.float().numpy() for t in tensors)

        def store(batch: Batch, arrays: tuple[np.ndarray, ...]) -> None:
            if not outputs:
                outputs.extend(np.empty((n, *a.shape[1:]), dtype=np.float32) for a in arrays)
            for out, arr in zip(outputs, arrays, strict=True):
                out[list(batch.indices)] = arr

        show = self.progress and n >= PROGRESS_MIN_TEXTS
        with tqdm(total=n, desc=self.desc, unit="text", disable=not show, leave=False) as bar:
            if self.workers == 1 or len(batches) == 1:
                for batch in batches:
                    store(*work(batch))
                    bar.update(len(batch.indices))
                return outputs
            with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="resonanz-encoder") as pool:
                pending: set[Future[tuple[Batch, tuple[np.ndarray, ...]]]] = {pool.submit(work, b) for b in batches}
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        if future.exception() is not None:
                            for other in pending:
                                other.cancel()
                        batch, arrays = future.result()  # re-raises a worker's exception
                        store(batch, arrays)
                        bar.update(len(batch.indices))
        return outputs


class LazyEncoderModel:
    """Options, thread-safe lazy loading and accessors shared by the encoders (classifier, embedder).

    ``model``: ``"default"``, a local directory or a hub id. ``batch_tokens``: padded tokens per batch.
    ``workers``: parallel single-threaded workers (default: one per available core). ``precision``:
    ``"auto"`` (bf16 where the CPU has AMX/AVX512-BF16, else fp32), ``"fp32"`` or ``"bf16"``; a
    classifier's version gets a ``+bf16`` suffix. ``fast``: use the lean BERT forward.

    Subclasses implement ``_load_model()`` and may extend ``_install()``; the properties load on first use.
    """

    def __init__(
        self,
        model: str | Path = DEFAULT,
        *,
        batch_tokens: int = 4096,
        max_length: int = 256,
        workers: int | None = None,
        precision: str = "fp32",
        cache_dir: Path | None = None,
        progress: bool = True,
        fast: bool = True,
    ) -> None:
        self.model_spec = str(model)
        self.batch_tokens = batch_tokens
        self.max_length = max_length
        self.workers = workers
        self.precision = resolve_precision(precision)
        self.cache_dir = cache_dir
        self.progress = progress
        self.use_fast = fast
        self._lock = threading.Lock()
        self._loaded: LoadedModel | None = None
        self._runner: EncoderRunner | None = None
        self._fast: fast_bert.FastBert | None = None

    def _load_model(self) -> LoadedModel:
        raise NotImplementedError

    def _runner_desc(self) -> str:
        """Progress-bar label of the runner."""
        return "Encoding"

    def load(self) -> LoadedModel:
        """Load the model now (otherwise it is loaded on first use). Safe to call from several threads."""
        with self._lock:
            if self._loaded is None:
                loaded = self._load_model()
                self._install(loaded)
                self._loaded = loaded
        return self._loaded

    def _install(self, loaded: LoadedModel) -> None:
        """Set up the lean forward and the runner; subclasses extend it (it may raise, then nothing is installed)."""
        self._fast = fast_bert.FastBert(loaded.model) if self.use_fast and fast_bert.supports(loaded.model) else None
        self._runner = EncoderRunner(
            loaded.tokenizer,
            max_length=self.max_length,
            batch_tokens=self.batch_tokens,
            workers=self.workers,
            progress=self.progress,
            desc=self._runner_desc(),
        )

    @property
    def name(self) -> str:
        return str(self.load().name)

    @property
    def version(self) -> str:
        return str(self.load().version)

    @property
    def fast_model(self) -> fast_bert.FastBert | None:
        """The lean forward of this model, or None if it runs through Hugging Face."""
        self.load()
        return self._fast

    @property
    def runner(self) -> EncoderRunner:
        self.load()
        assert self._runner is not None
        return self._runner
