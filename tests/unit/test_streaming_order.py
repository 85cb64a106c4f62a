"""``streaming.in_order``: batch work in threads, results in batch order, few batches ahead."""

from __future__ import annotations

import threading
import time
from functools import partial

import pytest

from complaints.streaming import in_order


def _slow(value: int, seconds: float) -> int:
    time.sleep(seconds)
    return value


def test_results_come_in_job_order_even_when_later_jobs_finish_first():
    jobs = [partial(_slow, i, 0.02 * (5 - i)) for i in range(6)]
    assert list(in_order(jobs, 3)) == list(range(6))


def test_jobs_run_in_other_threads():
    names = list(in_order([threading.current_thread] * 2, 2))
    assert threading.current_thread() not in names


def test_only_a_few_jobs_are_taken_ahead_of_the_consumer():
    taken = []

    def jobs():
        for i in range(20):
            taken.append(i)
            yield partial(_slow, i, 0)

    for result in in_order(jobs(), 2):
        assert len(taken) - result <= 2  # the one being consumed and one more


def test_a_failing_source_still_delivers_what_it_gave_before():
    def jobs():
        for i in range(3):
            yield partial(_slow, i, 0.01)
        raise OSError("source failed")

    seen = []
    with pytest.raises(OSError, match="source failed"):
        for result in in_order(jobs(), 2):
            seen.append(result)
    assert seen == [0, 1, 2]


def test_a_failing_job_raises_in_its_place_and_stops_the_rest():
    ran = []

    def job(i: int) -> int:
        ran.append(i)
        if i == 1:
            raise ValueError("bad batch")
        return i

    seen = []
    with pytest.raises(ValueError, match="bad batch"):
        for result in in_order((partial(job, i) for i in range(50)), 2):
            seen.append(result)
    assert seen == [0]
    assert len(ran) <= 4
