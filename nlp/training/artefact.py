"""The trained-weights artefact: one fp16 ``.safetensors`` file with the top layers, pooler and head.

Tensor names are ``BertForSequenceClassification`` names; the safetensors metadata key ``resonanz``
holds JSON (:class:`ArtefactMeta`). :func:`overlay_artefact` turns base model + artefact into a
directory that ``AutoModelForSequenceClassification.from_pretrained`` loads.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nlp.errors import ModelFileError
from nlp.lexical import LEXICAL_FILENAME, lexical_path_for

if TYPE_CHECKING:  # reading an artefact's metadata needs no torch (``resonanz ask`` reads the training prior)
    import torch

    from nlp.training.model import TopModel

FORMAT_VERSION = 1
META_KEY = "resonanz"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


@dataclass
class ArtefactMeta:
    task: str
    labels: list[str]
    base_sha256: str
    n_top: int
    max_length: int
    prefix: str = "passage: "
    lora_scale: float = 0.0
    """> 0: the file holds LoRA factors ``X.lora_A``/``X.lora_B`` merged as ``W + lora_scale * B A``."""
    format_version: int = FORMAT_VERSION
    calibration: dict[str, Any] = field(default_factory=dict)
    """``temperature`` (logits are divided by it) and ``train_prior`` (the label prior the model was trained
    under, for the prior adjustment of :mod:`nlp.calibration`); empty: T = 1, no prior known."""
    metrics: dict[str, Any] = field(default_factory=dict)
    train_config: dict[str, Any] = field(default_factory=dict)
    data: list[str] = field(default_factory=list)
    created: str = ""


def save_artefact(path: Path, model: TopModel, meta: ArtefactMeta) -> Path:
    """Write ``model``'s trainable part as fp16 safetensors with ``meta`` (atomically)."""
    import torch
    from safetensors.torch import save_file

    trainable_only = meta.lora_scale > 0  # frozen base matrices come from the base model again
    state = model.hf_state_dict(trainable_only=trainable_only)
    tensors = {k: v.detach().to(torch.float16).contiguous() for k, v in state.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata={META_KEY: json.dumps(asdict(meta), sort_keys=True)})
    tmp.replace(path)
    return path


def update_artefact_meta(path: Path, **changes: Any) -> ArtefactMeta:
    """Rewrite the metadata of an artefact (e.g. its ``calibration``) and keep its tensors; atomically."""
    from safetensors.torch import load_file, save_file

    meta = read_artefact_meta(path)
    for key, value in changes.items():
        if not hasattr(meta, key):
            raise ValueError(f"ArtefactMeta has no field {key!r}")
        setattr(meta, key, value)
    tensors = load_file(str(path))
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata={META_KEY: json.dumps(asdict(meta), sort_keys=True)})
    tmp.replace(path)
    return meta


def read_artefact_meta(path: Path) -> ArtefactMeta:
    """The artefact's metadata, from the safetensors header alone (plain JSON: no torch, no tensor is read)."""
    from nlp.loading import safetensors_header

    try:
        _, header = safetensors_header(path)
        metadata = header.get("__metadata__") or {}
        if not isinstance(metadata, dict):
            raise ValueError("__metadata__ is not a JSON object")
        raw = metadata.get(META_KEY)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{path}: not a readable safetensors file ({exc}). Retrain or reinstall.") from exc
    if raw is None:
        raise ModelFileError(f"{path}: no '{META_KEY}' metadata; this is not a resonanz model artefact.")
    data = json.loads(raw)
    if data.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: artefact format {data.get('format_version')} is not supported ({FORMAT_VERSION})."
        )
    return ArtefactMeta(**data)


def artefact_version(path: Path) -> str:
    """Short content hash, stored as ``resonanz_model_version``."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def load_artefact_tensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return {k: v.float() for k, v in load_file(str(path)).items()}


def overlay_artefact(base_dir: Path, weights: Path, out_dir: Path) -> Path:
    """Write a ``BertForSequenceClassification`` directory: base weights, then the artefact's on top."""
    from safetensors.torch import load_file, save_file

    meta = read_artefact_meta(weights)
    config = json.loads((base_dir / "config.json").read_text(encoding="utf-8"))
    tensors = {f"bert.{k}": v for k, v in load_file(str(base_dir / "model.safetensors")).items()}
    overlay = load_artefact_tensors(weights)
    lora = {k: v for k, v in overlay.items() if k.endswith((".lora_A", ".lora_B"))}
    if lora:
        from nlp.training.lora import merge_lora

        stems = {k.rsplit(".", 1)[0] for k in lora}
        frozen = {f"{s}.weight": tensors[f"{s}.weight"] for s in stems if f"{s}.weight" in tensors}
        merged = merge_lora({**lora, **frozen}, meta.lora_scale)
        overlay = {**{k: v for k, v in overlay.items() if k not in lora}, **merged}
    unknown = sorted(set(overlay) - set(tensors) - {"classifier.weight", "classifier.bias"})
    if unknown or "classifier.weight" not in overlay:
        raise ModelFileError(f"{weights}: tensors do not fit the base model (unexpected: {unknown[:3]}).")
    for key, value in overlay.items():
        if key in tensors and tensors[key].shape != value.shape:
            raise ModelFileError(
                f"{weights}: tensor {key} has shape {tuple(value.shape)}, base has {tuple(tensors[key].shape)}."
            )
        tensors[key] = value
    config.update(
        architectures=["BertForSequenceClassification"],
        id2label={str(i): label for i, label in enumerate(meta.labels)},
        label2id={label: i for i, label in enumerate(meta.labels)},
        problem_type="single_label_classification",
        resonanz_model_version=artefact_version(weights),
        resonanz_task=meta.task,
        resonanz_prefix=meta.prefix,
        resonanz_max_length=meta.max_length,
        resonanz_temperature=float(meta.calibration.get("temperature", 1.0)),
        resonanz_train_prior=meta.calibration.get("train_prior"),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True), encoding="utf-8")
    save_file(
        {k: v.contiguous() for k, v in tensors.items()}, str(out_dir / "model.safetensors"), metadata={"format": "pt"}
    )
    for name in TOKENIZER_FILES:
        shutil.copyfile(base_dir / name, out_dir / name)
    lexical = lexical_path_for(weights)
    if lexical.is_file():  # the hybrid's lexical part travels with the model directory (nlp.hybrid)
        shutil.copyfile(lexical, out_dir / LEXICAL_FILENAME)
    return out_dir
