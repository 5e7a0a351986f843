"""bf16 against fp32 for the default sentiment model: posts/s in one run, label agreement, bf16 ceiling.

    .venv/bin/python -m bench.bench_precision             # 10 000 posts (about three minutes on 2 cores)
    .venv/bin/python -m bench.bench_precision --quick     # 1 500 posts

* Both precisions score the same posts with the real scorer (``TransformerScorer``, the shipped default
  model, ``precision="fp32"`` / ``"bf16"``), one after the other in one process.
* Agreement: share of posts whose arg-max label is the same, and the largest probability difference.
  The issue's bar is >= 99.5 % on 10k posts.
* Ceilings: single-thread GEMM GFLOP/s in fp32 and in bf16 on the model's own shapes (best of several
  repetitions) x workers, divided by the FLOPs per post (see ``bench_scoring.flops_per_post``). The
  ratios say how much of each precision's matmul peak the whole scorer reaches.

On a CPU without native bf16 (no AMX / AVX512-BF16) ``precision="auto"`` picks fp32 and the bf16 rows
are skipped. Results go to ``bench/results/precision-*.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from bench_scoring import flops_per_post  # noqa: E402
from german_posts import make_posts  # noqa: E402

from nlp.default_model import ensure_sentiment_model  # noqa: E402
from nlp.runtime import available_cores, cpu_supports_bf16, tune_allocator  # noqa: E402
from nlp.scorer import TransformerScorer  # noqa: E402

RESULTS = Path(__file__).parent / "results"
SHAPES = [(4096, 384, 1152), (4096, 384, 1536), (4096, 1536, 384), (1024, 1024, 1024)]


def gemm_peak(dtype: torch.dtype, seconds: float = 0.5) -> float:
    """Best single-thread GFLOP/s over the model's GEMM shapes in ``dtype``."""
    torch.set_num_threads(1)
    best = 0.0
    for m, k, n in SHAPES:
        a, b = torch.randn(m, k).to(dtype), torch.randn(k, n).to(dtype)
        c = torch.mm(a, b)
        for _ in range(4):
            reps, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds / 4:
                torch.mm(a, b, out=c)
                reps += 1
            best = max(best, 2 * m * k * n * reps / 1e9 / (time.perf_counter() - start))
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=10_000)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n = 1_500 if args.quick else args.posts
    tune_allocator()
    posts = make_posts(n)
    workers = available_cores()
    model_dir = ensure_sentiment_model()
    fp32 = TransformerScorer(str(model_dir), precision="fp32", workers=workers, progress=False)
    lengths = np.array([len(ids) for ids in fp32.runner.encode(fp32.model_inputs(posts))])
    flops = float(flops_per_post(fp32.model.config, lengths).mean())
    result: dict[str, Any] = {
        "posts": n,
        "workers": workers,
        "mean_tokens": round(float(lengths.mean()), 1),
        "gflop_per_post": round(flops / 1e9, 4),
        "model_version": fp32.version,
        "cpu": platform.processor() or platform.machine(),
        "native_bf16": cpu_supports_bf16(),
    }
    peak32 = gemm_peak(torch.float32)
    result["fp32_gemm_gflops_per_core"] = round(peak32, 1)
    fp32.score(posts[:64])
    start = time.perf_counter()
    p32 = fp32.probabilities(fp32.logits(posts))
    result["fp32_posts_per_s"] = round(n / (time.perf_counter() - start), 1)
    result["fp32_ratio_to_fp32_ceil"] = round(result["fp32_posts_per_s"] * flops / (peak32 * 1e9 * workers), 3)
    if cpu_supports_bf16():
        peak16 = gemm_peak(torch.bfloat16)
        result["bf16_gemm_gflops_per_core"] = round(peak16, 1)
        bf16 = TransformerScorer(str(model_dir), precision="bf16", workers=workers, progress=False)
        bf16.score(posts[:64])
        start = time.perf_counter()
        p16 = bf16.probabilities(bf16.logits(posts))
        result["bf16_posts_per_s"] = round(n / (time.perf_counter() - start), 1)
        result["bf16_version"] = bf16.version
        result["speedup_bf16_over_fp32"] = round(result["bf16_posts_per_s"] / result["fp32_posts_per_s"], 2)
        result["bf16_ratio_to_bf16_ceil"] = round(result["bf16_posts_per_s"] * flops / (peak16 * 1e9 * workers), 3)
        result["label_agreement"] = round(float((p32.argmax(1) == p16.argmax(1)).mean()), 5)
        result["max_abs_probability_diff"] = round(float(np.abs(p32 - p16).max()), 4)
        result["mean_abs_probability_diff"] = round(float(np.abs(p32 - p16).mean()), 5)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"precision-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    for key, value in result.items():
        print(f"{key:32} {value}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
