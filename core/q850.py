"""Q.850 cause values (ITU-T Q.850 table 1), shared by every stack and the call model.

Every stack maps its own release reason to one of these, and a call keeps the
original signalling cause beside it (an R2 "B-3", an ISUP cause with location, ...).
"""

from __future__ import annotations

CAUSES: dict[int, str] = {
    1: "unallocated number",
    2: "no route to specified transit network",
    3: "no route to destination",
    6: "channel unacceptable",
    16: "normal call clearing",
    17: "user busy",
    18: "no user responding",
    19: "no answer from user (user alerted)",
    20: "subscriber absent",
    21: "call rejected",
    22: "number changed",
    27: "destination out of order",
    28: "invalid number format (address incomplete)",
    29: "facility rejected",
    31: "normal, unspecified",
    34: "no circuit/channel available",
    38: "network out of order",
    41: "temporary failure",
    42: "switching equipment congestion",
    44: "requested circuit/channel not available",
    47: "resource unavailable, unspecified",
    57: "bearer capability not authorized",
    58: "bearer capability not presently available",
    63: "service or option not available, unspecified",
    65: "bearer capability not implemented",
    79: "service or option not implemented, unspecified",
    81: "invalid call reference value",
    88: "incompatible destination",
    96: "mandatory information element is missing",
    97: "message type non-existent or not implemented",
    98: "message not compatible with call state or message type non-existent",
    99: "information element / parameter non-existent or not implemented",
    100: "invalid information element contents",
    101: "message not compatible with call state",
    102: "recovery on timer expiry",
    111: "protocol error, unspecified",
    127: "interworking, unspecified",
}

NORMAL_CLEARING = 16
USER_BUSY = 17
NO_USER_RESPONDING = 18
NO_ANSWER = 19
CALL_REJECTED = 21
UNALLOCATED = 1
NO_CIRCUIT = 34
CONGESTION = 42
TEMPORARY_FAILURE = 41
RECOVERY_ON_TIMER = 102


def cause_name(value: int | None) -> str:
    if value is None:
        return "none"
    return CAUSES.get(value, f"cause {value}")
