"""SS7 codecs: byte vectors from the recommendations, round trips, arbitrary bytes -> typed error."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import DecodeError
from ss7 import decode as ss7decode
from ss7 import isup_codec as C
from ss7.mtp2 import LSSU_CODES, Mtp2DecodeError, decode_su, encode_su, lssu
from ss7.mtp3_codec import (
    VARIANTS,
    decode_msu,
    decode_slt,
    decode_snm,
    encode_msu,
    encode_slt,
    encode_snm,
)


def test_mtp2_header_bits_q703_2_2():
    # BSN 5 BIB 1 -> 0x85; FSN 127 FIB 0 -> 0x7f; LI 0 (FISU)
    assert encode_su(5, 1, 127, 0) == bytes.fromhex("857f00")
    su = decode_su(bytes.fromhex("857f00"))
    assert (su["kind"], su["bsn"], su["bib"], su["fsn"], su["fib"]) == ("FISU", 5, 1, 127, 0)
    # LSSU SIE: LI 1, status field CBA = 010 (Q.703 11.1.2)
    assert lssu("SIE") == bytes.fromhex("ffff0102")
    assert decode_su(bytes.fromhex("ffff0103"))["kind"] == "SIOS"


def test_mtp3_itu_label_q704_2_2():
    # DPC 2, OPC 1, SLS 3: 32 bits, DPC first from the least significant bit
    msu = encode_msu(VARIANTS["itu"], 5, 2, 2, 1, 3, b"")
    assert msu == bytes.fromhex("8502400030")
    assert decode_msu(VARIANTS["itu"], msu)["opc"] == 1


def test_mtp3_china_label_24_bit():
    msu = encode_msu(VARIANTS["china"], 5, 2, 0x123456, 0x654321, 9, b"")
    assert msu == bytes.fromhex("85563412214365" + "09")
    m = decode_msu(VARIANTS["china"], msu)
    assert (m["dpc"], m["opc"], m["sls"]) == (0x123456, 0x654321, 9)


def test_isup_iam_bytes_q763():
    iam = C.encode("IAM", 1, {
        "nature_of_connection": C.nature_of_connection(), "forward_call": C.forward_call(),
        "calling_category": 10, "transmission_medium_requirement": 0,
        "called": C.called_party("1234567"), "calling": C.calling_party("7654321", pres=1)})
    # CIC 1, type 01, NCI 00, FCI 2001, CPC 0a, TMR 00, pointers 02 08, called (6 octets):
    # odd + NAI 3 = 0x83, INN 0 NPI 1 = 0x10, digits 21 43 65 07; optional: calling 0a ...
    assert iam.hex() == "0100010020010a000208068310214365070a0683176745230100"
    assert C.decode(iam)["params"]["calling"]["ind"]["pres"] == 1


def test_isup_rel_cause_q850():
    rel = C.encode("REL", 5, {"cause": C.cause(16)})
    assert rel == bytes.fromhex("05000c0200028090")  # ext|location 0, ext|cause 16


_digits = st.text(alphabet="0123456789", min_size=1, max_size=20)
_params = {
    "IAM": st.builds(lambda d, c, p: {
        "nature_of_connection": C.nature_of_connection(), "forward_call": C.forward_call(),
        "calling_category": 10, "transmission_medium_requirement": 0,
        "called": C.called_party(d), "calling": C.calling_party(c, pres=p)},
        _digits, _digits, st.integers(0, 3)),
    "SAM": st.builds(lambda d: {"subsequent": {"head": {"nai": 0, "odd": len(d) % 2},
                                               "digits": d}}, _digits),
    "ACM": st.just({"backward_call": C.backward_call()}),
    "CPG": st.builds(lambda e: {"event": {"event": e, "restricted": 0}}, st.integers(1, 127)),
    "REL": st.builds(lambda c, loc: {"cause": C.cause(c, loc)}, st.integers(0, 127),
                     st.integers(0, 15)),
    "CFN": st.builds(lambda c: {"cause": C.cause(c, diagnostic=b"\x01")}, st.integers(0, 127)),
    "GRS": st.builds(lambda r: {"range_status": C.range_status(r)}, st.integers(1, 31)),
    "GRA": st.builds(lambda b: {"range_status": C.range_status(len(b) - 1, b)},
                     st.lists(st.integers(0, 1), min_size=2, max_size=32)),
    "CGB": st.builds(lambda b, t: {"cgs_type": {"type": t, "spare": 0},
                                   "range_status": C.range_status(len(b) - 1, b)},
                     st.lists(st.integers(0, 1), min_size=2, max_size=32), st.integers(0, 1)),
    "SUS": st.builds(lambda n: {"suspend_resume": {"network_initiated": n, "spare": 0}},
                     st.integers(0, 1)),
    "CQR": st.builds(lambda s: {"range_status": C.range_status(len(s) - 1),
                                "circuit_state": s},
                     st.lists(st.fixed_dictionaries({
                         "maintenance": st.integers(0, 3), "call": st.integers(0, 3),
                         "hardware": st.integers(0, 3), "spare": st.just(0)}),
                         min_size=1, max_size=32)),
    "SGM": st.fixed_dictionaries({}, optional={n: st.binary(max_size=40)
                                               for n in C.SGM_PARAMS}),
    "FOT": st.fixed_dictionaries({}, optional={"call_reference": st.binary(max_size=7)}),
}


@settings(max_examples=40)
@given(st.sampled_from(sorted(C.MESSAGES)), st.integers(0, 4095), st.data())
def test_isup_round_trip_every_message(name, cic, data):
    spec = C.MESSAGES[name]
    if name in _params:
        params = data.draw(_params[name])
    elif name == "CGBA" or name == "CGU" or name == "CGUA":
        params = data.draw(_params["CGB"])
    elif name == "CQM":
        params = data.draw(_params["GRS"])
    elif name in ("RES",):
        params = data.draw(_params["SUS"])
    else:
        params = {k: data.draw(_FIXED[k]) for k in spec.fixed}
        if "cause" in spec.variable:
            params["cause"] = C.cause(16)
    enc = C.encode(name, cic, params)
    dec = C.decode(enc)
    assert dec["message"] == name and dec["cic"] == cic
    assert C.encode(name, cic, dec["params"]) == enc


_FIXED = {
    "backward_call": st.just(C.backward_call()),
    "information_request": st.integers(0, 0xFFFF),
    "information": st.integers(0, 0xFFFF),
    "continuity": st.integers(0, 1),
}


@settings(max_examples=300)
@given(st.binary(max_size=80))
def test_isup_arbitrary_bytes_give_typed_errors(data):
    try:
        C.decode(data)
    except C.IsupDecodeError as e:
        assert e.offset is not None and e.field


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_mtp2_mtp3_arbitrary_bytes_give_typed_errors(data):
    for fn in (ss7decode.mtp2, ss7decode.mtp3, ss7decode.isup, ss7decode.tup):
        try:
            fn(data)
        except DecodeError:
            pass


@settings(max_examples=60)
@given(st.integers(0, 127), st.integers(0, 1), st.integers(0, 127), st.integers(0, 1),
       st.binary(min_size=0, max_size=273))
def test_mtp2_su_round_trip(bsn, bib, fsn, fib, body):
    if len(body) in (1, 2):
        body = bytes((body[0] % 6,)) + body[1:]
    su = decode_su(encode_su(bsn, bib, fsn, fib, body))
    assert (su["bsn"], su["bib"], su["fsn"], su["fib"], su["body"]) == (bsn, bib, fsn, fib, body)


def test_mtp2_bad_li_is_typed():
    try:
        decode_su(bytes.fromhex("ffff0501"))
    except Mtp2DecodeError as e:
        assert e.field == "li"
    else:
        raise AssertionError("no error")
    assert set(LSSU_CODES) == {"SIO", "SIN", "SIE", "SIOS", "SIPO", "SIB"}


@given(st.sampled_from(["COO", "COA", "CBD", "CBA", "ECO", "ECA", "TFP", "TFA", "TRA", "UPU"]),
       st.integers(0, 127), st.integers(0, 0x3FFF), st.sampled_from(["itu", "china"]))
def test_snm_round_trip(msg, n, pc, variant):
    v = VARIANTS[variant]
    kw = {"fsn": n, "code": n, "dest": pc, "up": 5, "cause": 1}
    out = decode_snm(v, encode_snm(v, msg, **kw))
    assert out["message"] == msg
    for k in ("fsn", "code", "dest"):
        if k in out:
            assert out[k] == kw[k]


def test_slt_round_trip_q707():
    assert decode_slt(encode_slt("SLTA", b"abc"))["pattern"] == b"abc"
    assert encode_slt("SLTM", b"ab") == bytes.fromhex("11206162")


def test_decode_records_for_cti():
    body = encode_msu(VARIANTS["itu"], 5, 2, 2, 1, 1, C.encode("REL", 1, {"cause": C.cause(17)}))
    rec = ss7decode.mtp2(encode_su(0, 1, 0, 1, body))[0]
    assert (rec["layer"], rec["message"], rec["opc"], rec["dpc"], rec["cic"]) == \
        ("isup", "REL", 1, 2, 1)
    assert rec["fields"]["cause"] == 17
    assert ss7decode.mtp2(lssu("SIOS"))[0]["message"] == "SIOS"


def test_decode_tup_record():
    rec = ss7decode.mtp3(bytes.fromhex("84" "0240001000" "11" "0a" "0254" "214305"))[0]
    assert (rec["layer"], rec["message"], rec["cic"], rec["fields"]["called"]) == \
        ("tup", "IAM", 1, "12345")


def _value_strategy(con):
    """A hypothesis strategy of values for one ISUP parameter construct."""
    from construct import Compiled

    from ss7.bitfields import BitFields
    if isinstance(con, BitFields):
        return st.fixed_dictionaries({n: st.integers(0, m) for n, _, m in con.fields})
    if isinstance(con, C.Octet):
        return st.integers(0, 255)
    if isinstance(con, C.AddressNumber):
        head = st.fixed_dictionaries({"nai": st.integers(0, 127), "odd": st.just(0)})
        d = {"head": head, "digits": st.text("0123456789ABCDEF", min_size=0, max_size=20)}
        if con.ind is not None:
            d["ind"] = _value_strategy(con.ind)
        return st.fixed_dictionaries(d)
    if isinstance(con, C.CauseIndicators):
        return st.builds(lambda c, loc, d: C.cause(c, loc, d), st.integers(0, 127),
                         st.integers(0, 15), st.binary(max_size=4))
    assert isinstance(con, Compiled)
    return None


@settings(max_examples=15)
@given(st.data())
def test_every_isup_parameter_round_trips(data):
    from ss7.isup_codec import _BUILD, _PARSE
    for name, (_code, con) in C.PARAMS.items():
        strat = _value_strategy(con)
        if strat is None:  # construct-compiled bodies: raw octets or structured lists
            raw = {"range_status": st.builds(lambda r, s: {"range": r, "status": s},
                                             st.integers(0, 255), st.binary(max_size=4)),
                   "information_request": st.integers(0, 0xFFFF),
                   "information": st.integers(0, 0xFFFF),
                   "circuit_state": st.lists(_value_strategy(C._CIRCUIT_STATE), max_size=32),
                   "message_compatibility": st.lists(
                       _value_strategy(C._COMPAT_INSTR), min_size=1, max_size=2),
                   "parameter_compatibility": st.lists(st.fixed_dictionaries(
                       {"code": st.integers(0, 255),
                        "instr": _value_strategy(C._COMPAT_INSTR)}), min_size=1, max_size=2),
                   }.get(name, st.binary(max_size=8))
            strat = raw
        value = data.draw(strat, label=name)
        encoded = _BUILD[name](value)
        decoded = C._plain(_PARSE[name](encoded))
        assert _BUILD[name](decoded) == encoded, name
