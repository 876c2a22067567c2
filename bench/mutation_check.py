"""Do the tests catch what they claim? Apply each mutation below - a small textual change that
breaks one promise - to a scratch copy of the tree, run the tests that claim to guard it, and
print "caught" (they failed) or "MISSED" (they passed on broken code).

    .venv/bin/python bench/mutation_check.py [--only NAME_PART] [--keep]

Run by hand, not in CI. The working tree is never touched: the copy (tracked and untracked,
non-ignored files, as they are now) lives in a temporary directory, each mutation is undone in the
copy before the next, and the copy is deleted at the end. The unmutated copy must pass first.
Needs the same services as the suite (TEST_DATABASE_URL, TEST_REDIS_URL, REQUIRE_SERVICES=1);
the race tests run ORDERDESK_RACE_ITERATIONS=5 iterations here (their points are deterministic,
so one iteration already meets the race).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


OUTCOME_SUCCEEDED = """        _RUNNING,
        attempt,
        status=SideEffectStatus.SUCCEEDED,"""

MUTATIONS = [
    Mutation(
        "dispatcher enqueues before the commit (with Redis)",
        "jobs/dispatcher.py",
        'event.listen(Session, "after_commit", _after_commit)',
        'event.listen(Session, "before_commit", _after_commit)',
        ("tests/test_jobs_pipeline.py",),
    ),
    Mutation(
        "CSRF off in the shipped config.py",
        "config.py",
        '"WTF_CSRF_ENABLED": True,',
        '"WTF_CSRF_ENABLED": False,',
        ("tests/test_csrf_default.py",),
    ),
    Mutation(
        "order lock without PostgreSQL's row lock (version column kept)",
        "actions/locking.py",
        ".where(orders.c.id == order_id).with_for_update())",
        ".where(orders.c.id == order_id))",
        ("tests/test_jobs_races.py", "-k", "postgresql and in_outcome"),
    ),
    Mutation(
        "order lock without SQLite's write lock (version column kept)",
        "actions/locking.py",
        "session.execute(update(orders).where(orders.c.id == order_id).values(version=orders.c.version))",
        "None",
        ("tests/test_jobs_races.py", "-k", "sqlite and in_outcome"),
    ),
    Mutation(
        "outcome reads items without the order's lock",
        "actions/side_effect_outcomes.py",
        "        lock_order_row(session, effect.order_id)",
        "        pass",
        ("tests/test_jobs_races.py", "-k", "in_outcome"),
    ),
    Mutation(
        "Cancel overwrites a create a worker has claimed",
        "actions/side_effects.py",
        "return _cancel(session, effect, (SideEffectStatus.QUEUED,), actor, reason)",
        "return _cancel(session, effect, tuple(SideEffectStatus), actor, reason)",
        ("tests/test_jobs_races.py", "-k", "before_claim"),
    ),
    Mutation(
        "partial refund: an earlier refund ignored",
        "models/guards.py",
        'left = t.amount_in - refunded.get(t.id, Decimal("0.00"))',
        "left = t.amount_in",
        ("tests/test_refund_e2e.py",),
    ),
    Mutation(
        "a superseded attempt records its success",
        "actions/side_effect_outcomes.py",
        OUTCOME_SUCCEEDED,
        OUTCOME_SUCCEEDED.replace("_RUNNING,", "tuple(SideEffectStatus),").replace("attempt,", "None,"),
        ("tests/test_jobs_faults.py", "-k", "slow_attempt"),
    ),
    Mutation(
        "a superseded attempt records its failure",
        "actions/side_effect_outcomes.py",
        "effect, _RUNNING, attempt, last_error=error",
        "effect, tuple(SideEffectStatus), None, last_error=error",
        ("tests/test_jobs_faults.py", "-k", "slow_attempt"),
    ),
    Mutation(
        "the job ignores the payload's server_id",
        "jobs/run.py",
        'server_id = effect.payload.get("server_id") or service.server_id',
        "server_id = service.server_id",
        ("tests/test_jobs_pipeline.py",),
    ),
    Mutation(
        "the outcome ignores the payload's send_welcome_email",
        "actions/side_effect_outcomes.py",
        'if effect.payload.get("send_welcome_email"):',
        'if effect.payload.get("welcome"):',
        ("tests/test_jobs_pipeline.py",),
    ),
    Mutation(
        "the sweeper counts a scheduled job as live",
        "jobs/queueing.py",
        "        return not due_now",
        "        return True",
        ("tests/test_jobs_outage.py", "-k", "cron"),
    ),
    Mutation(
        "workers stop sweeping",
        "jobs/worker.py",
        "        if self._sweep_due():\n            self.sweep_if_due()",
        "        pass",
        ("tests/test_jobs_outage.py", "-k", "comes_back"),
    ),
    Mutation(
        "the sweeper ignores an attempt whose work horse was killed",
        "jobs/sweeper.py",
        "elif redis is not None and attempt_ended(redis, effect_id, attempts):",
        "elif False:",
        ("tests/test_jobs_faults.py", "-k", "killed"),
    ),
]


def copy_tree(target: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def run_tests(tree: Path, tests: tuple[str, ...]) -> int:
    env = dict(os.environ, ORDERDESK_RACE_ITERATIONS=os.environ.get("ORDERDESK_RACE_ITERATIONS", "5"))
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    return subprocess.run(command, cwd=tree, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run the mutations whose name contains this")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copy (its path is printed)")
    args = parser.parse_args()
    chosen = [m for m in MUTATIONS if args.only in m.name]
    tree = Path(tempfile.mkdtemp(prefix="orderdesk-mutations-"))
    try:
        copy_tree(tree)
        for mutation in chosen:
            if (tree / mutation.path).read_text().count(mutation.old) != 1:
                raise SystemExit(f"{mutation.name}: the text to change is not found exactly once")
        suites = sorted({m.tests for m in chosen})
        for tests in suites:
            if run_tests(tree, tests) != 0:
                raise SystemExit(f"the unmutated tree fails {' '.join(tests)}: fix that first")
        print(f"unmutated tree: {len(suites)} test selections pass")
        missed = 0
        for mutation in chosen:
            path = tree / mutation.path
            original = path.read_text()
            try:
                path.write_text(original.replace(mutation.old, mutation.new))
                caught = run_tests(tree, mutation.tests) != 0
            finally:
                path.write_text(original)
            missed += not caught
            print(f"{'caught' if caught else 'MISSED':7} {mutation.name}  [{' '.join(mutation.tests)}]")
        print(f"{len(chosen) - missed} of {len(chosen)} mutations caught")
    finally:
        if args.keep:
            print(f"scratch copy kept: {tree}")
        else:
            shutil.rmtree(tree, ignore_errors=True)


if __name__ == "__main__":
    main()
