"""Sentence embeddings with e5 (mean pooling, L2-normalised; ``passage:`` for posts, ``query:`` for queries).

The default is the bundled multilingual-e5-small (offline). Any Hugging Face encoder can be
given instead; then the e5 prefixes should be set to match that model (or to ``""``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nlp.encoder import LazyEncoderModel
from nlp.loading import DEFAULT, LoadedModel, load_encoder

log = logging.getLogger(__name__)

PASSAGE_PREFIX = "passage: "
QUERY_PREFIX = "query: "


class Embedder(LazyEncoderModel):
    """Lazily loaded encoder; see the module docstring. Options as for :class:`nlp.encoder.LazyEncoderModel`."""

    def __init__(
        self,
        model: str | Path = DEFAULT,
        *,
        passage_prefix: str = PASSAGE_PREFIX,
        query_prefix: str = QUERY_PREFIX,
        **kwargs: Any,
    ) -> None:
        super().__init__(model, **kwargs)
        self.passage_prefix = passage_prefix
        self.query_prefix = query_prefix

    def _load_model(self) -> LoadedModel:
        return load_encoder(self.model_spec, cache_dir=self.cache_dir, precision=self.precision)

    def _runner_desc(self) -> str:
        return "Embedding"

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
