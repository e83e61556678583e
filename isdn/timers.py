"""Every Q.921 and Q.931 timer and system parameter, one row each.

Values are the recommended defaults: Q.921 clause 5.9 (T200, N200, T203, k, N201) and
clause 5.3 (TEI management T201, T202, N202); Q.931 clause 9, tables 9-1 (network
side) and 9-2 (user side).  Counts (N200, k, ...) are rows too, with a unit naming
what they count, so one table holds every tunable of the stack.
"""

from __future__ import annotations

from core.timers import TimerSpec, TimerTable

LAPD_SPECS = (
    TimerSpec("T200", 1.0, "s", "Q.921 5.9.1", "retransmission timer: SABME/DISC/I-frame acknowledgement"),
    TimerSpec("T201", 1.0, "s", "Q.921 5.3.4", "TEI identity check retransmission (network side)"),
    TimerSpec("T202", 2.0, "s", "Q.921 5.3.2", "TEI identity request retransmission (user side)"),
    TimerSpec("T203", 10.0, "s", "Q.921 5.9.8", "maximum time without frame exchange (link idle probe)"),
    TimerSpec("N200", 3, "tries", "Q.921 5.9.2", "maximum retransmissions of a frame"),
    TimerSpec("N201", 260, "octets", "Q.921 5.9.3", "maximum octets in an information field"),
    TimerSpec("N202", 3, "tries", "Q.921 5.9.4", "maximum TEI identity request transmissions"),
    TimerSpec("k", 7, "frames", "Q.921 5.9.5", "window: outstanding I frames (7 for a 64 kbit/s PRI SAPI 0)"),
)

Q931_SPECS = (
    TimerSpec("T301", 180.0, "s", "Q.931 9.1 table 9-1", "call received (ALERTING) until CONNECT"),
    TimerSpec("T302", 15.0, "s", "Q.931 9.1 table 9-1", "overlap receiving: SETUP ACK sent / INFORMATION received"),
    TimerSpec("T303", 4.0, "s", "Q.931 9.1 table 9-1", "SETUP sent, awaiting the first answer; SETUP sent again once"),
    TimerSpec("T304", 30.0, "s", "Q.931 9.1 table 9-2", "overlap sending: SETUP ACK received / INFORMATION sent"),
    TimerSpec("T305", 30.0, "s", "Q.931 9.1 table 9-1", "DISCONNECT sent, awaiting RELEASE or DISCONNECT"),
    TimerSpec("T306", 30.0, "s", "Q.931 9.1 table 9-1", "DISCONNECT with in-band tones sent"),
    TimerSpec("T307", 180.0, "s", "Q.931 9.1 table 9-1", "SUSPEND ACK sent: call identity kept"),
    TimerSpec("T308", 4.0, "s", "Q.931 9.1 table 9-1", "RELEASE sent, awaiting RELEASE COMPLETE; RELEASE sent again once"),
    TimerSpec("T309", 6.0, "s", "Q.931 9.1 table 9-1", "data link down: active calls kept this long"),
    TimerSpec("T310", 10.0, "s", "Q.931 9.1 table 9-1", "CALL PROCEEDING received, awaiting ALERTING/CONNECT/DISCONNECT"),
    TimerSpec("T312", 6.0, "s", "Q.931 9.1 table 9-1", "broadcast SETUP: call reference kept (T303 + 2 s)"),
    TimerSpec("T313", 4.0, "s", "Q.931 9.1 table 9-2", "CONNECT sent, awaiting CONNECT ACKNOWLEDGE"),
    TimerSpec("T314", 4.0, "s", "Q.931 9.1 table 9-1", "segmented message reassembly"),
    TimerSpec("T316", 120.0, "s", "Q.931 9.1 table 9-1", "RESTART sent, awaiting RESTART ACKNOWLEDGE"),
    TimerSpec("T317", 60.0, "s", "Q.931 9.1 table 9-1", "RESTART received: internal clearing of the call references"),
    TimerSpec("T318", 4.0, "s", "Q.931 9.1 table 9-2", "RESUME sent, awaiting RESUME ACK/REJECT"),
    TimerSpec("T319", 4.0, "s", "Q.931 9.1 table 9-2", "SUSPEND sent, awaiting SUSPEND ACK/REJECT"),
    TimerSpec("T320", 30.0, "s", "Q.931 9.1 table 9-1", "packet-mode call reference without link"),
    TimerSpec("T321", 30.0, "s", "Q.931 9.1 table 9-1", "D-channel failure: backup D-channel switchover"),
    TimerSpec("T322", 4.0, "s", "Q.931 9.1 table 9-1", "STATUS ENQUIRY sent, awaiting STATUS"),
    TimerSpec("T3M1", 120.0, "s", "NI-2 / AT&T PRI B-channel maintenance",
              "SERVICE sent, awaiting SERVICE ACKNOWLEDGE; SERVICE sent again once"),
    TimerSpec("N316", 2, "tries", "Q.931 5.5.1", "RESTART transmissions before maintenance is told"),
    TimerSpec("N322", 3, "tries", "Q.931 5.8.10", "STATUS ENQUIRY transmissions before the call is cleared"),
)


def lapd_table(overrides: dict[str, float] | None = None) -> TimerTable:
    return TimerTable(LAPD_SPECS, overrides)


def q931_table(overrides: dict[str, float] | None = None) -> TimerTable:
    return TimerTable(Q931_SPECS, overrides)
