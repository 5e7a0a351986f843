"""Ship a full fine-tune small (see :mod:`nlp.training.compress`).

    .venv/bin/python scripts/compress_sentiment.py full.safetensors --rank 48 --out small.safetensors

Then fit the temperature: ``train_general_sentiment.py --calibrate-only --save small.safetensors``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from nlp.default_model import ensure_base_model
from nlp.training.compress import compress_full_artefact


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("full", type=Path)
    ap.add_argument("--rank", type=int, default=48)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    print(json.dumps(compress_full_artefact(args.full, ensure_base_model(), args.rank, args.out)))


if __name__ == "__main__":
    main()
