"""A lean inference-only forward pass for BERT encoders (``BertModel`` and ``BertForSequenceClassification``).

It computes what Hugging Face's implementation computes, from the same weights (to float
rounding), with less memory traffic per layer:

* one fused query/key/value matrix product, PyTorch's fused attention (the model's own query, key and
  value weights become views of the fused matrix, so it costs no second copy);
* the key bias is dropped (it adds the same number to every score of a query, which softmax
  ignores) and the value bias is folded into the output bias (attention weights sum to 1);
* residual connections accumulate in place (``(x + b).addmm_(h, W.T)``) and GELU runs in place,
  so fewer fresh activation buffers are allocated and page-faulted;
* a classifier reads only the first token's final state (pooler on ``[CLS]``), so the last layer
  computes keys and values for every token but query, attention output and feed-forward for the
  first token only (:meth:`FastBert.first_token_layer`). That skips about 10/12 of the last
  layer's matrix work (~7 % of a 12-layer model) and changes nothing but float rounding.

It also exposes the encoder layer by layer, so that several models that share their lower
layers can run the shared part once (:mod:`nlp.trunk`). Models it does not support (other
architectures, relative positions, non-GELU activations) keep the Hugging Face forward.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LayerWeights:
    qkv_w: torch.Tensor
    q_b: torch.Tensor
    """The query bias (the key bias cancels in softmax)."""
    out_w: torch.Tensor
    out_b: torch.Tensor
    """The output bias plus ``out_w @ value_bias``."""
    ln1_w: torch.Tensor
    ln1_b: torch.Tensor
    up_w: torch.Tensor
    up_b: torch.Tensor
    down_w: torch.Tensor
    down_b: torch.Tensor
    ln2_w: torch.Tensor
    ln2_b: torch.Tensor

    def same_as(self, other: LayerWeights) -> bool:
        """Bit-identical weights (then two models compute the same layer output)."""
        return all(
            a.shape == b.shape and a.dtype == b.dtype and torch.equal(a, b)
            for a, b in zip(self.__dict__.values(), other.__dict__.values(), strict=True)
        )


def bert_of(model: Any) -> Any | None:
    """The ``BertModel`` inside ``model`` (or ``model`` itself), or None for other architectures."""
    from transformers import BertModel

    if isinstance(model, BertModel):
        return model
    inner = getattr(model, "bert", None)
    return inner if isinstance(inner, BertModel) else None


def supports(model: Any) -> bool:
    bert = bert_of(model)
    if bert is None:
        return False
    config = bert.config
    return (
        getattr(config, "position_embedding_type", "absolute") == "absolute"
        and config.hidden_act in ("gelu", "gelu_new", "gelu_pytorch_tanh")
        and not getattr(config, "is_decoder", False)
    )


class FastBert:
    """The encoder of one BERT model as plain tensors (see the module docstring)."""

    def __init__(self, model: Any) -> None:
        bert = bert_of(model)
        if bert is None or not supports(model):
            raise ValueError("FastBert supports BertModel / BertForSequenceClassification with GELU only")
        config = bert.config
        self.hidden = config.hidden_size
        self.heads = config.num_attention_heads
        self.eps = config.layer_norm_eps
        self.approximate = "none" if config.hidden_act == "gelu" else "tanh"
        emb = bert.embeddings
        self.word = emb.word_embeddings.weight.detach()
        self.position = emb.position_embeddings.weight.detach()
        self.token_type0 = emb.token_type_embeddings.weight.detach()[0]
        self.emb_ln = (emb.LayerNorm.weight.detach(), emb.LayerNorm.bias.detach())
        self.layers = [self._layer(layer) for layer in bert.encoder.layer]
        pooler = getattr(bert, "pooler", None)
        self.pooler = (pooler.dense.weight.detach(), pooler.dense.bias.detach()) if pooler is not None else None
        classifier = getattr(model, "classifier", None)
        self.classifier = (
            (classifier.weight.detach(), classifier.bias.detach()) if isinstance(classifier, torch.nn.Linear) else None
        )
        self.dtype = self.word.dtype

    @staticmethod
    def _layer(layer: Any) -> LayerWeights:
        att = layer.attention
        q, k, v = att.self.query, att.self.key, att.self.value
        out = att.output.dense
        qkv_w = torch.cat([q.weight, k.weight, v.weight]).detach().contiguous()
        with torch.no_grad():  # the model's own query, key and value weights become views of the fused matrix
            rows = q.weight.shape[0]
            for i, linear in enumerate((q, k, v)):
                linear.weight.data = qkv_w[i * rows : (i + 1) * rows]
        return LayerWeights(
            qkv_w=qkv_w,
            q_b=q.bias.detach(),
            out_w=out.weight.detach(),
            out_b=(out.bias + out.weight @ v.bias).detach(),
            ln1_w=att.output.LayerNorm.weight.detach(),
            ln1_b=att.output.LayerNorm.bias.detach(),
            up_w=layer.intermediate.dense.weight.detach(),
            up_b=layer.intermediate.dense.bias.detach(),
            down_w=layer.output.dense.weight.detach(),
            down_b=layer.output.dense.bias.detach(),
            ln2_w=layer.output.LayerNorm.weight.detach(),
            ln2_b=layer.output.LayerNorm.bias.detach(),
        )

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    def attention_bias(self, attention_mask: torch.Tensor) -> torch.Tensor:
        """``[B, 1, 1, L]`` additive mask: 0 for tokens, a large negative number for padding."""
        bias = torch.zeros(attention_mask.shape, dtype=self.dtype)
        bias.masked_fill_(attention_mask == 0, torch.finfo(self.dtype).min)
        return bias[:, None, None, :]

    def embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        """``[B, L]`` ids -> ``[B*L, H]`` embedded and normalised hidden states (token type 0, positions 0..L-1)."""
        b, length = input_ids.shape
        x = F.embedding(input_ids, self.word)
        x += self.position[:length]
        x += self.token_type0
        return F.layer_norm(x, (self.hidden,), *self.emb_ln, self.eps).view(b * length, self.hidden)

    def run_layers(self, x: torch.Tensor, bias: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        """Apply layers ``start .. stop-1`` to ``x`` (``[B*L, H]``); ``bias`` from :meth:`attention_bias`."""
        b, length = bias.shape[0], bias.shape[-1]
        h = self.hidden
        d = h // self.heads
        for w in self.layers[start:stop]:
            qkv = torch.mm(x, w.qkv_w.t())
            qkv[:, :h] += w.q_b
            q, k, v = qkv.view(b, length, 3, self.heads, d).permute(2, 0, 3, 1, 4).unbind(0)
            ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
            ctx = ctx.transpose(1, 2).reshape(b * length, h)
            attn = torch.add(x, w.out_b).addmm_(ctx, w.out_w.t())
            x = F.layer_norm(attn, (h,), w.ln1_w, w.ln1_b, self.eps)
            up = torch.addmm(w.up_b, x, w.up_w.t())
            if self.approximate == "none":
                torch.ops.aten.gelu_(up)
            else:
                up = F.gelu(up, approximate=self.approximate)
            down = torch.add(x, w.down_b).addmm_(up, w.down_w.t())
            x = F.layer_norm(down, (h,), w.ln2_w, w.ln2_b, self.eps)
        return x

    def first_token_layer(self, x: torch.Tensor, bias: torch.Tensor, index: int) -> torch.Tensor:
        """Layer ``index`` applied to ``x`` (``[B*L, H]``), returning only the first token's output ``[B, H]``.

        Every token still contributes keys and values, so the result equals row 0 of the full
        layer; the query, attention output and feed-forward run on ``B`` rows instead of ``B*L``.
        """
        b, length = bias.shape[0], bias.shape[-1]
        h = self.hidden
        d = h // self.heads
        w = self.layers[index]
        kv = torch.mm(x, w.qkv_w[h:].t())  # the key bias cancels in softmax; the value bias is in out_b
        k, v = kv.view(b, length, 2, self.heads, d).permute(2, 0, 3, 1, 4).unbind(0)
        first = x.view(b, length, h)[:, 0]
        q = torch.addmm(w.q_b, first, w.qkv_w[:h].t()).view(b, self.heads, 1, d)
        ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=bias).reshape(b, h)
        attn = torch.add(first, w.out_b).addmm_(ctx, w.out_w.t())
        y = F.layer_norm(attn, (h,), w.ln1_w, w.ln1_b, self.eps)
        up = torch.addmm(w.up_b, y, w.up_w.t())
        up = F.gelu(up, approximate=self.approximate)
        down = torch.add(y, w.down_b).addmm_(up, w.down_w.t())
        return F.layer_norm(down, (h,), w.ln2_w, w.ln2_b, self.eps)

    def head(self, first: torch.Tensor) -> torch.Tensor:
        """Pooler (dense + tanh) and classifier on the first token's final states ``[B, H]``."""
        if self.pooler is None or self.classifier is None:
            raise ValueError("this model has no pooler/classifier head")
        pooled = torch.tanh(torch.addmm(self.pooler[1], first, self.pooler[0].t()))
        return torch.addmm(self.classifier[1], pooled, self.classifier[0].t())

    def logits(self, x: torch.Tensor, batch: int) -> torch.Tensor:
        """Pooler and classifier on the final hidden states ``x`` (``[B*L, H]``) of all tokens."""
        return self.head(x.view(batch, -1, self.hidden)[:, 0])

    def first_token_states(self, x: torch.Tensor, bias: torch.Tensor, start: int) -> torch.Tensor:
        """The first token's final states ``[B, H]`` from hidden states ``x`` after layer ``start - 1``."""
        last = self.num_layers - 1
        if start > last:
            return x.view(bias.shape[0], -1, self.hidden)[:, 0]
        x = self.run_layers(x, bias, start, last)
        return self.first_token_layer(x, bias, last)

    @staticmethod
    def mean_pool(x: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Mean of the token states (padding excluded), L2-normalised: the e5 sentence embedding."""
        b, length = attention_mask.shape
        mask = attention_mask.to(x.dtype).unsqueeze(-1)
        summed = (x.view(b, length, -1) * mask).sum(1)
        return F.normalize(summed / mask.sum(1).clamp(min=1.0), dim=-1)

    @staticmethod
    def segment_pool(x: torch.Tensor, segments: torch.Tensor, count: int) -> torch.Tensor:
        """``[B, count, H]``: per segment number ``1 .. count`` of ``segments`` (``[B, L]``; 0 and larger numbers
        are left out) the mean of its token states, L2-normalised like :meth:`mean_pool` (zeros where a row has no
        such segment)."""
        b, length = segments.shape
        numbers = torch.where(segments <= count, segments, torch.zeros_like(segments))
        member = F.one_hot(numbers, count + 1)[..., 1:].to(x.dtype)  # [B, L, count]
        summed = torch.bmm(member.transpose(1, 2), x.view(b, length, -1))
        return F.normalize(summed / member.sum(1).unsqueeze(-1).clamp(min=1.0), dim=-1)

    def classify(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Logits of a sequence classifier, the full forward pass (last layer for ``[CLS]`` only)."""
        return self.head(self.first_token_states(self.embed(input_ids), self.attention_bias(attention_mask), 0))

    def embed_texts(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        x = self.run_layers(self.embed(input_ids), self.attention_bias(attention_mask), 0, self.num_layers)
        return self.mean_pool(x, attention_mask)
