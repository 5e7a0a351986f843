"""Average all-layer LoRA sentiment artefacts of the same recipe ("model soup"), kept at the same rank.

    .venv/bin/python scripts/soup_sentiment.py A.safetensors B.safetensors [C.safetensors ...] --out soup.safetensors

Per adapted matrix the merged update is the mean of the runs' ``B_i A_i``, truncated back to the LoRA rank
by SVD (so the file stays the same size); biases, LayerNorms, pooler and head are averaged. All artefacts
must come from the same base model and LoRA scale. Fit the temperature afterwards
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
    ap.add_argument("artefacts", type=Path, nargs="+")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    if len(args.artefacts) < 2:
        raise SystemExit("a soup needs at least two artefacts")
    metas = [read_artefact_meta(p) for p in args.artefacts]
    if len({(m.lora_scale, m.base_sha256) for m in metas}) != 1:
        raise SystemExit("the artefacts differ in base model or LoRA scale; a soup needs the same recipe")
    tensors = [load_file(str(p)) for p in args.artefacts]
    if any(set(t) != set(tensors[0]) for t in tensors):
        raise SystemExit("the artefacts hold different tensors")
    out: dict[str, torch.Tensor] = {}
    for key in tensors[0]:
        if key.endswith(".lora_A"):
            stem = key.removesuffix(".lora_A")
            rank = tensors[0][key].shape[0]
            delta = torch.stack([t[stem + ".lora_B"].float() @ t[key].float() for t in tensors]).mean(0)
            u, s, vt = torch.linalg.svd(delta, full_matrices=False)
            root = s[:rank].sqrt()
            out[stem + ".lora_B"] = (u[:, :rank] * root).to(torch.float16).contiguous()
            out[key] = (root[:, None] * vt[:rank]).to(torch.float16).contiguous()
        elif not key.endswith(".lora_B"):
            out[key] = torch.stack([t[key].float() for t in tensors]).mean(0).to(torch.float16).contiguous()
    meta = json.loads(json.dumps(metas[-1].__dict__, default=str))
    meta["train_config"] = {**metas[-1].train_config, "soup_of": [str(p) for p in args.artefacts]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_file(out, str(args.out), metadata={META_KEY: json.dumps(meta, sort_keys=True)})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
