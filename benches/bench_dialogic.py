"""Dialogic R4 layer: one kernel tick with 480 voice channels in play/dx_getdig
(see drivers/capacity_dialogic.py)."""

from __future__ import annotations

from drivers.capacity_dialogic import _dialogic_load, dialogic_voice_480


def test_dialogic_tick_480_channels(benchmark):
    kernel, running = _dialogic_load()
    benchmark(kernel.tick)
    assert running() == 480  # prompts and digit collections still in progress
    kernel.close()


def test_dialogic_capacity(benchmark):
    result = benchmark.pedantic(dialogic_voice_480, args=(True,), rounds=1, iterations=1)
    benchmark.extra_info[result.name] = round(result.value, 2)
    assert result.unit == "percent_of_core" and result.value > 0 and result.peer_value
