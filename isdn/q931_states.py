"""Q.931 call states as one table for both sides (clause 2, clause 5, annex A SDL).

The table is written in terms of call *roles*; ``ROLE_STATES`` maps each role to the
recommendation's state for the user side (U0..U25) and the network side (N0..N25), so
``U1 call initiated`` and ``N6 call present`` are both the role ``OUT_INIT`` (we sent
SETUP).  Rows are ``(role, event, action, next role)``; events are message names,
application primitives (``*_req``, ``setup_rsp``) and timer names.
"""

from __future__ import annotations

from core.fsm import FsmTable, Row

# role -> (user state, network state), Q.931 clause 2.1 / 2.2
ROLE_STATES: dict[str, tuple[int, int]] = {
    "NULL": (0, 0),
    "OUT_INIT": (1, 6),          # we sent SETUP
    "OUT_OVERLAP": (2, 25),      # SETUP ACKNOWLEDGE received: we send INFORMATION
    "OUT_PROCEEDING": (3, 9),    # CALL PROCEEDING received
    "OUT_DELIVERED": (4, 7),     # ALERTING received
    "IN_PRESENT": (6, 1),        # SETUP received
    "IN_OVERLAP": (25, 2),       # SETUP ACKNOWLEDGE sent: we receive INFORMATION
    "IN_PROCEEDING": (9, 3),     # CALL PROCEEDING sent
    "IN_RECEIVED": (7, 4),       # ALERTING sent
    "CONNECT_REQUEST": (8, 8),   # CONNECT sent, awaiting CONNECT ACKNOWLEDGE (user side)
    "ACTIVE": (10, 10),
    "WE_SENT_DISC": (11, 12),    # DISCONNECT sent (U11 disconnect request / N12 indication)
    "WE_GOT_DISC": (12, 11),     # DISCONNECT received
    "SUSPEND_REQUEST": (15, 15),
    "RESUME_REQUEST": (17, 17),
    "RELEASE_REQUEST": (19, 19),
}

CALL_ROLES = ("OUT_INIT", "OUT_OVERLAP", "OUT_PROCEEDING", "OUT_DELIVERED", "IN_PRESENT",
               "IN_OVERLAP", "IN_PROCEEDING", "IN_RECEIVED", "CONNECT_REQUEST", "ACTIVE",
               "SUSPEND_REQUEST", "RESUME_REQUEST")
CLEARING = ("WE_SENT_DISC", "WE_GOT_DISC", "RELEASE_REQUEST")

