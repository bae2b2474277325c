"""Level-1 map: cachetools' TTLCache (what tenancy.cache uses) against the hand-written
OrderedDict LRU+TTL it replaced (kept here as the reference), both behind a lock as in
the cache. ns per get (hit), set and get (miss) at the default size; interleaved rounds,
median. Prints one JSON object. No Django needed."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from cachetools import TTLCache

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import median  # noqa: E402

SIZE, TTL, N, ROUNDS = 2048, 60.0, 200_000, 7


class HandLRU:
    """The previous tenancy.cache.LRU (entries with an expiry, moved to the end on hit)."""

    def __init__(self, maxsize: int, ttl: float) -> None:
        self.maxsize, self.ttl = maxsize, ttl
        self._data: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return None
            if entry[0] < time.monotonic():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return entry[1]

    def set(self, key: str, value: Any) -> None:
        with self._lock:
            self._data[key] = (time.monotonic() + self.ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)


class Cachetools:
    """TTLCache behind a lock, as tenancy.cache.TwoLevelCache uses it."""

    def __init__(self, maxsize: int, ttl: float) -> None:
        self._data: TTLCache[str, Any] = TTLCache(maxsize, ttl, timer=time.monotonic)
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:  # as tenancy.cache reads it ([] is cheaper than .get here)
            try:
                return self._data[key]
            except KeyError:
                return None

    def set(self, key: str, value: Any) -> None:
        with self._lock:
            self._data[key] = value


def ns(fn: Any, keys: list[str]) -> float:
    t0 = time.perf_counter_ns()
    for k in keys:
        fn(k)
    return (time.perf_counter_ns() - t0) / len(keys)


def main() -> None:
    hot = [f"account:number:{i:04d}" for i in range(SIZE // 2)] * (N // (SIZE // 2))
    fresh = [f"k{i}" for i in range(N)]
    samples: dict[str, list[float]] = {}
    for r in range(ROUNDS):
        for impl in (HandLRU, Cachetools) if r % 2 == 0 else (Cachetools, HandLRU):
            m = impl(SIZE, TTL)
            for k in hot[: SIZE // 2]:
                m.set(k, k)
            name = impl.__name__
            samples.setdefault(f"{name}:get_hit", []).append(ns(m.get, hot))
            samples.setdefault(f"{name}:set_evicting", []).append(ns(lambda k, m=m: m.set(k, k), fresh))
            samples.setdefault(f"{name}:get_miss", []).append(ns(m.get, hot))
    out = {k: round(median(v)) for k, v in samples.items()}
    out["ratio_get_hit"] = round(out["Cachetools:get_hit"] / out["HandLRU:get_hit"], 2)
    out["ratio_set"] = round(out["Cachetools:set_evicting"] / out["HandLRU:set_evicting"], 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
