"""Run the frozen lower layers of the base model once and cache their per-token hidden states.

Training then only runs the top ``k`` layers + head on the cache, which is what makes CPU
fine-tuning affordable. A cache is a pair of ``.npy`` files: ``tokens`` (all texts' token states
concatenated, float16, ``[n_tokens, hidden]``) and ``offsets`` (``[n_texts + 1]``, int64).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

log = logging.getLogger(__name__)

PREFIX = "passage: "


@dataclass
class HiddenCache:
    tokens: np.ndarray  # [n_tokens, hidden] float16
    offsets: np.ndarray  # [n_texts + 1] int64

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def get(self, i: int) -> np.ndarray:
        return self.tokens[self.offsets[i] : self.offsets[i + 1]]

    def subset(self, idx: Sequence[int] | np.ndarray) -> HiddenCache:
        parts = [self.get(int(i)) for i in idx]
        lens = np.array([len(p) for p in parts], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
        tokens = np.concatenate(parts) if parts else self.tokens[:0]
        return HiddenCache(tokens, offsets)


def cache_key(texts: Sequence[str], base_dir: Path, n_frozen: int, max_length: int) -> str:
    digest = hashlib.sha256()
    config = json.loads((base_dir / "config.json").read_text(encoding="utf-8"))
    digest.update(json.dumps([config.get("resonanz_source"), n_frozen, max_length, PREFIX]).encode())
    for t in texts:
        digest.update(t.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def load_frozen_encoder(base_dir: Path, n_frozen: int) -> tuple[torch.nn.Module, object]:
    """The base model truncated to its first ``n_frozen`` layers, and its tokenizer."""
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    model = AutoModel.from_pretrained(base_dir)
    model.encoder.layer = model.encoder.layer[:n_frozen]
    model.pooler = None
    model.eval()
    return model, tokenizer


@torch.inference_mode()
def encode_lower(
    base_dir: Path,
    texts: Sequence[str],
    n_frozen: int,
    max_length: int,
    *,
    batch_tokens: int = 4096,
    cache_dir: Path | None = None,
    desc: str = "encoding",
) -> HiddenCache:
    """Hidden states after ``n_frozen`` layers for every text (``passage: `` prefix, truncated to ``max_length``)."""
    if cache_dir is not None:
        key = cache_key(texts, base_dir, n_frozen, max_length)
        tok_path, off_path = cache_dir / f"{key}.tokens.npy", cache_dir / f"{key}.offsets.npy"
        if tok_path.is_file() and off_path.is_file():
            log.info("using cached hidden states %s", tok_path)
            return HiddenCache(np.load(tok_path, mmap_mode="r"), np.load(off_path))
    model, tokenizer = load_frozen_encoder(base_dir, n_frozen)
    ids = tokenizer([PREFIX + t for t in texts], truncation=True, max_length=max_length)["input_ids"]  # type: ignore[operator]
    lens = np.array([len(x) for x in ids], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    config: Any = model.config
    hidden = int(config.hidden_size)
    tokens = np.empty((int(offsets[-1]), hidden), dtype=np.float16)
    order = np.argsort(-lens, kind="stable")
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        if current and (len(current) + 1) * lens[current[0]] > batch_tokens:
            batches.append(current)
            current = []
        current.append(int(i))
    if current:
        batches.append(current)
    with tqdm(total=len(texts), desc=desc, unit="text") as bar:
        for batch in batches:
            width = int(lens[batch].max())
            input_ids = torch.full((len(batch), width), int(config.pad_token_id), dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):
                input_ids[row, : lens[i]] = torch.tensor(ids[i])
                mask[row, : lens[i]] = 1
            out = model(input_ids=input_ids, attention_mask=mask).last_hidden_state.numpy()
            for row, i in enumerate(batch):
                tokens[offsets[i] : offsets[i + 1]] = out[row, : lens[i]].astype(np.float16)
            bar.update(len(batch))
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp_tok, tmp_off = tok_path.with_suffix(".tmp.npy"), off_path.with_suffix(".tmp.npy")
        np.save(tmp_tok, tokens)
        np.save(tmp_off, offsets)
        tmp_tok.replace(tok_path)
        tmp_off.replace(off_path)
    return HiddenCache(tokens, offsets)
