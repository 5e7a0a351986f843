"""Average two all-layer LoRA sentiment artefacts of the same recipe ("model soup"), kept at the same rank.

    .venv/bin/python scripts/soup_sentiment.py A.safetensors B.safetensors --out soup.safetensors

Per adapted matrix the merged update is ``(B1 A1 + B2 A2) / 2``, truncated back to the LoRA rank by SVD
(so the file stays the same size); biases, LayerNorms, pooler and head are averaged. Both artefacts must
come from the same base model and LoRA scale. Fit the temperature afterwards
(``scripts/train_general_sentiment.py --calibrate-only``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from nlp.training.artefact import META_KEY, read_artefact_meta


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("first", type=Path)
    ap.add_argument("second", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    meta1, meta2 = read_artefact_meta(args.first), read_artefact_meta(args.second)
    if meta1.lora_scale != meta2.lora_scale or meta1.base_sha256 != meta2.base_sha256:
        raise SystemExit("the artefacts differ in base model or LoRA scale; a soup needs the same recipe")
    t1, t2 = load_file(str(args.first)), load_file(str(args.second))
    if set(t1) != set(t2):
        raise SystemExit("the artefacts hold different tensors")
    out: dict[str, torch.Tensor] = {}
    for key in t1:
        if key.endswith(".lora_A"):
            stem = key.removesuffix(".lora_A")
            a1, b1 = t1[key].float(), t1[stem + ".lora_B"].float()
            a2, b2 = t2[key].float(), t2[stem + ".lora_B"].float()
            rank = a1.shape[0]
            delta = (b1 @ a1 + b2 @ a2) / 2
            u, s, vt = torch.linalg.svd(delta, full_matrices=False)
            root = s[:rank].sqrt()
            out[stem + ".lora_B"] = (u[:, :rank] * root).to(torch.float16).contiguous()
            out[key] = (root[:, None] * vt[:rank]).to(torch.float16).contiguous()
        elif not key.endswith(".lora_B"):
            out[key] = ((t1[key].float() + t2[key].float()) / 2).to(torch.float16).contiguous()
    meta = json.loads(json.dumps(meta2.__dict__, default=str))
    meta["train_config"] = {**meta2.train_config, "soup_of": [str(args.first), str(args.second)]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_file(out, str(args.out), metadata={META_KEY: json.dumps(meta, sort_keys=True)})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
