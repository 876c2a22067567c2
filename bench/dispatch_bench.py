"""What a commit of many side effects costs its request: enqueueing each first attempt in the
request (as the dispatcher did) against the dispatcher's bounded part, measured in one run.

    .venv/bin/python bench/dispatch_bench.py [--effects 20000] [--redis-url redis://127.0.0.1:6379/6]

No database: the jobs are enqueued for ids that have no rows (what an enqueue costs does not depend
on the row). Redis: a scratch database, emptied before and after. Prints the milliseconds of each
way, per enqueue, and the fan-out jobs' own time (run in this process, as a worker would run them).
"""

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--effects", type=int, default=20000)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    args = parser.parse_args()
    from rq.job import Job

    from jobs.dispatcher import FAN_OUT_FUNCTION, dispatch
    from jobs.queueing import enqueue, get_queue
    from tests.conftest import make_test_app

    app = make_test_app("sqlite://", REDIS_URL=args.redis_url, RQ_QUEUE="dispatch-bench")
    with app.app_context():
        queue = get_queue()
        queue.connection.flushdb()
        ids = list(range(1, args.effects + 1))
        started = time.perf_counter()
        for effect_id in ids:
            enqueue(queue, effect_id, 0)
        each = (time.perf_counter() - started) * 1000
        queue.connection.flushdb()
        started = time.perf_counter()
        dispatch(ids)
        bounded = (time.perf_counter() - started) * 1000
        fan_outs = [Job.fetch(job_id, connection=queue.connection) for job_id in queue.job_ids
                    if not job_id.startswith("side-effect-")]
        assert {job.func_name for job in fan_outs} == {FAN_OUT_FUNCTION}
        started = time.perf_counter()
        enqueued = sum(job.perform() for job in fan_outs)
        fanned = (time.perf_counter() - started) * 1000
        queue.connection.flushdb()
    print(f"{args.effects:,} side effects committed at once:")
    print("| way | request ms | per side effect ms |\n|---|---:|---:|")
    print(f"| each enqueued in the request | {each:.0f} | {each / args.effects:.3f} |")
    print(f"| dispatch (100 in the request, {len(fan_outs)} fan-out jobs) | {bounded:.0f} | "
          f"{bounded / args.effects:.3f} |")
    print(f"request: {each / bounded:.0f}x less; the fan-out jobs then enqueued {enqueued:,} in "
          f"{fanned:.0f} ms (a worker's time, not the request's)")


if __name__ == "__main__":
    main()
