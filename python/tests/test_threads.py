"""Threads: the GIL is released while the metrics run, and evaluations in parallel threads give
the results of sequential calls."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import dicekit


def spheres(n: int, shift: int = 2, radius: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    truth = np.zeros((n, n, n), np.uint8)
    pred = np.zeros_like(truth)
    y, x = np.ogrid[:n, :n]
    c, r = n / 2, n * radius
    for z in range(n):
        d = (y - c) ** 2 + (x - c) ** 2
        truth[z] = d <= r * r - (z - c) ** 2
        pred[z] = d <= r * r - (z - c - shift) ** 2
    truth[: n // 4, : n // 4, : n // 4] *= 2  # a second label
    return pred, truth


@pytest.fixture(scope="module")
def big_pair() -> tuple[np.ndarray, np.ndarray]:
    """A pair whose evaluation takes a few tenths of a second in the dev build."""
    return spheres(160)


CALLS = {
    "evaluate": lambda p, t: dicekit.evaluate(p, t, spacing=(1.0, 1.0, 1.0)),
    "SurfaceDistances": lambda p, t: dicekit.SurfaceDistances(p, t, label=1).hd95(),
    "Accumulator.add": lambda p, t: dicekit.Accumulator().add(p, t),
    "evaluate_lesions": lambda p, t: dicekit.evaluate_lesions(p, t),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_the_gil_is_released(name: str, big_pair) -> None:
    """A pure-Python counter thread keeps counting while the call runs (with the GIL held it
    could not advance at all until the call returned)."""
    pred, truth = big_pair
    call = CALLS[name]
    count = 0
    stop = threading.Event()

    def spin() -> None:
        nonlocal count
        while not stop.is_set():
            count += 1

    spinner = threading.Thread(target=spin, daemon=True)
    spinner.start()
    try:
        time.sleep(0.05)
        # The counter's own rate, sharing the GIL with this thread sleeping.
        c0, t0 = count, time.perf_counter()
        time.sleep(0.1)
        rate = (count - c0) / (time.perf_counter() - t0)
        c0, t0 = count, time.perf_counter()
        call(pred, truth)
        seconds = time.perf_counter() - t0
        advanced = count - c0
    finally:
        stop.set()
        spinner.join()
    print(f"{name}: {seconds:.2f} s, counter advanced {advanced} ({advanced / (rate * seconds):.0%} of its rate)")
    assert seconds > 0.05, "the pair is too small to tell"
    # Released: the counter runs during the call (the Rust threads share the 2 cores with it).
    assert advanced > 0.05 * rate * seconds


def test_parallel_threads_give_the_sequential_results() -> None:
    pairs = [spheres(n, shift=s) for n, s in ((40, 1), (48, 2), (56, 3), (44, 4))]
    pairs.append(tuple(np.asfortranarray(a) for a in pairs[0]))
    sequential = [dicekit.evaluate(p, t, spacing=(1.0, 0.8, 1.2)) for p, t in pairs]
    surfaces = [dicekit.SurfaceDistances(p, t, convention="deepmind").hd95() for p, t in pairs]
    counts = [dicekit.confusion_counts(p, t) for p, t in pairs]
    start = threading.Barrier(2)

    def work(i: int):
        p, t = pairs[i]
        if i < 2:
            start.wait()  # the first two start together
        return (
            dicekit.evaluate(p, t, spacing=(1.0, 0.8, 1.2)),
            dicekit.SurfaceDistances(p, t, convention="deepmind").hd95(),
            dicekit.confusion_counts(p, t),
        )

    for _ in range(2):
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(work, range(len(pairs))))
        assert [r[0] for r in results] == sequential
        assert [r[1] for r in results] == surfaces
        assert [r[2] for r in results] == counts
    # The same arrays shared by two threads at once (read-only borrows).
    p, t = pairs[1]
    with ThreadPoolExecutor(max_workers=2) as pool:
        both = list(pool.map(lambda _: dicekit.evaluate(p, t, spacing=(1.0, 0.8, 1.2)), range(4)))
    assert all(r == sequential[1] for r in both)


def test_parallel_accumulators_merge_to_the_sequential_one() -> None:
    pairs = [spheres(n, shift=s) for n, s in ((24, 1), (28, 2), (32, 3), (36, 1))]
    single = dicekit.Accumulator()
    for i, (p, t) in enumerate(pairs):
        single.add(p, t, case=f"c{i}")

    def part(ids):
        acc = dicekit.Accumulator()
        for i in ids:
            acc.add(*pairs[i], case=f"c{i}")
        return acc

    with ThreadPoolExecutor(max_workers=2) as pool:
        a, b = pool.map(part, ([0, 2], [1, 3]))
    a.merge(b)
    assert a == single
    assert a.records() == single.records()
