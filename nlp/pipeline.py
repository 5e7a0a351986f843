"""The one entry point for analysing texts: language, sentiment, topics and flags per text.

:class:`Analyzer` preprocesses the texts (:mod:`nlp.preprocess`), runs the transformers once per
text, and applies the topic and flag rules. With the default models the sentiment classifier,
the offensive-language classifier and the e5 embedder share their embeddings and lower layers,
so they run as one :class:`~nlp.trunk.SharedTrunk` pass (one fine-tuned layer each: 14 layer
passes instead of 36). Any other combination runs each model separately with the same results.
When the default models ship a lexical part (:mod:`nlp.hybrid`), their probabilities are mixed
with it and the version gets the lexical model's suffix. With ``aspects`` (the default) every topic
also gets its own polarity and evidence span (:mod:`nlp.aspects`; one extra sentiment call per batch,
only for posts with several topics).
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nlp.aspects import AspectResolver
from nlp.classifier import TransformerClassifier
from nlp.embedder import Embedder
from nlp.errors import ModelLoadError, NlpError
from nlp.fast_bert import FastBert
from nlp.flag_model import DEFAULT_FILE as DEFAULT_FLAG_MODEL
from nlp.flag_model import EXTRA_FEATURES, REASON, SEVERITY, FlagModel, feature_matrix
from nlp.flags import Flag, FlagRules, max_severity
from nlp.hybrid import LexicalMixer
from nlp.loading import DEFAULT
from nlp.offensive import DEFAULT_GATE, DeepOffensiveClassifier, OffensiveCascade, OffensiveClassifier
from nlp.pieces import piece_segments
from nlp.preprocess import Prepared, prepare
from nlp.runtime import trim_heap
from nlp.scorer import Scorer, SentimentResult, TransformerScorer
from nlp.topics import TopicMatch, TopicModel
from nlp.trunk import LOGITS, MAX_PIECES, MEAN, PIECES, SharedTrunk

log = logging.getLogger(__name__)

_PROBES = ("Die Lieferung kam zu spät 😡 #fail", "passage: Großartig, danke! https://example.de @user")


@dataclass(frozen=True)
class Analysis:
    text: str
    language: str | None
    sentiment: SentimentResult
    topics: list[TopicMatch] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    p_offensive: float | None = None
    embedding: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        return self.sentiment.label

    @property
    def severity(self) -> int:
        return max_severity(self.flags)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: label, the three probabilities, language, topics, flags (and p_offensive if computed)."""
        out: dict[str, Any] = {"language": self.language, **self.sentiment.as_dict()}
        if self.p_offensive is not None:
            out["p_offensive"] = round(self.p_offensive, 6)
        out["topics"] = [t.as_dict() for t in self.topics]
        out["flags"] = [f.as_dict() for f in self.flags]
        return out


class _EmbeddingMemo:
    """Passage embeddings within one :meth:`Analyzer.analyse_prepared` call, by text: a text is embedded once,
    however often it recurs (a clause the aspects embedded is not embedded again as a flag's evidence sentence,
    a sentence that several posts share once), and the posts' own embeddings from the model pass are reused.
    Holds one batch's vectors only."""

    def __init__(self, embed: Callable[[Sequence[str]], np.ndarray]) -> None:
        self.embed = embed
        self.vectors: dict[str, np.ndarray] = {}

    def seed(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        for text, vector in zip(texts, vectors, strict=True):
            self.vectors.setdefault(text, vector)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self.embed(missing), strict=True))
        if not texts:
            return self.embed([])
        return np.stack([self.vectors[t] for t in texts])


def _same_tokenizer(a: Any, b: Any) -> bool:
    if type(a) is not type(b) or len(a) != len(b) or a.pad_token_id != b.pad_token_id:
        return False
    return all(a(p)["input_ids"] == b(p)["input_ids"] for p in _PROBES)


