"""Sentence embeddings with e5 (mean pooling, L2-normalised; ``passage:`` for posts, ``query:`` for queries).

The default is the bundled multilingual-e5-small (offline). Any Hugging Face encoder can be
given instead; then the e5 prefixes should be set to match that model (or to ``""``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from nlp import fast_bert
from nlp.encoder import EncoderRunner, LazyEncoderModel
from nlp.loading import DEFAULT, LoadedModel, load_encoder

log = logging.getLogger(__name__)

PASSAGE_PREFIX = "passage: "
QUERY_PREFIX = "query: "


class Embedder(LazyEncoderModel):
    """Lazily loaded encoder; see the module docstring. Options as for :class:`nlp.classifier.TransformerClassifier`."""

    def __init__(
        self,
        model: str | Path = DEFAULT,
        *,
        passage_prefix: str = PASSAGE_PREFIX,
        query_prefix: str = QUERY_PREFIX,
        batch_tokens: int = 4096,
        max_length: int = 256,
        workers: int | None = None,
        precision: str = "fp32",
        cache_dir: Path | None = None,
        progress: bool = True,
        fast: bool = True,
    ) -> None:
        self.model_spec = str(model)
        self.passage_prefix = passage_prefix
        self.query_prefix = query_prefix
        self.batch_tokens = batch_tokens
        self.max_length = max_length
        self.workers = workers
        self.precision = precision
        self.cache_dir = cache_dir
        self.progress = progress
        self.use_fast = fast
        self._lock = threading.Lock()
        self._loaded: LoadedModel | None = None
        self._fast: fast_bert.FastBert | None = None
        self._runner: EncoderRunner | None = None

    def load(self) -> LoadedModel:
        with self._lock:
            if self._loaded is None:
                loaded = load_encoder(self.model_spec, cache_dir=self.cache_dir, precision=self.precision)
                if self.use_fast and fast_bert.supports(loaded.model):
                    self._fast = fast_bert.FastBert(loaded.model)
                self._runner = EncoderRunner(
                    loaded.tokenizer,
                    max_length=self.max_length,
                    batch_tokens=self.batch_tokens,
                    workers=self.workers,
                    progress=self.progress,
                    desc="Embedding",
                )
                self._loaded = loaded
        return self._loaded

    @property
    def dimension(self) -> int:
        return int(self.load().model.config.hidden_size)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        fast = self.fast_model
        if fast is not None:
            return fast.embed_texts(input_ids, attention_mask)
        out = self.load().model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.to(out.dtype).unsqueeze(-1)
        pooled = (out * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return torch.nn.functional.normalize(pooled, dim=-1)

    def _embed(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        (out,) = self.runner.run([prefix + t for t in texts], self.forward)
        return out

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, dim)`` unit vectors for posts."""
        return self._embed(texts, self.passage_prefix)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, dim)`` unit vectors for queries (topic descriptions)."""
        return self._embed(texts, self.query_prefix)
