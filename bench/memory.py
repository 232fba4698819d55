"""Memory: many requests with random origins must not make fastcors grow after warm-up.

Each (implementation, configuration) runs in its own child process
(`python -m bench.memory --impl compiled --config regex --requests 200000`), so RSS is that
run's alone. The child sends a warm-up, then the measured requests twice: once watching RSS
(no tracing, which would inflate it), once under tracemalloc, reporting how much the peak of
traced memory in the run's second half exceeds the first half's. Origins are random (fresh
ones keep arriving), so the bounded memos of verdicts are churned; preflights carry random
header lists for the same reason.
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
SAMPLE_EVERY = 1000  # requests between two samples of traced memory
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


def measure(impl: str, config: str, requests: int, warmup: int, seed: int = 1) -> dict[str, Any]:
    middleware = _load(impl).CORSMiddleware(drive.app, **CONFIGS[config])
    rng = random.Random(seed)

    def run(count: int) -> None:
        for _ in range(count):
            drive.call_once(middleware, _request(rng))

    run(warmup)
    gc.collect()
    rss_before = rss_bytes()
    run(requests)
    gc.collect()
    rss_after = rss_bytes()

    # Traced memory is sampled through the run: a bounded memo that starts over when full is at
    # a different point of its cycle at each sample, so its net change says nothing. Its peak,
    # over the many cycles of each half of the run, is the same in both halves; a leak's is not.
    tracemalloc.start()
    run(warmup)
    snapshot = tracemalloc.take_snapshot()
    gc.collect()
    # Read after the snapshot exists, so its own memory is in the baseline.
    traced_before = tracemalloc.get_traced_memory()[0]
    samples = []
    for _ in range(max(2, requests // SAMPLE_EVERY)):
        run(min(SAMPLE_EVERY, requests))
        samples.append(tracemalloc.get_traced_memory()[0])
    gc.collect()
    top = [str(s) for s in tracemalloc.take_snapshot().compare_to(snapshot, "lineno")[:5] if s.size_diff > 0]
    tracemalloc.stop()
    half = len(samples) // 2
    traced_growth = max(samples[half:]) - max(samples[:half])
    rss_growth = rss_after - rss_before
    return {
        "impl": impl,
        "config": config,
        "requests": requests,
        "warmup": warmup,
        "rss_before": rss_before,
        "rss_after": rss_after,
        "rss_growth": rss_growth,
        "traced_growth": traced_growth,  # the second half's peak over the first half's
        "traced_peak_above_start": max(samples) - traced_before,
        "top_growth": top,
        "grew": traced_growth > TRACED_LIMIT or rss_growth > RSS_LIMIT,
    }


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