class Analyzer:
    """Language, sentiment, topics and flags for texts (see the module docstring).

    ``scorer``: any :class:`~nlp.scorer.Scorer` (default: the bundled model). ``offensive`` and
    ``embedder``: None to skip offensive-language flags / embedding-based topic recall.
    ``topics``/``flags``: rule sets (default: the packaged TOML files). ``aspects``: give each topic its
    own polarity (:mod:`nlp.aspects`). ``flag_model``: the classifier heads for churn, complaint,
    offensive, spam and question flags (:mod:`nlp.flag_model`; they need the embedder); None keeps the
    keyword rules and the offensive threshold alone. ``offensive_cascade``: a second offensive model for the
    posts the shared-trunk head gives at least its gate (:class:`~nlp.offensive.OffensiveCascade`; it replaces
    the offensive model's lexical part).
    """

    def __init__(
        self,
        scorer: Scorer | None = None,
        *,
        offensive: OffensiveClassifier | None = None,
        embedder: Embedder | None = None,
        topics: TopicModel | None = None,
        flags: FlagRules | None = None,
        detect_language: bool = True,
        share_trunk: bool = True,
        keep_embeddings: bool = False,
        aspects: bool = True,
        flag_model: FlagModel | None = None,
        offensive_cascade: OffensiveCascade | None = None,
    ) -> None:
        self.scorer: Scorer = scorer if scorer is not None else TransformerScorer()
        self.offensive_cascade = offensive_cascade if offensive is not None else None
        self.flag_model = flag_model
        self.offensive = offensive
        self.embedder = embedder
        self.topics = topics if topics is not None else TopicModel.load()
        self.flags = flags if flags is not None else FlagRules.load()
        self.detect_language = detect_language
        self.share_trunk = share_trunk
        self.keep_embeddings = keep_embeddings
        self.aspects = aspects
        self._lock = threading.Lock()
        self._ready = False
        self._trunk: SharedTrunk | None = None
        self._flag_branch: FastBert | None = None
        # default and trained models (nlp.hybrid); with a cascade, its second model reads offensive language instead
        self._lexical = LexicalMixer.for_models(self.scorer, offensive if self.offensive_cascade is None else None)

    @classmethod
    def create(
        cls,
        sentiment_model: str | Path = DEFAULT,
        *,
        offensive_model: str | Path | None = DEFAULT,
        embedding_model: str | Path | None = DEFAULT,
        topics_file: Path | None = None,
        flags_file: Path | None = None,
        label_map: Mapping[str, str] | None = None,
        detect_language: bool = True,
        share_trunk: bool = True,
        aspects: bool = True,
        flag_model: Path | None = DEFAULT_FLAG_MODEL,
        offensive_second_model: str | Path | None = DEFAULT,
        offensive_gate: float = DEFAULT_GATE,
        **model_options: Any,
    ) -> Analyzer:
        """Build from model specs; ``model_options`` (batch_tokens, max_length, workers, precision, cache_dir,
        progress) go to every model. ``offensive_second_model``: the offensive cascade's second model (None: the
        offensive model alone, with its lexical part)."""
        cascade = (
            OffensiveCascade(DeepOffensiveClassifier(offensive_second_model, **model_options), offensive_gate)
            if offensive_model and offensive_second_model
            else None
        )
        return cls(
            TransformerScorer(sentiment_model, label_map=label_map, **model_options),
            offensive=OffensiveClassifier(offensive_model, **model_options) if offensive_model else None,
            embedder=Embedder(embedding_model, **model_options) if embedding_model else None,
            topics=TopicModel.load(topics_file),
            flags=FlagRules.load(flags_file),
            detect_language=detect_language,
            share_trunk=share_trunk,
            aspects=aspects,
            flag_model=FlagModel.load(flag_model) if flag_model is not None and embedding_model else None,
            offensive_cascade=cascade,
        )

    @property
    def name(self) -> str:
        return self.scorer.name

    @property
    def version(self) -> str:
        self.load()
        version = self.scorer.version + (self._lexical.version_suffix if self._lexical is not None else "")
        if self.flag_model is not None and self.embedder is not None:
            version += f"+flags-{self.flag_model.version}"
        if self.offensive_cascade is not None:
            version += f"+offc-{self.offensive_cascade.version[:8]}"
        return version

    @property
    def trunk(self) -> SharedTrunk | None:
        """The shared-trunk runner in use (None: models run separately)."""
        self.load()
        return self._trunk

    def load(self) -> None:
        """Load every model now; an optional model that cannot be provided is dropped with a warning."""
        with self._lock:
            if self._ready:
                return
            if isinstance(self.scorer, TransformerClassifier):
                self.scorer.load()
            if self.offensive is not None:
                try:
                    self.offensive.load()
                except NlpError as exc:
                    log.warning("offensive-language flags are off: %s", exc)
                    self.offensive = None
            self._load_cascade()
            if self.embedder is not None:
                try:
                    self.embedder.load()
                    self.topics.prepare_embeddings(self.embedder)
                except NlpError as exc:
                    log.warning("topics use keywords only (no embeddings): %s", exc)
                    self.embedder = None
            self._check_flag_model()
            self._trunk = self._plan_trunk() if self.share_trunk else None
            if self._lexical is not None and self.offensive is None:
                self._lexical.offensive = None
            gc.collect()  # what loading left behind (parsed files, conversion buffers) goes back to the OS
            trim_heap()
            self._ready = True

    def _load_cascade(self) -> None:
        """Load the offensive cascade's second model; without it, the offensive model alone (with its lexical part)."""
        cascade = self.offensive_cascade
        if cascade is None:
            return
        if self.offensive is None:
            self.offensive_cascade = None
            return
        try:
            cascade.load()
        except NlpError as exc:
            log.warning("the offensive cascade is off (the offensive model reads every post alone): %s", exc)
            self.offensive_cascade = None
            self._lexical = LexicalMixer.for_models(self.scorer, self.offensive)

    def _check_flag_model(self) -> None:
        """Drop the flag heads (keyword flags only) when they cannot read this embedder's vectors; build the
        flag branch of a flag model with fine-tuned layers on the embedder's lower layers."""
        if self.flag_model is None:
            return
        if self.embedder is None:
            log.warning("flag classifiers are off: they need the embedding model; keyword flags only")
            self.flag_model = None
            return
        if self.flag_model.top_layers:
            trained_on, fast = self.flag_model.meta.get("embedder"), self.embedder.fast_model
            try:
                if fast is None or trained_on != self.embedder.version:
                    raise ModelLoadError(
                        f"its fine-tuned layers continue the embedder {trained_on}, this one is "
                        f"{self.embedder.version}{'' if fast is not None else ' (not a BERT encoder)'}; retrain "
                        "them with scripts/train_flags.py"
                    )
                self._flag_branch = self.flag_model.branch(fast)
            except ModelLoadError as exc:
                log.warning("flag classifiers are off: %s; keyword flags only", exc)
                self.flag_model = None
            return
        dim = int(self.embedder.embed_passages(["passage"]).shape[1])
        expected = self.flag_model.weight.shape[1] - EXTRA_FEATURES
        if dim != expected:
            log.warning(
                "flag classifiers are off: trained on %d-dimensional embeddings, this embedding model gives %d "
                "(retrain them with scripts/train_flags.py); keyword flags only",
                expected,
                dim,
            )
            self.flag_model = None

    def _plan_trunk(self) -> SharedTrunk | None:
        scorer = self.scorer
        if not isinstance(scorer, TransformerClassifier) or scorer.fast_model is None:
            return None
        if self.offensive is None and self.embedder is None:
            return None
        models = {"sentiment": scorer.fast_model}
        kinds = {"sentiment": LOGITS}
        if self.offensive is not None:
            if self.offensive.fast_model is None or self.offensive.prefix != scorer.prefix:
                return None
            if not _same_tokenizer(self.offensive.tokenizer, scorer.tokenizer):
                return None
            models["offensive"], kinds["offensive"] = self.offensive.fast_model, LOGITS
        if self.embedder is not None:
            fast = self.embedder.fast_model
            if fast is None or self.embedder.passage_prefix != scorer.prefix:
                return None
            if not _same_tokenizer(self.embedder.runner.tokenizer, scorer.tokenizer):
                return None
            models["embedding"], kinds["embedding"] = fast, MEAN
            if self._flag_branch is not None:  # the flag branch shares the embedder's lower layers
                models["flags"], kinds["flags"] = self._flag_branch, MEAN
                models["flag_pieces"], kinds["flag_pieces"] = self._flag_branch, PIECES  # evidence (nlp.pieces)
        trunk = SharedTrunk(models, kinds)
        if trunk.layer_passes == trunk.num_layers * len(models):
            log.info("the models share no layers; running them separately")
            return None
        log.info("one shared pass: %s", "; ".join(trunk.describe()))
        return trunk

    def _transform(
        self, prepared: Sequence[Prepared]
    ) -> tuple[list[SentimentResult], np.ndarray | None, np.ndarray | None, np.ndarray | None, dict[int, np.ndarray]]:
        """Sentiment, p_offensive, passage embeddings, flag-branch vectors (None: no branch) and, by post, the flag
        branch's vectors of its pieces where the shared pass pooled them (:mod:`nlp.pieces`)."""
        texts = [p.model_text for p in prepared]
        scorer, trunk = self.scorer, self._trunk
        if trunk is not None and isinstance(scorer, TransformerScorer):
            runner = scorer.runner
            ids = runner.encode(scorer.model_inputs(texts))
            segments, aligned = (
                piece_segments(runner.tokenizer, scorer.prefix, prepared, ids, MAX_PIECES)
                if trunk.wants_segments
                else (None, set())
            )
            outputs = dict(zip(trunk.names, runner.run_ids(ids, trunk, segments), strict=True))
            sentiment = scorer.results(outputs["sentiment"])
            p_off = self.offensive.probabilities(outputs["offensive"]) if self.offensive is not None else None
            flag_vectors = outputs.get("flags")
            if flag_vectors is None and self._flag_branch is not None:
                flag_vectors = self._flag_vectors(texts)
            pooled = outputs.get("flag_pieces")
            pieces = {i: pooled[i, : len(prepared[i].pieces)] for i in aligned} if pooled is not None else {}
            return sentiment, self._refine_offensive(texts, p_off), outputs.get("embedding"), flag_vectors, pieces
        sentiment = scorer.score(texts)
        p_off = self._refine_offensive(texts, self.offensive.p_offensive(texts) if self.offensive is not None else None)
        embeddings = self.embedder.embed_passages(texts) if self.embedder is not None else None
        flag_vectors = self._flag_vectors(texts) if self._flag_branch is not None else None
        return sentiment, p_off, embeddings, flag_vectors, {}

    def _refine_offensive(self, texts: Sequence[str], p_off: np.ndarray | None) -> np.ndarray | None:
        cascade = self.offensive_cascade
        return cascade.refine(texts, p_off) if cascade is not None and p_off is not None else p_off

    def _flag_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """The flag branch alone (all its layers) over ``texts``: outside the shared trunk, and for evidence."""
        branch, embedder = self._flag_branch, self.embedder
        if branch is None or embedder is None:
            raise NlpError("the flag model has no fine-tuned layers")
        if not texts:
            return np.zeros((0, branch.hidden), dtype=np.float32)
        (out,) = embedder.runner.run([embedder.passage_prefix + t for t in texts], branch.embed_texts)
        return out

    def analyse_prepared(self, prepared: Sequence[Prepared]) -> list[Analysis]:
        self.load()
        if not prepared:
            return []
        model_texts = [p.model_text for p in prepared]
        sentiment, p_off, embeddings, flag_vectors, piece_vectors = self._transform(prepared)
        if self._lexical is not None:  # the lexical part sees the original texts (as in its training data)
            sentiment, p_off = self._lexical.apply([p.text for p in prepared], sentiment, p_off)
        memo = _EmbeddingMemo(self.embedder.embed_passages) if self.embedder is not None else None
        if memo is not None and embeddings is not None:
            memo.seed(model_texts, embeddings)
        topics = self._topics(prepared, embeddings)
        if self.aspects:
            topics = AspectResolver(self.topics, self._score_spans, self._embed_clauses(memo)).resolve(
                prepared, topics, sentiment
            )
        model_flags = self._model_flags(
            prepared, embeddings if flag_vectors is None else flag_vectors, memo, piece_vectors
        )
        out: list[Analysis] = []
        for i, post in enumerate(prepared):
            p_offensive = float(p_off[i]) if p_off is not None else None
            out.append(
                Analysis(
                    text=post.text,
                    language=post.language,
                    sentiment=sentiment[i],
                    topics=topics[i],
                    flags=self.flags.evaluate(
                        post, sentiment[i].p_negative, p_offensive, model_flags[i] if model_flags else None
                    ),
                    p_offensive=p_offensive,
                    embedding=embeddings[i] if embeddings is not None and self.keep_embeddings else None,
                )
            )
        return out

    def _model_flags(
        self,
        prepared: Sequence[Prepared],
        embeddings: np.ndarray | None,
        memo: _EmbeddingMemo | None = None,
        piece_vectors: Mapping[int, np.ndarray] | None = None,
    ) -> list[list[Flag]] | None:
        """The classifier heads' flags per post, each with the piece (sentence, or line) that carries it as evidence.
        ``embeddings``: what the heads read (the flag branch's vectors where the flag model has fine-tuned layers);
        ``piece_vectors``: by post, the same vectors of its pieces pooled in the post's own pass (others: a pass
        over each piece)."""
        model, embedder = self.flag_model, self.embedder
        if model is None or embedder is None or embeddings is None:
            return None
        embed: Callable[[Sequence[str]], np.ndarray] = memo if memo is not None else embedder.embed_passages
        if self._flag_branch is not None:
            embed = self._flag_vectors
        pooled = piece_vectors or {}
        texts = [p.text for p in prepared]
        hits = [self.flags.rule_hits(p) for p in prepared]
        features = feature_matrix(embeddings, texts, hits)
        probs = model.probabilities(features)
        fired = model.decide(probs, features)
        # evidence: of a post with several pieces, the piece the fired head rates highest
        multi = [i for i in range(len(texts)) if fired[i].any() and len(prepared[i].pieces) > 1]
        rows = [(i, k) for i in multi if i in pooled for k in range(len(prepared[i].pieces))]
        todo = [(i, k) for i in multi if i not in pooled for k in range(len(prepared[i].pieces))]
        parts = [np.stack([pooled[i][k] for i, k in rows])] if rows else []
        if todo:
            parts.append(np.asarray(embed([prepared[i].model_pieces[k] for i, k in todo])))
        rows += todo
        best: dict[tuple[int, int], tuple[float, str]] = {}
        if rows:
            piece_probs = model.probabilities(
                feature_matrix(
                    np.concatenate(parts), [prepared[i].pieces[k] for i, k in rows], [hits[i] for i, _ in rows]
                )
            )
            for (i, k), row in zip(rows, piece_probs, strict=True):
                piece = prepared[i].pieces[k]
                for c in np.flatnonzero(fired[i]):
                    if (i, int(c)) not in best or row[c] > best[(i, int(c))][0]:
                        best[(i, int(c))] = (float(row[c]), piece)
        out: list[list[Flag]] = []
        for i in range(len(texts)):
            flags = []
            for c in np.flatnonzero(fired[i]):
                k = int(c)
                name = model.classes[k]
                sentence = best.get((i, k), (0.0, texts[i]))[1]
                rule_evidence = hits[i].get("abusive_words" if name == "offensive" else name, [])
                evidence = [sentence[:200], *rule_evidence[:3], f"Modell p={probs[i, k]:.2f}"]
                flags.append(Flag(name, SEVERITY.get(name, 1), REASON.get(name, name), evidence))
            out.append(flags)
        return out

    def _topics(self, prepared: Sequence[Prepared], embeddings: np.ndarray | None) -> list[list[TopicMatch]]:
        model = self.topics
        sims = model.similarities(embeddings) if embeddings is not None and model.has_embeddings else None
        examples = model.example_probabilities(embeddings) if embeddings is not None and model.has_examples else None
        return [
            model.match(post, sims[i] if sims is not None else None, examples[i] if examples is not None else None)
            for i, post in enumerate(prepared)
        ]

    def _score_spans(self, spans: Sequence[Prepared]) -> list[SentimentResult]:
        """Sentiment of topic spans: the same scorer (and lexical part) as the posts, one call."""
        results = self.scorer.score([p.model_text for p in spans])
        if self._lexical is not None:
            results = self._lexical.mix_sentiment([p.text for p in spans], results)
        return results

    def _embed_clauses(self, memo: _EmbeddingMemo | None = None) -> Callable[[Sequence[str]], np.ndarray] | None:
        embedder = self.embedder
        if embedder is None or not (self.topics.has_embeddings or self.topics.has_examples):
            return None
        return memo if memo is not None else embedder.embed_passages

    def analyse(
        self, texts: Sequence[str], languages: Sequence[str | None] | None = None, *, detect: bool = True
    ) -> list[Analysis]:
        """One :class:`Analysis` per text, in input order. ``languages``: those already known (parallel to
        ``texts``, e.g. stored with the posts); only the others are detected. ``detect=False``: ``languages`` is
        final, None stays undetermined (detected beforehand with :func:`nlp.language.detect_languages`, as
        :mod:`resonanz.pipeline.scoring` does for a window of posts)."""
        return self.analyse_prepared(
            prepare(list(texts), detect_language=self.detect_language and detect, languages=languages)
        )

    def score(self, texts: Sequence[str]) -> list[SentimentResult]:
        """Sentiment only (the :class:`~nlp.scorer.Scorer` interface)."""
        return [a.sentiment for a in self.analyse(texts)]
