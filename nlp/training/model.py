"""The trainable top of a ``BertForSequenceClassification``: the last ``k`` encoder layers, pooler and classifier.

It consumes the cached hidden states of the frozen lower layers (:mod:`nlp.training.features`),
and its parameter names match ``BertForSequenceClassification`` so the trained weights overlay
directly onto the converted base model.
"""

from __future__ import annotations

from typing import cast

import torch
from torch import nn
from transformers import BertConfig
from transformers.models.bert.modeling_bert import BertLayer, BertPooler


class TopModel(nn.Module):
    def __init__(self, config: BertConfig, n_top: int, num_labels: int) -> None:
        super().__init__()
        if not 1 <= n_top <= config.num_hidden_layers:
            raise ValueError(f"n_top must be 1..{config.num_hidden_layers}, got {n_top}")
        config._attn_implementation = "sdpa"
        self.config = config
        self.n_top = n_top
        self.pooling = "cls"
        self.first_layer = config.num_hidden_layers - n_top
        self.layers = nn.ModuleList(
            [BertLayer(config, layer_idx=i) for i in range(self.first_layer, config.num_hidden_layers)]  # type: ignore[no-untyped-call]
        )
        self.pooler = BertPooler(config)  # type: ignore[no-untyped-call]
        self.dropout = nn.Dropout(config.classifier_dropout or config.hidden_dropout_prob)
        self.classifier = nn.Linear(config.hidden_size, num_labels)
        nn.init.normal_(self.classifier.weight, std=config.initializer_range)
        nn.init.zeros_(self.classifier.bias)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``hidden``: [batch, seq, hidden] states after the frozen layers; ``mask``: [batch, seq] 1 = token."""
        extended = (1.0 - mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(hidden.dtype).min
        for layer in self.layers:
            hidden = layer(hidden, attention_mask=extended)
        if self.pooling == "mean":  # experiments only: BertForSequenceClassification itself pools the first token
            weights = mask[:, :, None].to(hidden.dtype)
            hidden = ((hidden * weights).sum(1) / weights.sum(1))[:, None, :]
        return cast(torch.Tensor, self.classifier(self.dropout(self.pooler(hidden))))

    def enable_lora(self, rank: int, alpha: float) -> None:
        """Freeze the top layers' weight matrices and train low-rank adapters, biases and LayerNorms instead."""
        from nlp.training.lora import apply_lora

        apply_lora(self.layers, rank, alpha)
        self.lora_scale = alpha / rank

    lora_scale: float = 0.0

    def hf_state_dict(self, *, trainable_only: bool = False) -> dict[str, torch.Tensor]:
        """Parameters under their ``BertForSequenceClassification`` names (LoRA factors as ``X.lora_A/B``)."""
        out: dict[str, torch.Tensor] = {}
        parts: list[tuple[str, nn.Module]] = [
            *((f"bert.encoder.layer.{self.first_layer + i}.", layer) for i, layer in enumerate(self.layers)),
            ("bert.pooler.", self.pooler),
            ("classifier.", self.classifier),
        ]
        for prefix, module in parts:
            for key, value in module.named_parameters():
                if value.requires_grad or not trainable_only:
                    out[prefix + key] = value.detach()
        return out

    def load_hf_state_dict(self, tensors: dict[str, torch.Tensor], *, strict: bool = True) -> None:
        """Load from ``BertModel`` (``encoder.``/``pooler.``) or ``BertForSequenceClassification`` names."""
        tensors = {k.removeprefix("bert."): v for k, v in tensors.items()}
        layers: dict[str, torch.Tensor] = {}
        for offset in range(self.n_top):
            prefix = f"encoder.layer.{self.first_layer + offset}."
            for key, value in tensors.items():
                if key.startswith(prefix):
                    layers[f"{offset}.{key[len(prefix) :]}"] = value
        self.layers.load_state_dict(layers, strict=strict)
        pooler = {k.removeprefix("pooler."): v for k, v in tensors.items() if k.startswith("pooler.")}
        self.pooler.load_state_dict(pooler, strict=strict)
        head = {k.removeprefix("classifier."): v for k, v in tensors.items() if k.startswith("classifier.")}
        if head or strict:
            self.classifier.load_state_dict(head, strict=strict)


def init_uniform_attention(model: TopModel) -> None:
    """Zero the last layer's query projection: every token, the pooled first one included, then attends
    uniformly, so the classifier starts from a mean-pooled representation (what e5 was trained for) instead of
    e5's untrained first-token state. Training moves the queries away from zero as useful."""
    query = model.layers[-1].get_submodule("attention.self.query")
    if not isinstance(query, nn.Linear):
        raise ValueError("uniform attention init needs a plain (non-LoRA) last layer")
    with torch.no_grad():
        query.weight.zero_()
        query.bias.zero_()


def load_top_from_base(base_dir: str, n_top: int, num_labels: int, dropout: float = 0.1) -> TopModel:
    """A :class:`TopModel` initialised with the base model's top layers and pooler and a fresh head."""
    from safetensors.torch import load_file

    config = BertConfig.from_pretrained(base_dir)
    config.hidden_dropout_prob = dropout
    config.attention_probs_dropout_prob = dropout
    model = TopModel(config, n_top, num_labels)
    model.load_hf_state_dict(load_file(f"{base_dir}/model.safetensors"), strict=False)
    return model
