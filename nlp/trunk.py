"""Run several BERT models over the same tokens, computing layers they share bit-for-bit only once.

The default sentiment and offensive-language classifiers are the e5-small base model with only
their top layer(s), pooler and head fine-tuned, and posts are embedded with that same base model
(``passage:`` prefix, the classifiers' input too). Their embeddings and lower layers are
therefore identical tensors. :class:`SharedTrunk` compares the weights layer by layer when it is
built, arranges the models in a tree (shared layers once, then a branch per distinct top) and
returns every model's output from one walk. With one fine-tuned layer each, sentiment +
offensive + embedding cost 14 layer passes instead of 36. Models that share nothing simply get
their own branch from the start, so the result is always what each model alone computes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import torch

from nlp.fast_bert import FastBert

log = logging.getLogger(__name__)

LOGITS = "logits"
MEAN = "mean"
PIECES = "pieces"
MAX_PIECES = 8
"""A ``"pieces"`` output pools the final token states per segment number 1 .. MAX_PIECES (the third input)."""


@dataclass
class _Node:
    """Layers ``start .. stop-1`` computed with ``owner``'s weights, shared by ``members``; then children."""

    owner: str
    members: list[str]
    start: int
    stop: int
    children: list[_Node] = field(default_factory=list)


def _same_tensor(x: torch.Tensor, y: torch.Tensor) -> bool:
    """Bit-identical values; one tensor (the same memory) is that without reading it: a memory-mapped embedding
    matrix (:data:`nlp.loading.MAPPED_MIN_BYTES`) would otherwise be read into memory whole."""
    if x.shape != y.shape or x.dtype != y.dtype:
        return False
    if x.data_ptr() == y.data_ptr() and x.stride() == y.stride():
        return True
    return torch.equal(x, y)


def _same_embeddings(a: FastBert, b: FastBert) -> bool:
    pairs = [
        (a.word, b.word),
        (a.position, b.position),
        (a.token_type0, b.token_type0),
        *zip(a.emb_ln, b.emb_ln, strict=True),
    ]
    return all(_same_tensor(x, y) for x, y in pairs)


def _partition(names: list[str], same: Mapping[tuple[str, str], bool]) -> list[list[str]]:
    groups: list[list[str]] = []
    for name in names:
        for group in groups:
            if same[(group[0], name)]:
                group.append(name)
                break
        else:
            groups.append([name])
    return groups


class SharedTrunk:
    """Several fast-path BERT models with outputs ``kinds[name]``: ``"logits"``, ``"mean"`` or ``"pieces"`` (see the
    module doc and :data:`MAX_PIECES`). One model may appear under two names with different kinds (its mean and its
    pieces): it runs once."""

    def __init__(self, models: Mapping[str, FastBert], kinds: Mapping[str, str]) -> None:
        if not models:
            raise ValueError("SharedTrunk needs at least one model")
        self.models = dict(models)
        self.kinds = dict(kinds)
        self.names = list(models)
        depth = {m.num_layers for m in models.values()}
        if len(depth) != 1:
            raise ValueError("all models must have the same number of layers")
        self.num_layers = depth.pop()
        self.roots = self._build()
        self.layer_passes = self._count(self.roots)
        log.debug(
            "shared trunk for %s: %d layer passes instead of %d",
            self.names,
            self.layer_passes,
            self.num_layers * len(self.names),
        )

    def _build(self) -> list[_Node]:
        emb_same = {(a, b): _same_embeddings(self.models[a], self.models[b]) for a in self.names for b in self.names}
        return [self._grow(group, 0) for group in _partition(self.names, emb_same)]

    def _grow(self, members: list[str], start: int) -> _Node:
        stop = start
        while stop < self.num_layers:
            lead = self.models[members[0]].layers[stop]
            if not all(self.models[m].layers[stop].same_as(lead) for m in members[1:]):
                break
            for m in members[1:]:  # one copy of the fused matrices of a shared layer (the same numbers)
                self.models[m].layers[stop] = lead
            stop += 1
        node = _Node(owner=members[0], members=members, start=start, stop=stop)
        if stop < self.num_layers:
            layers = {m: self.models[m].layers[stop] for m in members}
            same = {(a, b): layers[a].same_as(layers[b]) for a in members for b in members}
            node.children = [self._grow(group, stop) for group in _partition(members, same)]
        return node

    def _count(self, nodes: list[_Node]) -> int:
        return sum(n.stop - n.start + self._count(n.children) for n in nodes)

    def describe(self) -> list[str]:
        """Human-readable layout, e.g. ``['sentiment+offensive+embedding: layers 0-10', ...]``."""
        out: list[str] = []

        def walk(node: _Node) -> None:
            out.append(f"{'+'.join(node.members)}: layers {node.start}-{node.stop - 1}")
            for child in node.children:
                walk(child)

        for root in self.roots:
            walk(root)
        return out

    @property
    def wants_segments(self) -> bool:
        """Whether a ``"pieces"`` output needs the segment numbers as the third input."""
        return PIECES in self.kinds.values()

    def __call__(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, segments: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, ...]:
        """One output per model, in the order the models were given."""
        if segments is None and self.wants_segments:
            segments = torch.zeros_like(input_ids)  # no pieces given: every piece output is zeros
        results: dict[str, torch.Tensor] = {}
        batch = input_ids.shape[0]
        for root in self.roots:
            owner = self.models[root.owner]
            bias = owner.attention_bias(attention_mask)
            self._walk(root, owner.embed(input_ids), bias, (attention_mask, segments), batch, results)
        return tuple(results[name] for name in self.names)

    def _walk(
        self,
        node: _Node,
        x: torch.Tensor,
        bias: torch.Tensor,
        masks: tuple[torch.Tensor, torch.Tensor | None],
        batch: int,
        results: dict[str, torch.Tensor],
    ) -> None:
        owner = self.models[node.owner]
        if not node.children and all(self.kinds[m] == LOGITS for m in node.members):
            first = owner.first_token_states(x, bias, node.start)  # the last layer for [CLS] only
            for name in node.members:
                results[name] = self.models[name].head(first)
            return
        x = owner.run_layers(x, bias, node.start, node.stop)
        if not node.children:
            for name in node.members:
                results[name] = self._output(name, x, masks, batch)
            return
        for child in node.children:
            self._walk(child, x, bias, masks, batch, results)

    def _output(
        self, name: str, x: torch.Tensor, masks: tuple[torch.Tensor, torch.Tensor | None], batch: int
    ) -> torch.Tensor:
        model, kind = self.models[name], self.kinds[name]
        if kind == LOGITS:
            return model.logits(x, batch)
        mask, segments = masks
        if kind == PIECES and segments is not None:
            return model.segment_pool(x, segments, MAX_PIECES)
        return model.mean_pool(x, mask)
