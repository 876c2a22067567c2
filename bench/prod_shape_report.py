"""What bench/prod_shape.py measures and prints: per-request timings, CPU use, the tables.

The locustfile appends one line per request (kind, milliseconds, failed) to the file named by
BENCH_TIMINGS, so the percentiles of a process count are computed from every request of all its
rounds (locust's CSV gives percentiles per run only, rounded to its histogram buckets).
"""

from __future__ import annotations

import math
import os
import resource
import statistics
from collections import defaultdict
from dataclasses import dataclass, field

import psutil

# The list views the p99 < 4 x p50 target is about (bench/locustfile.py names them "list: ...").
LIST_PREFIX = "list: "
P99_TARGET = 4.0


def percentile(sorted_values: list[float], share: float) -> float:
    """Nearest rank: the smallest value with at least `share` of the values at or below it."""
    rank = max(1, math.ceil(share * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class Timings:
    """Every request of one process count, over its rounds."""

    per_kind: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    errors_seen: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # "kind: error" -> count

    def read(self, path: str) -> None:
        with open(path) as handle:
            for line in handle:
                kind, ms, failed, error = line.rstrip("\n").split("\t")
                self.per_kind[kind].append(float(ms))
                self.failures[kind] += int(failed)
                if error:
                    self.errors_seen[f"{kind}: {error}"] += 1

    @property
    def errors(self) -> int:
        return sum(self.failures.values())

    def rows(self) -> list[tuple[str, int, int, float, float, float]]:
        """(kind, requests, errors, p50, p95, p99), kinds sorted, "all" last."""
        every = sorted(ms for values in self.per_kind.values() for ms in values)
        table = []
        for kind in sorted(self.per_kind):
            values = sorted(self.per_kind[kind])
            table.append((kind, len(values), self.failures[kind],
                          *(percentile(values, p) for p in (0.50, 0.95, 0.99))))
        if every:
            table.append(("**all**", len(every), self.errors,
                          *(percentile(every, p) for p in (0.50, 0.95, 0.99))))
        return table

    def list_ratios(self) -> dict[str, float]:
        return {kind: p99 / p50 for kind, _, _, p50, _, p99 in self.rows()
                if kind.startswith(LIST_PREFIX) and p50 > 0}


class CpuMeter:
    """Core-seconds used during a round by the machine, the gunicorn processes and locust."""

    def __init__(self, gunicorn_pid: int) -> None:
        self.master = psutil.Process(gunicorn_pid)
        self.machine = psutil.cpu_times()
        self.gunicorn = self._gunicorn_seconds()
        self.children = resource.getrusage(resource.RUSAGE_CHILDREN)

    def _gunicorn_seconds(self) -> float:
        total = 0.0
        for process in [self.master, *self.master.children(recursive=True)]:
            try:
                times = process.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return total

    def stop(self, locust_finished: bool = True) -> dict:
        machine = psutil.cpu_times()
        busy = sum(getattr(machine, name) - getattr(self.machine, name)
                   for name in ("user", "system", "nice", "irq", "softirq", "steal"))
        idle = (machine.idle - self.machine.idle) + (machine.iowait - self.machine.iowait)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {"machine_busy": busy / (busy + idle) if busy + idle else 0.0,
                "gunicorn_s": self._gunicorn_seconds() - self.gunicorn,
                # locust is the only child process that ends while the round runs
                "locust_s": (children.ru_utime - self.children.ru_utime)
                + (children.ru_stime - self.children.ru_stime)}


@dataclass
class Round:
    processes: int
    seconds: float
    requests: int
    cpu: dict
    load_before: float
    load_after: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def print_process_count(processes: int, rounds: list[Round], timings: Timings, accounting: dict,
                        drained: list[float], describe: str) -> None:
    rps = [r.rps for r in rounds]
    print(f"\n## gunicorn {processes} process(es), {describe}: "
          f"{statistics.median(rps):.1f} requests/s (rounds: {', '.join(f'{x:.1f}' for x in rps)}), "
          f"{timings.errors} errors; outbox drained {max(drained):.0f} s after each round at most")
    for r in rounds:
        cpu = r.cpu
        print(f"   round of {r.seconds:.0f} s: machine {cpu['machine_busy']:.0%} busy, gunicorn "
              f"{cpu['gunicorn_s'] / r.seconds:.2f} cores, locust {cpu['locust_s'] / r.seconds:.2f} cores, "
              f"load average {r.load_before:.1f} -> {r.load_after:.1f} on {os.cpu_count()} cores")
    print("| Request kind | requests | errors | p50 ms | p95 ms | p99 ms | p99 / p50 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for kind, count, failures, p50, p95, p99 in timings.rows():
        ratio = f"{p99 / p50:.1f}" if kind.startswith(LIST_PREFIX) and p50 else ""
        print(f"| {kind} | {count} | {failures} | {p50:.0f} | {p95:.0f} | {p99:.0f} | {ratio} |")
    for error, times in sorted(timings.errors_seen.items()):
        print(f"Error ({times}x) {error}")
    acc = accounting
    print(f"Side effects of the rounds: {acc['created']} created ({acc['by_kind']}), "
          f"{acc['succeeded']} succeeded, {acc['failed']} failed, {acc['cancelled']} cancelled (queued "
          f"creates of orders cancelled meanwhile), {acc['unfinished']} unfinished; of the {acc['checked']} "
          f"that call out: {acc['lost']} never arrived, {acc['doubled']} arrived twice or more; "
          f"{acc['stray']} arrivals no side effect sent", flush=True)


def print_summary(results: list[tuple[int, list[Round], Timings, dict]]) -> None:
    print("\n| gunicorn processes | requests/s (median of rounds) | errors | worst list p99/p50 "
          "| list kinds over 4x | gunicorn cores | locust cores | machine busy "
          "| side effects | lost | doubled | failed |")
    print("|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for processes, rounds, timings, acc in results:
        ratios = timings.list_ratios()
        worst = max(ratios.items(), key=lambda item: item[1], default=("-", 0.0))
        over = sum(1 for ratio in ratios.values() if ratio >= P99_TARGET)
        seconds = sum(r.seconds for r in rounds)
        gunicorn = sum(r.cpu["gunicorn_s"] for r in rounds) / seconds
        locust = sum(r.cpu["locust_s"] for r in rounds) / seconds
        busy = statistics.median(r.cpu["machine_busy"] for r in rounds)
        print(f"| {processes} | {statistics.median(r.rps for r in rounds):.1f} | {timings.errors} | "
              f"{worst[1]:.1f} ({worst[0].removeprefix(LIST_PREFIX)}) | {over} of {len(ratios)} | "
              f"{gunicorn:.2f} | {locust:.2f} | {busy:.0%} | {acc['succeeded']} | {acc['lost']} | "
              f"{acc['doubled']} | {acc['failed'] + acc['unfinished']} |")
    print("(errors: HTTP errors, connection errors and AddOrder answers other than success; side effects: "
          "succeeded in the rounds; lost / doubled: of those that call out, by idempotency key at the "
          "receivers; failed: failed or never finished; cores: CPU seconds per second of load)")


def add_accounting(total: dict, more: dict) -> dict:
    merged = {key: total.get(key, 0) + value for key, value in more.items() if key != "by_kind"}
    kinds = dict(total.get("by_kind", {}))
    for kind, count in more["by_kind"].items():
        kinds[kind] = kinds.get(kind, 0) + count
    return {**merged, "by_kind": kinds}
