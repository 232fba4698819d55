"""Memory: many requests with random origins must not make fastcors grow after warm-up.

Each (implementation, configuration) runs in its own child process
(`python -m bench.memory --impl compiled --config regex --requests 200000`), so RSS is that
run's alone. The child sends a warm-up of at least one full cycle of the verdict memos
(which start over when full), then the measured requests twice, in windows of one memo cycle
each: once watching RSS (no tracing, which would inflate it), once under tracemalloc. Growth is
the peak of the last third of the windows over the peak of the first third (see
measure_middleware). Origins are random (fresh ones keep arriving), so the bounded memos are
churned; preflights carry random header lists for the same reason.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import drive

REPO = Path(__file__).resolve().parent.parent
CONFIGS: dict[str, dict[str, Any]] = {
    "list": {
        "allow_origins": [f"https://app{i}.example.com" for i in range(100)],
        "allow_methods": ["GET", "POST"],
        "allow_headers": ["Content-Type", "X-Requested-With"],
        "allow_credentials": True,
    },
    "regex": {
        "allow_origins": ["https://app0.example.com"],
        "allow_origin_regex": r"https://[a-z0-9-]+\.example\.org",
        "allow_methods": ["GET", "POST"],
        "allow_headers": ["*"],
    },
}
IMPLS = ["compiled", "python"]
# Growth allowed after warm-up. A leak of even one small object per request would be
# ~30 bytes x 200,000 = 6 MB, far above these.
TRACED_LIMIT = 64 * 1024
RSS_LIMIT = 1024 * 1024
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


def _random_origin(rng: random.Random) -> bytes:
    pick = rng.random()
    if pick < 0.3:
        return f"https://app{rng.randrange(100)}.example.com".encode()  # listed
    if pick < 0.6:
        return f"https://t{rng.getrandbits(40):x}.example.org".encode()  # regex-shaped
    return f"https://{rng.getrandbits(48):x}.attacker.test".encode()  # unknown


def _request(rng: random.Random) -> dict[str, Any]:
    headers = [(b"host", b"api.example.com"), (b"accept", b"*/*")]
    kind = rng.random()
    if kind < 0.1:
        return {"type": "http", "method": "GET", "path": "/", "headers": headers}
    headers.append((b"origin", _random_origin(rng)))
    if kind < 0.55:
        return {"type": "http", "method": "GET", "path": "/", "headers": headers}
    requested = ",".join(rng.sample(["content-type", "x-requested-with", f"x-h{rng.getrandbits(24):x}"], 2))
    headers += [(b"access-control-request-method", b"POST"), (b"access-control-request-headers", requested.encode())]
    return {"type": "http", "method": "OPTIONS", "path": "/", "headers": headers}


def _load(impl: str) -> Any:
    from fastcors import _loader

    return _loader.load_compiled() if impl == "compiled" else _loader.load_pure_python()


def memo_cycle_requests(memo_slots: int) -> int:
    """Requests that take every verdict memo through at least one full fill-and-clear cycle.

    A memo starts over after `memo_slots` new keys. The slowest memo here is the headers one:
    about 30% of _request's requests bring it a new key (the regex memo's share is about 60%),
    so 4 x `memo_slots` requests fill each memo at least once.
    """
    return 4 * memo_slots


def measure_middleware(
    middleware: Any, requests: int, warmup: int, cycle: int, request: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """Growth of `middleware`'s memory: the peak of the run's late memo cycles over its early ones'.

    A bounded memo that starts over when full sits at a different point of its fill cycle at
    any two instants, so a difference of two samples says nothing. The peak over a window of
    one whole cycle is the memo at its fullest, wherever the window starts: the same in every
    window unless something grows. So each window of `cycle` requests records its peak (traced:
    tracemalloc's own peak, reset per window; RSS: sampled per block, untraced), and growth
    is the largest peak of the last third of the windows minus the largest of the first third.
    """
    windows = max(3, requests // cycle)
    block = max(1, cycle // 8)  # RSS is read between blocks, not inside a request

    def run(count: int) -> None:
        for _ in range(count):
            drive.call_once(middleware, request())

    def thirds(peaks: list[int]) -> tuple[int, int]:
        third = max(1, len(peaks) // 3)
        return max(peaks[:third]), max(peaks[-third:])

    run(warmup)  # at least one full cycle, so the first window is not the memos' first fill
    gc.collect()
    rss_peaks = []
    for _ in range(windows):
        peak = 0
        for _ in range(cycle // block):
            run(block)
            peak = max(peak, rss_bytes())
        rss_peaks.append(peak)
    rss_early, rss_late = thirds(rss_peaks)

    # Under tracemalloc, which would inflate RSS: a second pass, after its own warm-up.
    tracemalloc.start()
    run(warmup)
    snapshot = tracemalloc.take_snapshot()
    gc.collect()
    # Read after the snapshot exists, so its own memory is in the baseline.
    traced_start = tracemalloc.get_traced_memory()[0]
    traced_peaks = []
    for _ in range(windows):
        tracemalloc.reset_peak()
        run(cycle)
        traced_peaks.append(tracemalloc.get_traced_memory()[1])
    gc.collect()
    top = [str(s) for s in tracemalloc.take_snapshot().compare_to(snapshot, "lineno")[:5] if s.size_diff > 0]
    tracemalloc.stop()
    traced_early, traced_late = thirds(traced_peaks)
    traced_growth = traced_late - traced_early
    rss_growth = rss_late - rss_early
    return {
        "requests": windows * cycle,
        "warmup": warmup,
        "cycle_requests": cycle,
        "windows": windows,
        "rss_before": rss_early,  # the peak RSS of the first third of the windows
        "rss_after": rss_late,  # and of the last third
        "rss_growth": rss_growth,
        "traced_growth": traced_growth,  # the last third's traced peak over the first third's
        "traced_peak_above_start": max(traced_peaks) - traced_start,
        "top_growth": top,
        "grew": traced_growth > TRACED_LIMIT or rss_growth > RSS_LIMIT,
    }


def measure(impl: str, config: str, requests: int, warmup: int, seed: int = 1) -> dict[str, Any]:
    module = _load(impl)
    from fastcors._rules import MEMO_SLOTS  # (the same bound in both implementations)

    middleware = module.CORSMiddleware(drive.app, **CONFIGS[config])
    cycle = memo_cycle_requests(MEMO_SLOTS)
    if requests < 3 * cycle or warmup < cycle:
        raise SystemExit(
            f"--requests must be at least {3 * cycle:,} and --warmup {cycle:,}: 3 memo cycles, 1 to warm up"
        )
    rng = random.Random(seed)
    measured = measure_middleware(middleware, requests, warmup, cycle, lambda: _request(rng))
    return {"impl": impl, "config": config, **measured}


def run_memory(quick: bool, progress: Any = None) -> dict[str, Any]:
    requests = 20_000 if quick else 200_000
    warmup = 5_000 if quick else 20_000
    runs = []
    for impl in IMPLS:
        for config in CONFIGS:
            if progress is not None:
                progress.update(f"{impl} / {config}: {requests:,} requests", force=True)
            command = [sys.executable, "-m", "bench.memory", "--impl", impl, "--config", config]
            command += ["--requests", str(requests), "--warmup", str(warmup)]
            env = {**os.environ, "PYTHONPATH": str(REPO)}
            done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)
            if done.returncode != 0:
                runs.append({"impl": impl, "config": config, "error": done.stderr[-2000:]})
                continue
            runs.append(json.loads(done.stdout))
    return {"requests": requests, "warmup": warmup, "traced_limit": TRACED_LIMIT, "rss_limit": RSS_LIMIT, "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--impl", choices=IMPLS, required=True)
    parser.add_argument("--config", choices=list(CONFIGS), required=True)
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--warmup", type=int, default=20_000)
    args = parser.parse_args()
    print(json.dumps(measure(args.impl, args.config, args.requests, args.warmup)))


if __name__ == "__main__":
    main()
