#!/usr/bin/python3
"""The three workloads of bench/sync_bench.cc on Python Tornado 6 and asyncio.

    /usr/bin/python3 bench/python/sync_bench.py [--ops 200000] [--repetitions 5]

Workloads (each run does --ops operations; the figure is the median over
--repetitions runs of the thread's CPU time per operation, in ns, as
bench/sync_bench.cc reports; wall time is printed beside it):

  lock_uncontended  one coroutine: acquire + release a free lock
  lock_hand_off     two coroutines take turns, each holding the lock across
                    one loop iteration, so every acquisition is a hand-off
  queue_ping_pong   Queue(maxsize=1): a producer puts --ops items, a consumer
                    gets them

Runtimes:

  tornado        tornado.locks.Lock, tornado.queues.Queue, tornado.gen.moment,
                 in @gen.coroutine generators (gen.moment works only there)
  tornado_async  the same Tornado objects from native `async def` coroutines,
                 with asyncio.sleep(0) (Tornado's documented equivalent of
                 gen.moment in native coroutines)
  asyncio        asyncio.Lock, asyncio.Queue, asyncio.sleep(0)

Prints a readable table on stderr and, on stdout, one line per figure:
"<workload> <runtime> <median CPU ns/op> <median wall ns/op>"
(bench/python/compare.sh reads these).
"""

import argparse
import asyncio
import statistics
import sys
import time

from tornado import gen, locks, queues

# ---- tornado: @gen.coroutine ------------------------------------------------


@gen.coroutine
def tornado_lock_uncontended(n):
    lock = locks.Lock()
    for _ in range(n):
        with (yield lock.acquire()):
            pass
    return n


@gen.coroutine
def tornado_take_turns(lock, turns, me, seen):
    for _ in range(turns):
        with (yield lock.acquire()):
            if seen[0] != me:
                seen[0], seen[1] = me, seen[1] + 1
            yield gen.moment


@gen.coroutine
def tornado_lock_hand_off(n):
    lock = locks.Lock()
    seen = [None, 0]  # who took the lock last, how many times it changed hands
    yield [tornado_take_turns(lock, n // 2, "a", seen), tornado_take_turns(lock, n // 2, "b", seen)]
    return seen[1]


@gen.coroutine
def tornado_produce(queue, n):
    for i in range(n):
        yield queue.put(i)


@gen.coroutine
def tornado_consume(queue, n):
    total = 0
    for _ in range(n):
        total += yield queue.get()
    return total


@gen.coroutine
def tornado_queue_ping_pong(n):
    queue = queues.Queue(maxsize=1)
    total, _ = yield [tornado_consume(queue, n), tornado_produce(queue, n)]
    return total


# ---- tornado_async: native coroutines over Tornado's objects -----------------


async def tornado_async_lock_uncontended(n):
    lock = locks.Lock()
    for _ in range(n):
        async with lock:
            pass
    return n


async def tornado_async_take_turns(lock, turns, me, seen):
    for _ in range(turns):
        async with lock:
            if seen[0] != me:
                seen[0], seen[1] = me, seen[1] + 1
            await asyncio.sleep(0)


async def tornado_async_lock_hand_off(n):
    lock = locks.Lock()
    seen = [None, 0]
    await asyncio.gather(
        tornado_async_take_turns(lock, n // 2, "a", seen),
        tornado_async_take_turns(lock, n // 2, "b", seen),
    )
    return seen[1]


async def async_produce(queue, n):
    for i in range(n):
        await queue.put(i)


async def async_consume(queue, n):
    total = 0
    for _ in range(n):
        total += await queue.get()
    return total


async def tornado_async_queue_ping_pong(n):
    queue = queues.Queue(maxsize=1)
    total, _ = await asyncio.gather(async_consume(queue, n), async_produce(queue, n))
    return total


# ---- asyncio -------------------------------------------------------------------


async def asyncio_lock_uncontended(n):
    lock = asyncio.Lock()
    for _ in range(n):
        async with lock:
            pass
    return n


async def asyncio_take_turns(lock, turns, me, seen):
    for _ in range(turns):
        async with lock:
            if seen[0] != me:
                seen[0], seen[1] = me, seen[1] + 1
            await asyncio.sleep(0)


async def asyncio_lock_hand_off(n):
    lock = asyncio.Lock()
    seen = [None, 0]
    await asyncio.gather(
        asyncio_take_turns(lock, n // 2, "a", seen),
        asyncio_take_turns(lock, n // 2, "b", seen),
    )
    return seen[1]


async def asyncio_queue_ping_pong(n):
    queue = asyncio.Queue(maxsize=1)
    total, _ = await asyncio.gather(async_consume(queue, n), async_produce(queue, n))
    return total


# ---- measuring -------------------------------------------------------------------

WORKLOADS = ["lock_uncontended", "lock_hand_off", "queue_ping_pong"]
RUNTIMES = ["tornado", "tornado_async", "asyncio"]


def expected(workload, n):
    """What a run must return, so a broken workload fails instead of timing."""
    if workload == "queue_ping_pong":
        return n * (n - 1) // 2
    return n


async def timed(fn, n):
    cpu, wall = time.thread_time_ns(), time.perf_counter_ns()
    result = await fn(n)
    return time.thread_time_ns() - cpu, time.perf_counter_ns() - wall, result


def measure(workload, runtime, n, repetitions):
    """Median (CPU, wall) ns per operation over `repetitions` runs, each on a
    fresh event loop (Tornado 6's IOLoop runs on the asyncio loop)."""
    fn = globals()[f"{runtime}_{workload}"]
    cpu, wall = [], []
    for _ in range(repetitions):
        cpu_ns, wall_ns, result = asyncio.run(timed(fn, n))
        if result != expected(workload, n):
            sys.exit(f"{runtime} {workload}: got {result}, expected {expected(workload, n)}")
        cpu.append(cpu_ns / n)
        wall.append(wall_ns / n)
    return statistics.median(cpu), statistics.median(wall)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=200_000)
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args()

    import tornado

    print(
        f"Python {sys.version.split()[0]}, Tornado {tornado.version}, "
        f"{args.ops} ops per run, median of {args.repetitions} runs, CPU (wall) ns/op",
        file=sys.stderr,
    )
    print(f"{'workload':<18}" + "".join(f"{r:>22}" for r in RUNTIMES), file=sys.stderr)
    for workload in WORKLOADS:
        row = ""
        for runtime in RUNTIMES:
            cpu, wall = measure(workload, runtime, args.ops, args.repetitions)
            print(f"{workload} {runtime} {cpu:.1f} {wall:.1f}", flush=True)
            row += f"{cpu:>12.1f} ({wall:>7.1f})"
        print(f"{workload:<18}{row}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
