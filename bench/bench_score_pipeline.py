"""``resonanz score`` end to end against the scorer alone, on the same imported posts, in one run.

    .venv/bin/python bench/bench_score_pipeline.py --posts 2000
    .venv/bin/python bench/bench_score_pipeline.py --posts 10000          # the issue's sizes: 10k and 200k
    .venv/bin/python bench/bench_score_pipeline.py --posts 2000 --profile  # + cProfile of the end-to-end run
    PYTHONPATH=/path/to/other/checkout .venv/bin/python bench/bench_score_pipeline.py --code /path/to/other/checkout

The posts (``bench/german_posts.py``, no language given, as in most exports) are written as JSON lines
and imported with ``resonanz import posts`` into a fresh SQLite database. Then, each in its own process
(so that each peak RSS is its own):

* ``e2e``: ``resonanz score`` through the CLI (the real code path: brand voice, counting, chunks read by
  keyset, language detection, preprocessing, the shared trunk, topics, aspects, flags, the writes of
  scores, languages and review items, duplicate merging). Its rate is the posts divided by the time
  ``score_posts`` spends after the models are loaded (loading is reported separately, as ``wall_s``).
* ``analyzer``: :class:`nlp.pipeline.Analyzer` on the same texts in the same chunks, no database.
* ``scorer``: the sentiment scorer alone (``TransformerScorer``, the configured model and precision;
  ``precision = auto`` picks bf16 where the CPU has it), after a warm-up.

Reported: posts/s of each, ``e2e / scorer`` and ``e2e / analyzer``, peak RSS of each process
(``ru_maxrss``), and the load average. ``--code DIR`` runs the children on another checkout (e.g. a
``git worktree`` of the previous commit) for before/after ratios under the same conditions. Results
go to ``bench/results/score_pipeline-<posts>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
CHUNK = 1024
"""Texts per analysis call in the ``analyzer`` measurement (``score_posts``' default chunk)."""


def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --- children ------------------------------------------------------------------------------------------------


def _texts(jsonl: Path) -> list[str]:
    from resonanz.pipeline.scoring import post_text

    rows = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [post_text(r["text"], r.get("title")) for r in rows]


def child_e2e(profile: Path | None) -> dict[str, Any]:
    """``resonanz score`` via the CLI; ``score_posts`` is wrapped only to keep its report."""
    start = time.perf_counter()
    from resonanz.cli.main import app
    from resonanz.pipeline import scoring

    reports: list[Any] = []
    original = scoring.score_posts

    def recording(*args: Any, **kwargs: Any) -> Any:
        report = original(*args, **kwargs)
        reports.append(report)
        return report

    scoring.score_posts = recording  # type: ignore[assignment]
    profiler = None
    if profile is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    try:
        app(["score"], standalone_mode=False)
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(str(profile))
    (report,) = reports
    return {
        "posts": report.scored,
        "seconds": report.seconds,
        "wall_s": time.perf_counter() - start,
        "model_version": report.model_version,
        "chunks": report.chunks,
        "flagged": report.flagged,
        "review_created": report.review_created,
    }


def child_analyzer(jsonl: Path) -> dict[str, Any]:
    from resonanz.core.settings import get_settings
    from resonanz.pipeline.scoring import build_analyzer

    texts = _texts(jsonl)
    analyzer = build_analyzer(get_settings())
    analyzer.load()
    analyzer.analyse(texts[:64])  # warm-up
    start = time.perf_counter()
    for i in range(0, len(texts), CHUNK):
        analyzer.analyse(texts[i : i + CHUNK])
    return {"posts": len(texts), "seconds": time.perf_counter() - start, "model_version": analyzer.version}


def child_scorer(jsonl: Path) -> dict[str, Any]:
    from nlp.scorer import TransformerScorer
    from resonanz.core.settings import get_settings

    nlp = get_settings().nlp
    texts = _texts(jsonl)
    scorer = TransformerScorer(
        nlp.sentiment_model,
        label_map=nlp.label_map or None,
        batch_tokens=nlp.batch_tokens,
        max_length=nlp.max_length,
        workers=nlp.threads,
        precision=nlp.precision,
        progress=False,
    )
    scorer.load()
    scorer.score(texts[:64])  # warm-up
    start = time.perf_counter()
    scorer.score(texts)
    return {"posts": len(texts), "seconds": time.perf_counter() - start, "model_version": scorer.version}


def run_child(argv: list[str]) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", required=True)
    ap.add_argument("--jsonl", type=Path)
    ap.add_argument("--profile", type=Path)
    args = ap.parse_args(argv)
    if args.child == "e2e":
        out = child_e2e(args.profile)
    elif args.child == "analyzer":
        out = child_analyzer(args.jsonl)
    else:
        out = child_scorer(args.jsonl)
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print("RESULT " + json.dumps(out), flush=True)


# --- parent --------------------------------------------------------------------------------------------------


def write_posts(path: Path, n: int) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from german_posts import make_posts

    base = datetime(2026, 10, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as fh:
        for i, text in enumerate(make_posts(n)):
            row = {
                "platform": "bench",
                "external_id": f"p{i}",
                "text": text,
                "created_at": (base + timedelta(minutes=7 * i)).isoformat(),
                "author": {"account_id": f"a{i % max(1, n // 3)}", "handle": f"@kunde{i % max(1, n // 3)}"},
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def child_env(workdir: Path, code: Path) -> dict[str, str]:
    env = dict(os.environ)
    config = workdir / "resonanz.toml"
    config.touch()
    env.update(
        RESONANZ_CONFIG=str(config),
        RESONANZ_DATABASE_URL=f"sqlite:///{workdir / 'bench.db'}",
        PYTHONPATH=os.pathsep.join([str(code), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        TQDM_DISABLE="1",
    )
    return env


def measure(kind: str, workdir: Path, code: Path, jsonl: Path, profile: Path | None = None) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--jsonl", str(jsonl)]
    if profile is not None:
        cmd += ["--profile", str(profile)]
    done = subprocess.run(cmd, cwd=workdir, env=child_env(workdir, code), capture_output=True, text=True, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    if done.returncode != 0 or line is None:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"the {kind} measurement failed (exit {done.returncode})")
    out: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    out["posts_per_s"] = round(out["posts"] / out["seconds"], 2) if out["seconds"] else 0.0
    out["seconds"] = round(out["seconds"], 2)
    if "wall_s" in out:
        out["wall_s"] = round(out["wall_s"], 2)
    print(f"{kind}: {out}", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=10_000)
    ap.add_argument("--code", type=Path, default=ROOT, help="checkout whose code the children run (default: this)")
    ap.add_argument("--profile", action="store_true", help="cProfile the e2e run (workdir/e2e.prof, top 40 printed)")
    ap.add_argument("--skip", nargs="*", default=[], choices=["analyzer", "scorer"], help="measurements to skip")
    ap.add_argument("--workdir", type=Path, default=None, help="keep the database and files here")
    args = ap.parse_args()
    code = args.code.resolve()
    load_before = loadavg()
    with tempfile.TemporaryDirectory(prefix="bench_score_") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        jsonl = workdir / "posts.jsonl"
        write_posts(jsonl, args.posts)
        start = time.perf_counter()
        imported = subprocess.run(
            [sys.executable, "-c", "from resonanz.cli.main import app; app()", "import", "posts", str(jsonl)],
            cwd=workdir, env=child_env(workdir, code), capture_output=True, text=True, check=False,
        )  # fmt: skip
        if imported.returncode != 0:
            raise SystemExit(f"import failed: {imported.stdout[-2000:]}{imported.stderr[-2000:]}")
        import_s = time.perf_counter() - start
        print(f"{args.posts} posts imported in {import_s:.1f} s; code: {code}", flush=True)
        profile = workdir / "e2e.prof" if args.profile else None
        e2e = measure("e2e", workdir, code, jsonl, profile)
        analyzer = measure("analyzer", workdir, code, jsonl) if "analyzer" not in args.skip else None
        scorer = measure("scorer", workdir, code, jsonl) if "scorer" not in args.skip else None
        if profile is not None:
            import pstats

            pstats.Stats(str(profile)).sort_stats("cumulative").print_stats(40)
    result: dict[str, Any] = {
        "posts": args.posts,
        "code": str(code),
        "import_s": round(import_s, 2),
        "e2e": e2e,
        "analyzer": analyzer,
        "scorer": scorer,
        "e2e_over_scorer": round(e2e["posts_per_s"] / scorer["posts_per_s"], 3) if scorer else None,
        "e2e_over_analyzer": round(e2e["posts_per_s"] / analyzer["posts_per_s"], 3) if analyzer else None,
        "e2e_peak_rss_mb": e2e["peak_rss_mb"],
        "loadavg_before": load_before,
        "loadavg_after": loadavg(),
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
    }
    print(json.dumps({k: result[k] for k in ("e2e_over_scorer", "e2e_over_analyzer", "e2e_peak_rss_mb")}))
    RESULTS.mkdir(exist_ok=True)
    suffix = "" if code == ROOT else "-" + code.name
    path = RESULTS / f"score_pipeline-{args.posts}{suffix}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"results: {path}")


if __name__ == "__main__":
    if "--child" in sys.argv:
        sys.path.insert(0, os.environ.get("PYTHONPATH", str(ROOT)).split(os.pathsep)[0])
        run_child(sys.argv[1:])
    else:
        sys.path.insert(0, str(ROOT))
        main()
