"""Timing: repeated calls, and several calls interleaved in a rotated order."""

from edgesr.timing import interleaved, repeated


def test_repeated_times_every_call_and_returns_the_last_result():
    results = iter(range(5))
    seconds, last = repeated(lambda: next(results), 5)
    assert len(seconds) == 5 and all(s >= 0 for s in seconds) and last == 4


def test_interleaved_warms_up_then_rotates_the_order_every_round():
    calls: list[str] = []
    samples = interleaved({n: (lambda n=n: calls.append(n)) for n in "ab"}, rounds=4, warmup=1)
    assert calls == ["a", "b"] + ["a", "b", "b", "a", "a", "b", "b", "a"]
    assert {n: len(s) for n, s in samples.items()} == {"a": 4, "b": 4}