# An action may return a state to override the row's next state (an SDL decision).
ROLE_ROWS: list[tuple[str, str, str | None, str | None]] = [
    ("NULL", "setup_req", "out_setup", "OUT_INIT"),
    ("NULL", "SETUP", "in_setup", "IN_PRESENT"),
    ("NULL", "resume_req", "send_resume", "RESUME_REQUEST"),
    ("NULL", "RESUME", "got_resume", "ACTIVE"),
    # outgoing call (5.1 user side, 5.2 network side toward the user)
    ("OUT_INIT", "SETUP ACKNOWLEDGE", "got_setup_ack", "OUT_OVERLAP"),
    ("OUT_INIT", "CALL PROCEEDING", "got_proceeding", "OUT_PROCEEDING"),
    ("OUT_INIT", "ALERTING", "got_alerting", "OUT_DELIVERED"),
    ("OUT_INIT", "CONNECT", "got_connect", "ACTIVE"),
    ("OUT_INIT", "T303", "t303", None),
    ("OUT_OVERLAP", "CALL PROCEEDING", "got_proceeding", "OUT_PROCEEDING"),
    ("OUT_OVERLAP", "ALERTING", "got_alerting", "OUT_DELIVERED"),
    ("OUT_OVERLAP", "CONNECT", "got_connect", "ACTIVE"),
    ("OUT_OVERLAP", "PROGRESS", "got_progress", None),
    ("OUT_OVERLAP", "T304", "t304", "WE_SENT_DISC"),
    ("OUT_PROCEEDING", "ALERTING", "got_alerting", "OUT_DELIVERED"),
    ("OUT_PROCEEDING", "CONNECT", "got_connect", "ACTIVE"),
    ("OUT_PROCEEDING", "PROGRESS", "got_progress", None),
    ("OUT_PROCEEDING", "T310", "t310", "WE_SENT_DISC"),
    ("OUT_DELIVERED", "CONNECT", "got_connect", "ACTIVE"),
    ("OUT_DELIVERED", "PROGRESS", "got_progress", None),
    ("OUT_DELIVERED", "T301", "t301", "WE_SENT_DISC"),
    # incoming call (5.2 user side, 5.1 network side from the user)
    ("IN_PRESENT", "more_info_req", "send_setup_ack", "IN_OVERLAP"),
    ("IN_PRESENT", "proceeding_req", "send_proceeding", "IN_PROCEEDING"),
    ("IN_PRESENT", "alerting_req", "send_alerting", "IN_RECEIVED"),
    ("IN_PRESENT", "setup_rsp", "send_connect", "CONNECT_REQUEST"),
    ("IN_PRESENT", "reject_req", "send_reject", "NULL"),
    ("IN_PRESENT", "progress_req", "send_progress", None),
    ("IN_OVERLAP", "INFORMATION", "got_overlap_info", None),
    ("IN_OVERLAP", "proceeding_req", "send_proceeding", "IN_PROCEEDING"),
    ("IN_OVERLAP", "alerting_req", "send_alerting", "IN_RECEIVED"),
    ("IN_OVERLAP", "setup_rsp", "send_connect", "CONNECT_REQUEST"),
    ("IN_OVERLAP", "progress_req", "send_progress", None),
    ("IN_OVERLAP", "T302", "t302", "WE_SENT_DISC"),
    ("IN_PROCEEDING", "alerting_req", "send_alerting", "IN_RECEIVED"),
    ("IN_PROCEEDING", "setup_rsp", "send_connect", "CONNECT_REQUEST"),
    ("IN_PROCEEDING", "progress_req", "send_progress", None),
    ("IN_RECEIVED", "setup_rsp", "send_connect", "CONNECT_REQUEST"),
    ("IN_RECEIVED", "progress_req", "send_progress", None),
    ("CONNECT_REQUEST", "CONNECT ACKNOWLEDGE", "got_connect_ack", "ACTIVE"),
    ("CONNECT_REQUEST", "T313", "t313", "WE_SENT_DISC"),
    ("ACTIVE", "CONNECT ACKNOWLEDGE", None, None),
    ("ACTIVE", "suspend_req", "send_suspend", "SUSPEND_REQUEST"),
    ("ACTIVE", "SUSPEND", "got_suspend", "NULL"),
    ("SUSPEND_REQUEST", "SUSPEND ACKNOWLEDGE", "got_suspend_ack", "NULL"),
    ("SUSPEND_REQUEST", "SUSPEND REJECT", "got_suspend_reject", "ACTIVE"),
    ("SUSPEND_REQUEST", "T319", "t319", "ACTIVE"),
    ("RESUME_REQUEST", "RESUME ACKNOWLEDGE", "got_resume_ack", "ACTIVE"),
    ("RESUME_REQUEST", "RESUME REJECT", "got_resume_reject", "NULL"),
    ("RESUME_REQUEST", "T318", "t318", "RELEASE_REQUEST"),
    # clearing (5.3, 5.4)
    ("WE_SENT_DISC", "RELEASE", "got_release_after_disc", "NULL"),
    ("WE_SENT_DISC", "DISCONNECT", "disconnect_collision", "RELEASE_REQUEST"),
    ("WE_SENT_DISC", "T305", "t305", "RELEASE_REQUEST"),
    ("WE_GOT_DISC", "release_req", "send_release", "RELEASE_REQUEST"),
    ("RELEASE_REQUEST", "RELEASE", "release_collision", "NULL"),
    ("RELEASE_REQUEST", "T308", "t308", None),
]
for _role in CALL_ROLES:
    ROLE_ROWS += [(_role, "disconnect_req", "send_disconnect", "WE_SENT_DISC"),
                  (_role, "DISCONNECT", "got_disconnect", "WE_GOT_DISC")]
for _role in CALL_ROLES + CLEARING:
    _have = {(r, e) for r, e, _, _ in ROLE_ROWS}
    for _event, _action, _next in (
            ("RELEASE", "got_release", "NULL"),
            ("RELEASE COMPLETE", "got_release_complete", "NULL"),
            ("STATUS ENQUIRY", "send_status_response", None),
            ("STATUS", "got_status", None),
            ("T322", "t322", None),
            ("T309", "t309", "NULL"),
            ("INFORMATION", "got_info", None),
            ("info_req", "send_info", None),
            ("NOTIFY", "got_notify", None),
            ("notify_req", "send_notify", None),
            ("FACILITY", "got_facility", None),
            ("release_req", "send_release", "RELEASE_REQUEST")):
        if (_role, _event) not in _have:
            ROLE_ROWS.append((_role, _event, _action, _next))


def _table(side: str) -> FsmTable:
    i, p = (0, "U") if side == "user" else (1, "N")
    name = {role: f"{p}{nums[i]}" for role, nums in ROLE_STATES.items()}
    rows = [Row(name[r], e, a, None if n is None else name[n]) for r, e, a, n in ROLE_ROWS]
    return FsmTable(f"Q.931 {side} side", tuple(dict.fromkeys(name.values())), rows)


TABLES = {"user": _table("user"), "network": _table("network")}


def _neighbours(table: FsmTable) -> dict[int, set[int]]:
    """State numbers reachable in one transition either way: a peer whose STATUS reports
    one of them is in step with us but for a message in flight (5.8.11)."""
    out: dict[int, set[int]] = {}
    for (st, _), row in table.rows.items():
        if row.next is None:
            continue
        a, b = int(st[1:]), int(row.next[1:])
        out.setdefault(a, {a}).add(b)
        out.setdefault(b, {b}).add(a)
    return out


NEIGHBOURS = {side: _neighbours(t) for side, t in TABLES.items()}
