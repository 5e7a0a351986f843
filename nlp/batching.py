"""Length-sorted batches under a token budget, dynamic padding, and the run statistics.

Texts are sorted by token count (longest first, so the most expensive batches are handed out
first and the workers finish together), then cut into batches whose padded size
``len(batch) * longest`` stays within ``token_budget``. Each batch is padded only to its own
longest member, so sorting keeps padding small.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Batch:
    indices: tuple[int, ...]
    """Positions of the batch's texts in the input."""
    width: int
    """The padded length (the longest member)."""

    @property
    def padded_tokens(self) -> int:
        return len(self.indices) * self.width


@dataclass
class RunStats:
    """What one scoring run computed, for logging and the benchmark."""

    texts: int = 0
    batches: int = 0
    real_tokens: int = 0
    padded_tokens: int = 0
    seconds: float = 0.0

    @property
    def padding_efficiency(self) -> float:
        """Real tokens / computed (padded) tokens; 1.0 means no padding was computed."""
        return self.real_tokens / self.padded_tokens if self.padded_tokens else 1.0

    def add(self, other: RunStats) -> None:
        self.texts += other.texts
        self.batches += other.batches
        self.real_tokens += other.real_tokens
        self.padded_tokens += other.padded_tokens
        self.seconds += other.seconds


def plan_batches(
    lengths: Sequence[int],
    token_budget: int,
    max_batch_size: int | None = None,
    max_waste: float = 0.1,
) -> list[Batch]:
    """Cut texts with token counts ``lengths`` into batches of at most ``token_budget`` padded tokens.

    A batch also ends when the next text would be padded by more than ``max_waste`` of the batch
    width (at least one token): many short texts fit one budget, and without this rule a batch of
    short texts would span lengths 16 down to 5. A text longer than the budget gets a batch of its
    own. Every index appears in exactly one batch.
    """
    if token_budget < 1:
        raise ValueError("token_budget must be positive")
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[Batch] = []
    current: list[int] = []
    width = 0
    for i in order:
        length = max(1, lengths[i])
        new_width = max(width, length)
        full = max_batch_size is not None and len(current) >= max_batch_size
        wasteful = new_width - length > max(1.0, max_waste * new_width)
        if current and ((len(current) + 1) * new_width > token_budget or full or wasteful):
            batches.append(Batch(tuple(current), width))
            current, new_width = [], length
        current.append(i)
        width = new_width
    if current:
        batches.append(Batch(tuple(current), width))
    return batches


def collate(ids: Sequence[Sequence[int]], batch: Batch, pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(input_ids, attention_mask)`` for ``batch``, right-padded to ``batch.width``."""
    input_ids = torch.full((len(batch.indices), batch.width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch.indices), batch.width), dtype=torch.long)
    for row, i in enumerate(batch.indices):
        seq = ids[i]
        input_ids[row, : len(seq)] = torch.as_tensor(seq, dtype=torch.long)
        mask[row, : len(seq)] = 1
    return input_ids, mask


def collate_segments(segments: Sequence[Sequence[int]], batch: Batch) -> torch.Tensor:
    """Per-token segment numbers (0: none) for ``batch``, right-padded with 0 to ``batch.width``."""
    out = torch.zeros((len(batch.indices), batch.width), dtype=torch.long)
    for row, i in enumerate(batch.indices):
        seq = segments[i]
        out[row, : len(seq)] = torch.as_tensor(seq, dtype=torch.long)
    return out
