"""Low-rank adapters (LoRA) for the trainable top layers: many layers adapt, only tiny factors ship.

A wrapped linear layer computes ``x W^T + b + scale * (x A^T) B^T`` with ``W`` frozen (it comes from the
base model) and ``A`` (rank x in), ``B`` (out x rank) and ``b`` trained. The artefact stores ``A``, ``B``
and ``b``; building the model directory merges ``W + scale * B A`` (:func:`merge_lora`).
"""

from __future__ import annotations

import math

import torch
from torch import nn

LINEAR_PATHS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)


class LoRALinear(nn.Module):
    def __init__(self, base: nn.Linear, rank: int, alpha: float) -> None:
        super().__init__()
        if rank < 1:
            raise ValueError(f"LoRA rank must be >= 1, got {rank}")
        self.weight = nn.Parameter(base.weight.detach().clone(), requires_grad=False)
        bias = base.bias.detach().clone() if base.bias is not None else torch.zeros(base.out_features)
        self.bias = nn.Parameter(bias)
        self.lora_A = nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.scale = alpha / rank

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = nn.functional.linear(x, self.weight, self.bias)
        return out + (x @ self.lora_A.t() @ self.lora_B.t()) * self.scale

    def merged_weight(self) -> torch.Tensor:
        return self.weight + self.scale * (self.lora_B @ self.lora_A)


def apply_lora(layers: nn.ModuleList, rank: int, alpha: float) -> None:
    """Replace the six linear maps of every layer by :class:`LoRALinear` (in place)."""
    for layer in layers:
        for path in LINEAR_PATHS:
            parent_path, _, name = path.rpartition(".")
            parent = layer.get_submodule(parent_path)
            setattr(parent, name, LoRALinear(getattr(parent, name), rank, alpha))


def merge_lora(tensors: dict[str, torch.Tensor], scale: float) -> dict[str, torch.Tensor]:
    """Fold ``X.lora_A``/``X.lora_B`` pairs into ``X.weight`` (which must be present); returns a new dict."""
    out = {k: v for k, v in tensors.items() if not k.endswith((".lora_A", ".lora_B"))}
    for key in [k for k in tensors if k.endswith(".lora_A")]:
        stem = key[: -len(".lora_A")]
        a, b = tensors[key].float(), tensors[stem + ".lora_B"].float()
        out[stem + ".weight"] = out[stem + ".weight"].float() + scale * (b @ a)
    return out
