"""Every MFC-R2 timer, one row each (line signalling Q.421/Q.422, register signalling Q.476)."""

from __future__ import annotations

from core.timers import TimerSpec, TimerTable

R2_TIMERS = (
    TimerSpec("debounce", 20, "ms", "Q.422 §5.1 (recognition time)",
              "an ABCD change must persist this long before it is a line signal"),
    TimerSpec("seize_ack", 8, "s", "Q.421 §3.2 (seizing acknowledgement)",
              "outgoing: seize sent, no seize-acknowledge received: release, report timeout"),
    TimerSpec("answer", 60, "s", "Q.118 §4 (answer supervision)",
              "outgoing: call accepted by group B/A signal, no answer received"),
    TimerSpec("release_guard", 2, "s", "Q.421 §3.2 (release guard)",
              "outgoing: clear-forward sent, no idle/release-guard from the incoming end"),
    TimerSpec("metering", 400, "ms", "national (Argentina): clear-back shorter than this is a "
              "metering pulse", "clear-back that returns to answer within this time is a charge pulse"),
    TimerSpec("fwd_step", 15, "s", "Q.476 §4 (outgoing register time-out)",
              "outgoing register: no backward signal (or its end) in a compelled step"),
    TimerSpec("back_step", 5, "s", "Q.476 §4 (incoming register time-out)",
              "incoming register: backward signal sent, forward signal not removed / next not "
              "received; also end of DNIS for variants without I-15"),
    TimerSpec("pulse", 150, "ms", "Q.442 §4.2.4 (pulsed backward signals)",
              "length of a pulsed backward signal sent while the forward register is silent"),
    TimerSpec("accept_delay", 150, "ms", "Q.442 (end of compelled cycle)",
              "incoming: time between the end of the group B signal and accepting answer"),
)


def table(overrides: dict[str, float] | None = None) -> TimerTable:
    return TimerTable(R2_TIMERS, overrides)
