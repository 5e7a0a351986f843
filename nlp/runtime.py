"""CPU runtime settings for transformer inference: worker count, torch threads, the memory allocator.

Resonanz runs one single-threaded worker per core instead of one multi-threaded forward pass.
Small encoders such as e5-small scale poorly across OpenMP threads (each layer is a few short
matrix products, so threads spend much of their time at barriers), and a multi-threaded pass
collapses when another process takes one of its cores, because every barrier then waits for the
descheduled thread. Single-threaded workers that each take the next batch from a shared queue
scale almost linearly and degrade gracefully: a worker that shares its core with a neighbour
just finishes fewer batches. ``bench/bench_scoring.py`` measures both effects.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import torch

log = logging.getLogger(__name__)

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
_TUNED_MMAP_THRESHOLD = 32 * 1024 * 1024


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, which respects container CPU sets)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def default_workers(requested: int | None = None) -> int:
    """``requested`` if given, else one worker per available core."""
    if requested is not None and requested > 0:
        return requested
    return available_cores()


def single_threaded_torch() -> None:
    """Make every torch operator run on the calling thread (workers provide the parallelism)."""
    if torch.get_num_threads() != 1:
        log.debug("torch intra-op threads %d -> 1 (parallelism comes from the worker threads)", torch.get_num_threads())
        torch.set_num_threads(1)


@contextmanager
def small_buffers_mapped() -> Iterator[None]:
    """glibc's default mmap threshold (128 KiB) inside the block, :func:`tune_allocator`'s after it (if applied).

    For work that allocates large buffers once and frees them, such as lingua decompressing its language models:
    they are unmapped when freed instead of staying in the heap (measured 120 MB less peak memory for loading the
    accurate models while :func:`tune_allocator` is in force)."""
    tuned = tune_allocator.cache_info().currsize > 0 and tune_allocator()
    if tuned:
        _mallopt(_M_MMAP_THRESHOLD, 128 * 1024)
    try:
        yield
    finally:
        if tuned:
            _mallopt(_M_MMAP_THRESHOLD, _TUNED_MMAP_THRESHOLD)


@lru_cache(maxsize=1)
def tune_allocator() -> bool:
    """Keep freed activation buffers in the heap instead of returning them to the OS (glibc only).

    By default glibc serves allocations above 128 KiB with fresh ``mmap`` pages and unmaps them on
    free, so every layer's activations page-fault on first touch. Raising the mmap and trim
    thresholds lets the buffers be reused; it measured 5-8 % faster for e5-small batches.
    Returns whether the tuning was applied.
    """
    ok = _mallopt(_M_MMAP_THRESHOLD, _TUNED_MMAP_THRESHOLD) and _mallopt(_M_TRIM_THRESHOLD, 512 * 1024 * 1024)
    log.debug("glibc mallopt tuning applied: %s", ok)
    return ok


def _mallopt(param: int, value: int) -> bool:
    """glibc's ``mallopt(param, value)``; False where there is none (not Linux, musl and others)."""
    libc = _libc()
    if libc is None:
        return False
    try:
        return bool(libc.mallopt(param, value))
    except AttributeError:
        return False


@lru_cache(maxsize=1)
def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Let all threads share ``arenas`` glibc heaps instead of up to eight per core.

    Every thread that allocates (the scoring workers, lingua's and the tokenizer's Rust thread pools) gets its
    own arena by default, and each keeps its freed buffers (:func:`tune_allocator`): on 2 cores that measured
    about 130 MB more peak memory for ``resonanz score``, at no measurable speed gain. Call it early, before
    the thread pools start: arenas that exist stay. Returns whether the limit was applied (glibc only)."""
    ok = _mallopt(_M_ARENA_MAX, max(1, arenas))
    log.debug("glibc arenas limited to %d: %s", arenas, ok)
    return ok


def trim_heap() -> bool:
    """Hand the free pages of every glibc heap back to the OS (``malloc_trim(0)``) after a large release: what
    loading left behind, unloaded language models. :func:`tune_allocator` keeps freed memory otherwise, and a
    thread in another arena would not reuse it. The next allocations fault pages in again (a fraction of a second
    for hundreds of MB). Returns whether it ran (glibc only)."""
    libc = _libc()
    if libc is None:
        return False
    try:
        libc.malloc_trim(0)
    except AttributeError:
        return False
    return True


@lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL | None:
    """The C library where it is glibc-like Linux (looked up once: ``find_library`` runs ``ldconfig``)."""
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


def cpu_supports_bf16() -> bool:
    """Whether the CPU has native bf16 matrix instructions (AMX or AVX512-BF16), where bf16 pays off."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            flags = next((line for line in fh if line.startswith("flags")), "")
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags
