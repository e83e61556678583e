"""MFC-R2 variants as data: the ITU base (Q.421 line codes, Q.441 signal meanings) and one
row per national difference (China No.1, Brazil, Mexico, Argentina, Venezuela, Colombia).

A variant is built by applying its rows to a copy of the ITU tables; nothing in the stack
asks "which country is this?" - it looks up meanings.

Line codes are the A and B bits of TS16 as a 2-bit value ``a << 1 | b``; the C and D bits are
static per variant (Q.421 sends C=0 D=1; China No.1 sends C=1 D=1).
Register signals are numbered 1..15 (Q.441 Table 1: 2-out-of-6 combinations).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from core.errors import ConfigError

# ---------------------------------------------------------------------------------------------
# Line signalling, Q.421 Table 1 (digital version, a and b bits; c=0, d=1 in the ITU version)
# ---------------------------------------------------------------------------------------------
ITU_FORWARD_CODES = {"idle": 0b10, "seize": 0b00, "clear_forward": 0b10}
ITU_BACKWARD_CODES = {"idle": 0b10, "seize_ack": 0b11, "answer": 0b01, "clear_back": 0b11,
                      "blocked": 0b11, "forced_release": 0b00}

# ---------------------------------------------------------------------------------------------
# Register signal meanings (Q.441).  Keys are signal numbers; values are meaning names the
# register FSMs understand.  Signals 1..10 of groups I are digits 1..9, 0.
# ---------------------------------------------------------------------------------------------
ITU_GROUP_A = {
    1: "next_digit",            # A-1  send next digit (n+1)
    2: "digit_minus_1",         # A-2  send last but one digit (n-1)
    3: "change_to_b",           # A-3  address complete, changeover to reception of group B
    4: "congestion",            # A-4  congestion in the national network
    5: "category",              # A-5  send calling party's category
    6: "accept_in_a",           # A-6  address complete, charge, set-up speech conditions
    7: "digit_minus_2",         # A-7  send last but two digit (n-2)
    8: "digit_minus_3",         # A-8  send last but three digit (n-3)
    15: "congestion",           # A-15 congestion in an international exchange
}
ITU_GROUP_B = {
    2: "special_info",          # B-2  send special information tone
    3: "busy",                  # B-3  subscriber line busy
    4: "congestion",            # B-4  congestion (after changeover from group A to B)
    5: "unallocated",           # B-5  unallocated number
    6: "accept_charge",         # B-6  subscriber line free, charge
    7: "accept_no_charge",      # B-7  subscriber line free, no charge
    8: "out_of_order",          # B-8  subscriber line out of order
}
ITU_GROUP_C: dict[int, str] = {}  # group C exists only nationally (Mexico)
ITU_GROUP_I = {                 # forward group I, signals other than digits
    12: "ani_restricted",       # I-12 (national use: calling number not available/restricted)
    15: "end",                  # I-15 end of pulsing (ST): end of DNIS or of ANI
}
ITU_GROUP_II = {                # Q.441 Table 5 (forward group II): calling party category
    1: "national_subscriber",
    2: "national_priority",
    3: "test_equipment",
    5: "operator",
    6: "data",
    7: "international_subscriber",
    8: "international_data",
    9: "international_priority",
    10: "international_operator",
}

# Q.850 causes for the outcomes of group A/B signals and of line events.
Q850 = MappingProxyType({
    "normal": 16, "busy": 17, "no_answer": 19, "unallocated": 1, "number_changed": 22,
    "out_of_order": 27, "congestion": 34, "special_info": 41, "collect_rejected": 21,
    "blocked": 44, "protocol_error": 111, "timeout": 102, "glare": 44, "forced_release": 16,
})

# Register/line parameters of the ITU base; variants override individual keys.
ITU_PARAMS: dict[str, Any] = {
    "cd_bits": 0b01,            # Q.421: c=0, d=1
    "ani_order": "after_first_digit",  # when the backward register asks for category + ANI
    "ani_request": 5,           # backward signal asking for the next ANI digit (after category)
    "dnis_end": 15,             # I-15 sent by the forward register after the last DNIS digit
    "ani_end": 15,              # I-15 after the last ANI digit
    "ani_restricted": 12,       # signal sent instead of ANI when presentation is restricted
    "max_dnis": 20, "max_ani": 15,
    "metering_pulse": False,    # clear-back shorter than the metering timer is a charge pulse
}

# ---------------------------------------------------------------------------------------------
# The national rows: (variant, table, key, value).  value None removes a meaning.
# ---------------------------------------------------------------------------------------------
ROWS: tuple[tuple[str, str, Any, Any], ...] = (
    # China No.1 (GF 001-9001 "China No.1 signalling"): C=D=1; A-6 asks for KA + calling number,
    # A-1 asks for the next digit of whichever number is being sent; A-5 is unallocated number.
    ("cn", "params", "cd_bits", 0b11),
    ("cn", "params", "ani_request", 1),
    ("cn", "params", "dnis_end", None),
    ("cn", "group_a", 5, "unallocated"),
    ("cn", "group_a", 6, "category"),
    ("cn", "group_b", 1, "accept_charge"),
    ("cn", "group_b", 2, "busy"),
    ("cn", "group_b", 3, "busy"),          # B-3 busy (long distance) - same outcome
    ("cn", "group_b", 6, "accept_no_charge"),
    ("cn", "group_b", 7, None),
    # Brazil (ANATEL / Telebras 220-250-732)
    ("br", "params", "dnis_end", None),
    ("br", "group_a", 6, None),
    ("br", "group_a", 9, "digit_minus_1"),
    ("br", "group_b", 1, "accept_charge"),
    ("br", "group_b", 2, "busy"),
    ("br", "group_b", 3, "number_changed"),
    ("br", "group_b", 5, "accept_no_charge"),
    ("br", "group_b", 6, "special_info"),
    ("br", "group_b", 7, "unallocated"),
    ("br", "group_ii", 8, "collect_call"),
    # Mexico (Telmex): DNIS first, ANI after; A-6 asks for the category and changes to group C.
    ("mx", "params", "ani_order", "after_dnis"),
    ("mx", "params", "dnis_end", None),
    ("mx", "params", "ani_request", None),
    ("mx", "group_a", 5, None),
    ("mx", "group_a", 6, "category_and_c"),
    ("mx", "group_b", 1, "accept_charge"),
    ("mx", "group_b", 2, "busy"),
    ("mx", "group_b", 5, "accept_no_charge"),
    ("mx", "group_c", 1, "next_ani"),
    ("mx", "group_c", 3, "change_to_b"),
    ("mx", "group_c", 4, "congestion"),
    ("mx", "group_c", 5, "next_digit_and_a"),
    ("mx", "timers", "fwd_step", 30.0),   # Telmex international calls need longer steps
    # Argentina: no end-of-DNIS signal; I-12 ends ANI, I-15 means restricted; metering pulses.
    ("ar", "params", "dnis_end", None),
    ("ar", "params", "ani_end", 12),
    ("ar", "params", "ani_restricted", 15),
    ("ar", "params", "metering_pulse", True),
    # Venezuela: A-9 asks for the next ANI digit; no end-of-DNIS signal.
    ("ve", "params", "ani_request", 9),
    ("ve", "params", "dnis_end", None),
    ("ve", "group_a", 9, "next_ani"),
    # Colombia
    ("co", "group_b", 1, "accept_charge"),
    ("co", "group_b", 2, "busy"),
    ("co", "group_b", 5, "accept_no_charge"),
    ("co", "group_b", 6, "unallocated"),
)

COUNTRIES = {"itu": "ITU-T Q.400-Q.490", "cn": "China No.1", "br": "Brazil", "mx": "Mexico",
             "ar": "Argentina", "ve": "Venezuela", "co": "Colombia"}

_TABLES = ("group_a", "group_b", "group_c", "group_i", "group_ii", "params", "timers")


def _first(table: Mapping[int, str]) -> dict[str, int]:
    """meaning -> lowest signal carrying it (the one we send)."""
    out: dict[str, int] = {}
    for sig in sorted(table):
        out.setdefault(table[sig], sig)
    return out


@dataclass(frozen=True)
class Variant:
    """One national variant: line codes, register signal meanings and parameters."""

    name: str
    country: str
    forward_codes: Mapping[str, int]
    backward_codes: Mapping[str, int]
    group_a: Mapping[int, str]
    group_b: Mapping[int, str]
    group_c: Mapping[int, str]
    group_i: Mapping[int, str]
    group_ii: Mapping[int, str]
    params: Mapping[str, Any]
    timers: Mapping[str, float]   # national timer values (seconds) over r2.timers defaults
    send_a: Mapping[str, int] = field(init=False)
    send_b: Mapping[str, int] = field(init=False)
    send_c: Mapping[str, int] = field(init=False)
    send_ii: Mapping[str, int] = field(init=False)

    def __post_init__(self) -> None:
        send_a = _first(self.group_a)
        ani = self.params["ani_request"]
        if ani is not None:
            send_a.setdefault("next_ani", ani)
        object.__setattr__(self, "send_a", MappingProxyType(send_a))
        object.__setattr__(self, "send_b", MappingProxyType(_first(self.group_b)))
        object.__setattr__(self, "send_c", MappingProxyType(_first(self.group_c)))
        object.__setattr__(self, "send_ii", MappingProxyType(_first(self.group_ii)))

    def abcd(self, ab: int) -> int:
        """The 4-bit ABCD nibble for an AB line code."""
        return (ab << 2) | self.params["cd_bits"]

    def category_signal(self, category: str) -> int:
        if category not in self.send_ii:
            raise ConfigError(f"category {category!r} not in variant {self.name} "
                              f"(known: {', '.join(self.send_ii)})", key="category")
        return self.send_ii[category]



def _build(name: str) -> Variant:
    tables: dict[str, dict] = {
        "group_a": dict(ITU_GROUP_A), "group_b": dict(ITU_GROUP_B), "group_c": dict(ITU_GROUP_C),
        "group_i": dict(ITU_GROUP_I), "group_ii": dict(ITU_GROUP_II), "params": dict(ITU_PARAMS),
        "timers": {}}
    for var, table, key, value in ROWS:
        if var != name:
            continue
        if value is None and table not in ("params", "timers"):
            tables[table].pop(key, None)
        else:
            tables[table][key] = value
    p = tables["params"]
    gi = tables["group_i"]
    # the group I specials follow the parameters (e.g. Argentina swaps I-12 and I-15)
    for sig in list(gi):
        if gi[sig] in ("end", "ani_restricted"):
            del gi[sig]
    for key, meaning in (("ani_end", "end"), ("dnis_end", "end"), ("ani_restricted", "ani_restricted")):
        if p[key] is not None:
            gi[p[key]] = meaning
    return Variant(name, COUNTRIES[name], MappingProxyType(dict(ITU_FORWARD_CODES)),
                   MappingProxyType(dict(ITU_BACKWARD_CODES)),
                   *(MappingProxyType(tables[t]) for t in _TABLES))


VARIANTS: Mapping[str, Variant] = MappingProxyType({n: _build(n) for n in COUNTRIES})


def get(name: str) -> Variant:
    """The variant called ``name`` (case-insensitive), or :class:`ConfigError`."""
    v = VARIANTS.get(name.lower())
    if v is None:
        raise ConfigError(f"unknown MFC-R2 variant (known: {', '.join(VARIANTS)})", key="variant")
    return v
