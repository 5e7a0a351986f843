"""Triage flags as classifiers: churn intent, complaint, offensive, spam/phishing, question-needs-answer.

One logistic-regression head per flag over two kinds of features every analysed post already has:

* its e5 passage embedding (the same vector topic matching uses, so the heads cost one matrix
  product per batch), scaled by ``EMBED_SCALE`` so that a default L2 penalty suits unit vectors;
* which keyword rules of the flag file hit (``RULE_FEATURES``: churn, complaint, legal, safety,
  data breach and abusive-word lists, with their negation/exclusion handling), a question mark and
  a link. A keyword is evidence, not a verdict: "DM ist raus" hits the churn list, and the head has
  learnt from labelled examples that the rest of the post outweighs it.

The heads deliberately do not read the sentiment or offensive models' outputs: a user may switch
either model, and the flags should not silently change meaning when they do (cross-validated on the
training set, adding them moved precision/recall by at most 0.05).

A flag model may also carry its own fine-tuned copy of the embedder's top layer(s) (``top_layers`` > 0,
:mod:`nlp.training.flag_layer`): then the heads read the mean-pooled output of that *flag branch*
instead of the passage embedding. The branch shares the embedder's token embeddings and lower layers
(the same tensors), so :class:`~nlp.trunk.SharedTrunk` computes those once and the flags cost one (or
two) extra layer passes per post (:meth:`FlagModel.branch`).

Trained by ``scripts/train_flags.py`` on ``nlp/training/data/written_flags*.tsv``; measured by
``scripts/eval_flags.py`` on ``tests/nlp/data/flags_eval.tsv`` (written separately, never trained or
tuned on). Stored as ``nlp/weights/flags-de.safetensors`` with its metadata (heads only: a few kB; with
a fine-tuned layer: ~3.5 MB in fp16).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nlp.errors import ModelLoadError

if TYPE_CHECKING:  # the heads alone need no torch
    import torch

    from nlp.fast_bert import FastBert, LayerWeights

log = logging.getLogger(__name__)

FLAG_CLASSES = ("churn", "complaint", "offensive", "spam", "question")
SEVERITY = {"churn": 4, "complaint": 2, "offensive": 3, "spam": 3, "question": 1}
REASON = {
    "churn": "Kündigungs- oder Wechselabsicht",
    "complaint": "Beschwerde",
    "offensive": "Beleidigende oder ausfallende Sprache",
    "spam": "Spam, Phishing oder Betrug",
    "question": "Frage wartet auf Antwort",
}
RULE_FEATURES = ("churn", "complaint", "legal", "safety", "data_breach", "abusive_words")
"""Flag-file rules whose hits are features (and which the heads supersede as flags: churn, complaint,
abusive_words; legal, safety and data_breach stay flags of their own)."""
SUPERSEDED_RULES = frozenset({"churn", "complaint", "abusive_words"})
EMBED_SCALE = 10.0
EXTRA_FEATURES = len(RULE_FEATURES) + 4
DEFAULT_FILE = Path(__file__).parent / "weights" / "flags-de.safetensors"
LAYER_PREFIX = "layer."
LAYER_TENSORS = 16
"""Tensor names of a fine-tuned encoder layer in the file: ``layer.<index>.<BertLayer parameter name>``."""

_LINK = re.compile(r"https?://|www\.|\bbit\.ly\b", re.IGNORECASE)
_CHURN = re.compile(
    r"\b(?:kündig\w*|gekündigt|nie\s+wieder|nie\s+mehr|wechsl?e\w*\s+(?:zu|zur|jetzt\s+zu)\b|zur\s+konkurrenz"
    r"|(?:abo|vertrag|konto|account|mitgliedschaft)\s+(?:beenden|auflösen|löschen|kündigen)|letzte\s+bestellung"
    r"|kauf\w*\s+(?:ich|wir)\s+(?:bei\s+euch\s+)?(?:nichts?|nix)\s+mehr)",
    re.IGNORECASE,
)
_CHURN_CUE = re.compile(
    r"\b(?:kündig\w*|gekündigt|wechs[e]?l\w*|gewechselt|umsteig\w*|umgestiegen|konkurrenz|wettbewerb\w*"
    r"|woanders|anderswo|alternativen|nie\s+wieder|nie\s+mehr|nicht\s+mehr\s+(?:bei|von)\b|(?:nichts?|nix)\s+mehr"
    r"|nur\s+noch\s+(?:bei|vom|beim|von)\b|letzte[nrs]?\s+(?:mal|bestellung|einkauf|lieferung|abo)\b"
    r"|(?:bin|sind)\s+(?:dann\s+)?(?:mal\s+)?(?:weg|raus)\b|ohne\s+mich|tschüss|adieu|bye\b"
    r"|(?:abo|vertrag|konto|account|mitgliedschaft)\s+(?:\w+\s+)?(?:pausier\w*|beend\w*|auflös\w*|lösch\w*|schließ\w*)"
    r"|andere[nmrs]?\s+\w*(?:ereien|anbieter\w*|händler\w*|lieferant\w*|shops?|marken?|dienste?n?)\b"
    r"|(?:noch|weiter(?:hin)?)\s+bei\s+\S+\s+bleiben|deinstalliert|cancel\w*|switch\w*|never\s+again"
    r"|verlassen|verabschiede)",
    re.IGNORECASE,
)
"""Leaving language (cancel, switch, competitors, "nie wieder", "nur noch bei ..."): a feature of the heads,
and what the weak non-churn training examples must not contain."""
_NEGATED = re.compile(r"\b(?:nicht|kein\w*|niemals)\s+(?:\w+\s+){0,2}$", re.IGNORECASE)


def churn_cue(text: str) -> bool:
    """Any leaving language in ``text`` (cancel, switch, competitors, "nie wieder", "nur noch bei ..."),
    not negated right before it."""
    return any(not _NEGATED.search(text[: match.start()]) for match in _CHURN_CUE.finditer(text))


def churn_phrase(text: str) -> bool:
    """A first-person churn phrase not negated right before it ("kündige nicht" still counts as negated
    by the flag file's exclusions; this catches "ich werde nicht kündigen")."""
    return any(not _NEGATED.search(text[: match.start()]) for match in _CHURN.finditer(text))


def extra_features(text: str, rule_hits: Mapping[str, object]) -> list[float]:
    """The non-embedding features of one post: rule hits in ``RULE_FEATURES`` order, '?', a link, and a
    strong churn phrase (the flag file's churn list also holds weak cues such as "bin raus"), and any
    leaving language (:func:`churn_cue`)."""
    return [1.0 if rule_hits.get(name) else 0.0 for name in RULE_FEATURES] + [
        1.0 if "?" in text else 0.0,
        1.0 if _LINK.search(text) else 0.0,
        1.0 if churn_phrase(text) else 0.0,
        1.0 if churn_cue(text) else 0.0,
    ]


def feature_matrix(
    embeddings: np.ndarray, texts: Sequence[str], rule_hits: Sequence[Mapping[str, object]]
) -> np.ndarray:
    """``(n, dim + EXTRA_FEATURES)`` features for the heads."""
    extra = np.array([extra_features(t, h) for t, h in zip(texts, rule_hits, strict=True)], dtype=np.float64)
    return np.hstack([np.asarray(embeddings, dtype=np.float64) * EMBED_SCALE, extra.reshape(len(texts), -1)])


@dataclass
class FlagModel:
    """The trained heads: ``weight`` ``(classes, features)``, ``bias`` and a decision threshold per class.

    ``layers``: the fine-tuned top encoder layer(s) of the flag branch under ``LAYER_PREFIX`` names
    (empty: the heads read the embedder's passage embedding); ``meta["first_layer"]`` is the index of the
    first of them and ``meta["embedder"]`` the version of the embedder whose lower layers they continue.
    """

    weight: np.ndarray
    bias: np.ndarray
    thresholds: np.ndarray
    classes: tuple[str, ...] = FLAG_CLASSES
    meta: dict[str, Any] = field(default_factory=dict)
    layers: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "unversioned"))

    @property
    def top_layers(self) -> int:
        """How many fine-tuned encoder layers the flag branch runs (0: heads on the passage embedding)."""
        return len({name.split(".")[1] for name in self.layers})

    @property
    def first_layer(self) -> int:
        return int(self.meta.get("first_layer", 0))

    def branch(self, base: FastBert) -> FastBert:
        """The flag branch as a :class:`~nlp.fast_bert.FastBert`: ``base``'s embeddings and layers
        ``0 .. first_layer-1`` (the same tensors, so a :class:`~nlp.trunk.SharedTrunk` runs them once), then
        the fine-tuned layers in ``base``'s dtype. Its mean pooling is what the heads read."""
        import copy

        first, top = self.first_layer, self.top_layers
        if top == 0:
            raise ModelLoadError("This flag model has no fine-tuned layers; its heads read the passage embedding.")
        if first + top != base.num_layers or int(self.weight.shape[1]) - EXTRA_FEATURES != base.hidden:
            raise ModelLoadError(
                f"The flag model continues layer {first} of a {first + top}-layer encoder with "
                f"{int(self.weight.shape[1]) - EXTRA_FEATURES} dimensions, the embedder has {base.num_layers} layers "
                f"of {base.hidden}; retrain it with scripts/train_flags.py."
            )
        fast = copy.copy(base)
        fast.layers = [*base.layers[:first], *(self._layer(i, base.dtype) for i in range(first, first + top))]
        fast.pooler = fast.classifier = None
        return fast

    def _layer(self, index: int, dtype: torch.dtype) -> LayerWeights:
        import torch

        from nlp.fast_bert import LayerWeights

        prefix = f"{LAYER_PREFIX}{index}."

        def t(name: str) -> torch.Tensor:
            return torch.from_numpy(self.layers[prefix + name].astype(np.float32))

        q_w, k_w, v_w = (t(f"attention.self.{n}.weight") for n in ("query", "key", "value"))
        out_w = t("attention.output.dense.weight")
        parts = {
            "qkv_w": torch.cat([q_w, k_w, v_w]),
            "q_b": t("attention.self.query.bias"),
            "out_w": out_w,
            "out_b": t("attention.output.dense.bias") + out_w @ t("attention.self.value.bias"),
            "ln1_w": t("attention.output.LayerNorm.weight"),
            "ln1_b": t("attention.output.LayerNorm.bias"),
            "up_w": t("intermediate.dense.weight"),
            "up_b": t("intermediate.dense.bias"),
            "down_w": t("output.dense.weight"),
            "down_b": t("output.dense.bias"),
            "ln2_w": t("output.LayerNorm.weight"),
            "ln2_b": t("output.LayerNorm.bias"),
        }
        return LayerWeights(**{k: v.to(dtype).contiguous() for k, v in parts.items()})

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """``(n, classes)`` probabilities."""
        z = np.asarray(features, dtype=np.float64) @ self.weight.T + self.bias
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -50, 50))), dtype=np.float64)

    def decide(self, probabilities: np.ndarray, features: np.ndarray | None = None) -> np.ndarray:
        """Boolean ``(n, classes)``: which flags fire.

        With ``features``, one rule is added on top of the heads: a complaint with a first-person churn
        phrase that is not negated ("... Nie wieder!", "kündige mein Abo") is churn even where the churn
        head hesitates. (Requiring leaving language for every churn verdict was measured too and
        dropped: cross-validated recall fell from 0.75 to 0.55; the weak non-churn complaints the
        churn head is trained with do that job - see ``scripts/train_flags.py``.)
        """
        fired = np.asarray(probabilities >= self.thresholds, dtype=bool)
        if features is not None and {"churn", "complaint"} <= set(self.classes):
            phrase = np.asarray(features)[:, -2] > 0
            churn, complaint = self.classes.index("churn"), self.classes.index("complaint")
            fired[:, churn] |= phrase & fired[:, complaint]
        return fired

    def save(self, path: Path) -> None:
        from safetensors.numpy import save_file

        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {"classes": json.dumps(list(self.classes)), "meta": json.dumps(self.meta, ensure_ascii=False)}
        tensors: dict[str, np.ndarray] = {
            "weight": self.weight.astype(np.float32),
            "bias": self.bias.astype(np.float32),
            "thresholds": self.thresholds.astype(np.float32),
            **{name: value.astype(np.float16) for name, value in self.layers.items()},
        }
        save_file(tensors, str(path), metadata=meta)

    @classmethod
    def load(cls, path: Path | None = None) -> FlagModel:
        """The heads at ``path`` (default: the bundled ``flags-de``)."""
        from safetensors import safe_open

        path = path or DEFAULT_FILE
        if not path.is_file():
            raise ModelLoadError(f"Flag model {path} not found; train one with scripts/train_flags.py.")
        try:
            with safe_open(str(path), framework="numpy") as fh:
                metadata = fh.metadata() or {}
                tensors = {k: fh.get_tensor(k) for k in ("weight", "bias", "thresholds")}
                layers = {k: fh.get_tensor(k) for k in fh.keys() if k.startswith(LAYER_PREFIX)}  # noqa: SIM118
        except Exception as exc:  # a corrupt or foreign file
            raise ModelLoadError(f"Cannot read the flag model {path}: {exc}") from exc
        classes = tuple(json.loads(metadata.get("classes", json.dumps(list(FLAG_CLASSES)))))
        model = cls(
            weight=tensors["weight"].astype(np.float64),
            bias=tensors["bias"].astype(np.float64),
            thresholds=tensors["thresholds"].astype(np.float64),
            classes=classes,
            meta=json.loads(metadata.get("meta", "{}")),
            layers=layers,
        )
        if model.weight.shape[0] != len(classes):
            raise ModelLoadError(f"Flag model {path}: {model.weight.shape[0]} heads for {len(classes)} classes.")
        if layers and len(layers) != LAYER_TENSORS * model.top_layers:
            raise ModelLoadError(
                f"Flag model {path}: incomplete fine-tuned layers ({len(layers)} tensors); retrain it with "
                "scripts/train_flags.py."
            )
        return model
