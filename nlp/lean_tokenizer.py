"""The e5 (XLM-R) tokenizer with its 250,002-piece Unigram model run by SentencePiece: ~280 MB less memory.

Why: 🤗 tokenizers keeps a Unigram vocabulary as a character trie of hash maps; for XLM-R's 250,002 pieces
that is about 280 MB of memory (measured: 171 -> 451 MB anonymous memory for ``Tokenizer.from_file`` alone), the
largest single item of a scoring process after the weights. SentencePiece, which the vocabulary was trained
with, keeps the same pieces and scores in a double-array trie of a few MB and computes the same Viterbi
segmentation.

How the ids stay the same: everything around the model is still 🤗 tokenizers' own code, taken from the
tokenizer transformers built (:func:`convert`): its normalizer (the precompiled NFKC character map) and
pre-tokenizer (split at whitespace, ``▁`` before every word) run on each text, and special tokens written in
a text (``<mask>``) are split off first, as 🤗 does. SentencePiece then segments the words, joined without
spaces: no piece of this vocabulary has a ``▁`` after its first character, so the best segmentation of the
joined words is the best segmentation of each word. Truncation keeps the first ``max_length - 2`` pieces, then
``<s>`` and ``</s>`` are added (the template of the 🤗 tokenizer). A vocabulary with pieces that do have an inner
``▁`` is not converted.

Ties: 🤗 adds the piece scores of a segmentation up in float64, SentencePiece in float32. Where two splits of a
word score exactly the same (``,0,0,0``: ``,`` ``0`` ``,`` ``0,0`` or ``,`` ``0,0`` ``,`` ``0``), the two may pick
different ones: 76 of 262,308 texts x lengths compared (every line of the training data, the demo, 30,000 random
strings), each an equally scoring split of the same characters. On 2,000 benchmark posts every score was identical.

Trade-off: the conversion is written once to the model cache (``lean-tokenizer/``, under 6 MB) and is used
only when it gives the 🤗 tokenizer's ids on :data:`PROBES` at conversion time (anything else: the 🤗 tokenizer,
with a warning); ``tests/nlp/test_lean_tokenizer.py`` compares the two on thousands of posts and random strings.
Only what scoring calls is offered: ``__call__`` (ids, special tokens, truncation), ``__len__`` and the special
token ids. Training (``nlp.training``) keeps the 🤗 tokenizer.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FORMAT = 1
"""Version of the files :func:`convert` writes (a new one converts again)."""
MODEL_FILE, PIPELINE_FILE = "sentencepiece.model", "pipeline.json"
_UNIGRAM, _NORMAL, _UNKNOWN, _CONTROL = 1, 1, 2, 3
PROBES = (
    "passage: Die Lieferung kam zu spät 😡 #fail @user https://example.de",
    "passage:   Großartig,\n\ndanke!!!  ",
    " führende  Leerzeichen\tund Tabs\u3000und\u00a0feste ",
    "ﬁnde 𝔉𝔬𝔬 Ⅻ ½ ＡＢＣ ｶﾀｶﾅ \u200b\u200d x<mask>y </s> <s><unk><pad>",
    "Straße, Übermaß, ÄÖÜäöüß — „Zitat“ … €100,-",
    "😡😡😡 🙄🙄 👍🏽 🇩🇪 ❤️‍🔥 \U0001fae0",
    "汉字 한국어 العربية עברית हिन्दी ไทย Ελληνικά русский",
    "\x00\x07 \ufffd \U000e0041",
)


def _specials(data: dict[str, Any]) -> dict[str, int]:
    return {str(t["content"]): int(t["id"]) for t in data.get("added_tokens", []) if t.get("special")}


def _backend_json(tokenizer: Any) -> dict[str, Any] | None:
    """The serialised 🤗 fast tokenizer behind ``tokenizer`` (None: not a fast tokenizer)."""
    backend = getattr(tokenizer, "_tokenizer", None) or getattr(tokenizer, "backend_tokenizer", None)
    return None if backend is None else dict(json.loads(backend.to_str()))


def applies(tokenizer: Any) -> bool:
    """Whether ``tokenizer`` is a 🤗 fast tokenizer of the shape this module reproduces (a Unigram model without
    byte fallback, special tokens only as added tokens, ``<s> $A </s>``)."""
    data = _backend_json(tokenizer)
    return data is not None and _applies(data)


def _applies(data: dict[str, Any]) -> bool:
    model, post = data.get("model") or {}, data.get("post_processor") or {}
    single = [next(iter(x.values())).get("id") for x in post.get("single", [])]
    added = data.get("added_tokens", [])
    return (
        model.get("type") == "Unigram"
        and not model.get("byte_fallback")
        and post.get("type") == "TemplateProcessing"
        and single == ["<s>", "A", "</s>"]
        and all(t.get("special") and not t.get("lstrip") and not t.get("rstrip") for t in added)
        and {"<s>", "</s>", "<pad>", "<unk>"} <= set(_specials(data))
    )


def convert(tokenizer: Any, directory: Path) -> LeanTokenizer | None:
    """Write ``tokenizer``'s vocabulary as a SentencePiece model and its normalizer and pre-tokenizer to
    ``directory``; the lean tokenizer when it gives ``tokenizer``'s ids on :data:`PROBES`, else None."""
    from sentencepiece import sentencepiece_model_pb2 as pb

    data = _backend_json(tokenizer)  # the whole vocabulary as JSON (~17 MB): parsed once
    if data is None or not _applies(data):
        return None
    specials = _specials(data)
    if any("\u2581" in piece[1:] for piece, _ in data["model"]["vocab"]):
        return None  # a piece across words: joining the words would let SentencePiece use it
    proto = pb.ModelProto()  # type: ignore[attr-defined]
    for i, (piece, score) in enumerate(data["model"]["vocab"]):
        entry = proto.pieces.add()
        entry.piece, entry.score = piece, float(score)
        if i == int(data["model"]["unk_id"]):
            entry.type = _UNKNOWN
        elif piece in specials and specials[piece] == i:
            entry.type = _CONTROL
        else:
            entry.type = _NORMAL
    spec = proto.trainer_spec
    spec.model_type = _UNIGRAM
    spec.vocab_size = len(proto.pieces)
    spec.unk_id, spec.bos_id, spec.eos_id, spec.pad_id = (
        int(data["model"]["unk_id"]), specials["<s>"], specials["</s>"], specials["<pad>"],
    )  # fmt: skip
    norm = proto.normalizer_spec  # the words arrive normalised, ▁-prefixed and without spaces
    norm.name, norm.add_dummy_prefix, norm.remove_extra_whitespaces, norm.escape_whitespaces = (
        "identity", False, False, False,
    )  # fmt: skip
    pipeline = {
        "format": FORMAT,
        "normalizer": data.get("normalizer"),
        "pre_tokenizer": data.get("pre_tokenizer"),
        "specials": specials,
        "size": len(tokenizer),
    }
    model = proto.SerializeToString()
    lean = LeanTokenizer(model, pipeline)
    for probe in PROBES:
        for max_length in (512, 8):
            want = tokenizer([probe], add_special_tokens=True, truncation=True, max_length=max_length)["input_ids"]
            if [list(x) for x in want] != lean([probe], truncation=True, max_length=max_length)["input_ids"]:
                log.warning("the lean tokenizer differs from the 🤗 tokenizer on %r; the 🤗 tokenizer is used", probe)
                return None
    directory.mkdir(parents=True, exist_ok=True)
    _write_atomic(directory / MODEL_FILE, model)
    _write_atomic(directory / PIPELINE_FILE, json.dumps(pipeline).encode())  # last: it marks a complete conversion
    return lean


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` under a temporary name and rename it: another process sees the whole file or none."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class LeanTokenizer:
    """What scoring needs of a tokenizer (see the module docstring); build it with :func:`convert`."""

    def __init__(self, model: bytes, pipeline: dict[str, Any]) -> None:
        import sentencepiece
        from tokenizers import Tokenizer

        self._sp = sentencepiece.SentencePieceProcessor(model_proto=model)
        # a tokenizer with a one-word model: only its normalizer and pre-tokenizer are used
        frame = {
            "version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
            "normalizer": pipeline["normalizer"], "pre_tokenizer": pipeline["pre_tokenizer"],
            "post_processor": None, "decoder": None,
            "model": {"type": "WordLevel", "vocab": {"<unk>": 0}, "unk_token": "<unk>"},
        }  # fmt: skip
        self._frame = Tokenizer.from_str(json.dumps(frame))
        self._normalizer, self._pre = self._frame.normalizer, self._frame.pre_tokenizer  # looked up once, not per text
        self.special_ids: dict[str, int] = {str(k): int(v) for k, v in pipeline["specials"].items()}
        self._split = re.compile("(" + "|".join(re.escape(s) for s in sorted(self.special_ids, key=len)[::-1]) + ")")
        self._size = int(pipeline["size"])
        self.bos_token_id = self.special_ids["<s>"]
        self.eos_token_id = self.special_ids["</s>"]
        self.pad_token_id = self.special_ids["<pad>"]
        self.unk_token_id = self.special_ids["<unk>"]

    @classmethod
    def load(cls, directory: Path) -> LeanTokenizer:
        """The conversion :func:`convert` wrote to ``directory`` (OSError: none there, ValueError: another format)."""
        pipeline = json.loads((directory / PIPELINE_FILE).read_text(encoding="utf-8"))
        if pipeline.get("format") != FORMAT:
            raise ValueError(f"{directory / PIPELINE_FILE}: format {pipeline.get('format')}, expected {FORMAT}")
        return cls((directory / MODEL_FILE).read_bytes(), pipeline)

    def __len__(self) -> int:
        return self._size

    def _words(self, segment: str) -> str:
        normalizer, pre = self._normalizer, self._pre
        text = normalizer.normalize_str(segment) if normalizer is not None else segment
        if pre is None:
            return text
        return "".join(word for word, _ in pre.pre_tokenize_str(text))

    def encode(self, text: str) -> list[int]:
        """The ids of ``text`` without ``<s>``/``</s>``."""
        ids: list[int] = []
        for i, segment in enumerate(self._split.split(text)):
            if i % 2:
                ids.append(self.special_ids[segment])
            elif segment:
                joined = self._words(segment)
                if joined:
                    ids.extend(self._sp.encode(joined))
        return ids

    def __call__(
        self,
        texts: str | Sequence[str],
        *,
        add_special_tokens: bool = True,
        truncation: bool = False,
        max_length: int | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        """``{"input_ids": ...}`` as the 🤗 tokenizer gives it (one list for a string, a list of lists else)."""
        single = isinstance(texts, str)
        out: list[list[int]] = []
        for text in [texts] if isinstance(texts, str) else texts:
            ids = self.encode(text)
            if truncation and max_length is not None:
                ids = ids[: max(0, max_length - (2 if add_special_tokens else 0))]
            out.append([self.bos_token_id, *ids, self.eos_token_id] if add_special_tokens else ids)
        return {"input_ids": out[0] if single else out}
