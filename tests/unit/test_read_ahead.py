"""warehouse.rows.read_ahead: a producer thread a few items ahead, same order, errors in place."""

from __future__ import annotations

import threading

import pytest

from complaints.warehouse.rows import read_ahead


def test_items_come_in_order_from_another_thread():
    threads = set()

    def items():
        for i in range(100):
            threads.add(threading.current_thread().name)
            yield i

    assert list(read_ahead(items(), depth=3)) == list(range(100))
    assert threads == {"read-ahead"}


def test_the_producer_stays_at_most_depth_items_ahead():
    produced = []
    consumed = []

    def items():
        for i in range(50):
            produced.append(i)
            yield i

    for item in read_ahead(items(), depth=2):
        consumed.append(item)
        # queued (2) + the one the producer holds while the queue is full
        assert len(produced) - len(consumed) <= 3


def test_the_producers_error_is_raised_after_the_items_before_it():
    def items():
        yield 1
        yield 2
        raise ValueError("source broke")

    got = []
    with pytest.raises(ValueError, match="source broke"):
        for item in read_ahead(items()):
            got.append(item)
    assert got == [1, 2]


def test_a_consumer_that_stops_early_stops_the_producer():
    produced = []

    def items():
        for i in range(10_000):
            produced.append(i)
            yield i

    stream = read_ahead(items(), depth=2)
    assert [next(stream), next(stream)] == [0, 1]
    stream.close()  # joins the producer thread
    assert len(produced) <= 6
    assert not any(t.name == "read-ahead" for t in threading.enumerate())
