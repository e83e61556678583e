"""Q.850 cause values (table 1/Q.850), locations (table 3/Q.850) and classes, shared by every
stack and the call model (a call keeps its stack's own cause beside the Q.850 value).

``CAUSES[value]`` is the recommendation's name; ``cause_class(value)`` the class of
clause 2.2.5 (bits 7-5 of the cause value).
"""

from __future__ import annotations

CAUSES: dict[int, str] = {
    1: "unallocated (unassigned) number",
    2: "no route to specified transit network",
    3: "no route to destination",
    4: "send special information tone",
    5: "misdialled trunk prefix",
    6: "channel unacceptable",
    7: "call awarded and being delivered in an established channel",
    8: "preemption",
    9: "preemption - circuit reserved for reuse",
    14: "QoR: ported number",
    16: "normal call clearing",
    17: "user busy",
    18: "no user responding",
    19: "no answer from user (user alerted)",
    20: "subscriber absent",
    21: "call rejected",
    22: "number changed",
    23: "redirection to new destination",
    25: "exchange routing error",
    26: "non-selected user clearing",
    27: "destination out of order",
    28: "invalid number format (address incomplete)",
    29: "facility rejected",
    30: "response to STATUS ENQUIRY",
    31: "normal, unspecified",
    34: "no circuit/channel available",
    38: "network out of order",
    39: "permanent frame mode connection out of service",
    40: "permanent frame mode connection operational",
    41: "temporary failure",
    42: "switching equipment congestion",
    43: "access information discarded",
    44: "requested circuit/channel not available",
    46: "precedence call blocked",
    47: "resource unavailable, unspecified",
    49: "quality of service not available",
    50: "requested facility not subscribed",
    53: "outgoing calls barred within CUG",
    55: "incoming calls barred within CUG",
    57: "bearer capability not authorized",
    58: "bearer capability not presently available",
    62: "inconsistency in designated outgoing access information and subscriber class",
    63: "service or option not available, unspecified",
    65: "bearer capability not implemented",
    66: "channel type not implemented",
    69: "requested facility not implemented",
    70: "only restricted digital information bearer capability is available",
    79: "service or option not implemented, unspecified",
    81: "invalid call reference value",
    82: "identified channel does not exist",
    83: "a suspended call exists, but this call identity does not",
    84: "call identity in use",
    85: "no call suspended",
    86: "call having the requested call identity has been cleared",
    87: "user not member of CUG",
    88: "incompatible destination",
    90: "non-existent CUG",
    91: "invalid transit network selection",
    95: "invalid message, unspecified",
    96: "mandatory information element is missing",
    97: "message type non-existent or not implemented",
    98: "message not compatible with call state or message type non-existent or not implemented",
    99: "information element/parameter non-existent or not implemented",
    100: "invalid information element contents",
    101: "message not compatible with call state",
    102: "recovery on timer expiry",
    103: "parameter non-existent or not implemented, passed on",
    110: "message with unrecognized parameter, discarded",
    111: "protocol error, unspecified",
    127: "interworking, unspecified",
}

LOCATIONS: dict[int, str] = {
    0: "user",
    1: "private network serving the local user",
    2: "public network serving the local user",
    3: "transit network",
    4: "public network serving the remote user",
    5: "private network serving the remote user",
    7: "international network",
    10: "network beyond interworking point",
}

CLASSES: dict[int, str] = {
    0: "normal event", 1: "normal event", 2: "resource unavailable",
    3: "service or option not available", 4: "service or option not implemented",
    5: "invalid message", 6: "protocol error", 7: "interworking",
}

# names used by the API and tests
UNALLOCATED_NUMBER = 1
NORMAL_CLEARING = 16
USER_BUSY = 17
NO_USER_RESPONDING = 18
NO_ANSWER = 19
CALL_REJECTED = 21
DESTINATION_OUT_OF_ORDER = 27
INVALID_NUMBER_FORMAT = 28
RESPONSE_TO_STATUS_ENQUIRY = 30
NORMAL_UNSPECIFIED = 31
NO_CHANNEL_AVAILABLE = 34
TEMPORARY_FAILURE = 41
CHANNEL_NOT_AVAILABLE = 44
INVALID_CALL_REFERENCE = 81
IDENTIFIED_CHANNEL_DOES_NOT_EXIST = 82
MANDATORY_IE_MISSING = 96
MESSAGE_TYPE_NONEXISTENT = 97
MESSAGE_NOT_COMPATIBLE_OR_NONEXISTENT = 98
IE_NONEXISTENT = 99
INVALID_IE_CONTENTS = 100
MESSAGE_NOT_COMPATIBLE = 101
RECOVERY_ON_TIMER_EXPIRY = 102


def cause_name(value: int) -> str:
    return CAUSES.get(value, f"cause {value}")


def cause_class(value: int) -> str:
    return CLASSES[(value >> 4) & 7]
