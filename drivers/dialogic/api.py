"""The R4 function calls (dxxxlib, dtilib, msilib, srllib) over a :class:`Runtime`.

They keep R4's calling conventions: handles are ints, failures return -1 (AT_FAILURE)
with ATDV_LASTERR/ATDV_ERRMSGP set on the device (or SRL_DEVICE for a bad handle),
EV_ASYNC operations post their completion event for sr_waitevt, EV_SYNC operations run
the kernel loop until they end.  ``sr_waitevt`` drives the kernel (virtual or real time).
"""

from __future__ import annotations

import functools

from drivers.dialogic import constants as C
from drivers.dialogic.media import play_data, record_sinks, xpb_from_mode
from drivers.dialogic.runtime import DtiDevice, MsiDevice, Runtime, to_flags, to_nibble
from drivers.dialogic.tables import (
    DV_DIGIT,
    DX_XPB,
    SC_TSINFO,
    DialogicError,
    compile_tpt,
    tsinfo_slot,
)
from drivers.dialogic.voice import Operation, VoiceChannel

_rt: Runtime | None = None
_STATE = {C.TDX_PLAY: C.CS_PLAY, C.TDX_RECORD: C.CS_RECD, C.TDX_GETDIG: C.CS_GTDIG, C.TDX_DIAL: C.CS_DIAL}
_DIAL_OK = set("0123456789*#ABCDabcd,")


def sr_attach(kernel) -> Runtime:
    """Make a Dialogic runtime for ``kernel`` the current one (R4 libraries are global)."""
    global _rt
    _rt = Runtime(kernel)
    return _rt


def runtime() -> Runtime:
    if _rt is None:
        raise RuntimeError("no Dialogic runtime: call sr_attach(kernel) first")
    return _rt


def _api(fn):
    """Run an R4 call: a DialogicError becomes -1 with ATDV_LASTERR set."""
    @functools.wraps(fn)
    def call(h, *args):
        rt = runtime()
        try:
            return fn(rt, h, *args)
        except DialogicError as err:
            return rt.fail(h, err)
    return call


def _mode(mode: int, allowed: int = 0) -> bool:
    if mode & ~(C.EV_ASYNC | allowed):
        raise DialogicError(C.EDX_BADPARM, f"mode {mode:#x} has unknown bits")
    return not mode & C.EV_ASYNC


def _voice(rt: Runtime, h: int) -> VoiceChannel:
    return rt.device(h, VoiceChannel)[1]


def _run(rt: Runtime, ch: VoiceChannel, op: Operation, sync: bool) -> int:
    if ch.op is not None:
        raise DialogicError(C.EDX_BUSY, f"channel busy ({_STATE[ch.op.kind]} state)")
    if sync:
        done = rt.run_sync(ch, lambda: ch.bank.start(ch, op))
        if done.termmsk & C.TM_ERROR:
            raise DialogicError(C.EDX_SYSTEM, done.error)
        return len(done.got) + 1 if done.kind == C.TDX_GETDIG else 0
    ch.bank.start(ch, op)
    return 0


# --- open/close ---------------------------------------------------------------------------
def dx_open(name: str, oflags: int = 0) -> int:
    rt = runtime()
    try:
        return rt.open(name, "dxxx")
    except DialogicError as err:
        return rt.fail(C.SRL_DEVICE, err)


def dt_open(name: str, oflags: int = 0) -> int:
    rt = runtime()
    try:
        return rt.open(name, "dti")
    except DialogicError as err:
        return rt.fail(C.SRL_DEVICE, DialogicError(C.EDT_BADDEV, str(err)))


def ms_open(name: str, oflags: int = 0) -> int:
    rt = runtime()
    try:
        return rt.open(name, "msi")
    except DialogicError as err:
        return rt.fail(C.SRL_DEVICE, DialogicError(C.E_MSBADDEV, str(err)))


@_api
def dx_close(rt: Runtime, h: int) -> int:
    _voice(rt, h)
    rt.close(h)
    return 0


@_api
def dt_close(rt: Runtime, h: int) -> int:
    rt.device(h, DtiDevice, C.EDT_BADDEV)
    rt.close(h)
    return 0


@_api
def ms_close(rt: Runtime, h: int) -> int:
    rt.device(h, MsiDevice, C.E_MSBADDEV)
    rt.close(h)
    return 0


# --- voice I/O -------------------------------------------------------------------------------
@_api
def dx_playiottdata(rt: Runtime, h: int, iott, tpt, xpb: DX_XPB, mode: int = C.EV_SYNC) -> int:
    ch = _voice(rt, h)
    sync = _mode(mode)
    op = Operation(C.TDX_PLAY, compile_tpt(tpt), data=play_data(iott, xpb, ch.bank.law))
    return _run(rt, ch, op, sync)


@_api
def dx_play(rt: Runtime, h: int, iott, tpt, mode: int = C.EV_SYNC) -> int:
    ch = _voice(rt, h)
    xpb = xpb_from_mode(mode)
    sync = _mode(mode, C.MD_PCM | C.PM_ALAW | C.PM_SR8 | C.MD_NOGAIN)
    op = Operation(C.TDX_PLAY, compile_tpt(tpt), data=play_data(iott, xpb, ch.bank.law))
    return _run(rt, ch, op, sync)


@_api
def dx_reciottdata(rt: Runtime, h: int, iott, tpt, xpb: DX_XPB, mode: int = C.EV_SYNC) -> int:
    ch = _voice(rt, h)
    sync = _mode(mode)
    op = Operation(C.TDX_RECORD, compile_tpt(tpt))
    record_sinks(op, iott, xpb, ch.bank.law)
    return _run(rt, ch, op, sync)


@_api
def dx_rec(rt: Runtime, h: int, iott, tpt, mode: int = C.EV_SYNC) -> int:
    ch = _voice(rt, h)
    xpb = xpb_from_mode(mode)
    sync = _mode(mode, C.MD_PCM | C.PM_ALAW | C.PM_SR8 | C.MD_NOGAIN)
    op = Operation(C.TDX_RECORD, compile_tpt(tpt))
    record_sinks(op, iott, xpb, ch.bank.law)
    return _run(rt, ch, op, sync)


@_api
def dx_getdig(rt: Runtime, h: int, tpt, digitp: DV_DIGIT, mode: int = C.EV_SYNC) -> int:
    """Collect digits into ``digitp.dg_value``; EV_SYNC returns the count + 1 (R4's NUL)."""
    ch = _voice(rt, h)
    if not isinstance(digitp, DV_DIGIT):
        raise DialogicError(C.EDX_BADPARM, "digitp must be a DV_DIGIT")
    if tpt is None:
        raise DialogicError(C.EDX_BADTPT, "dx_getdig needs a DV_TPT")
    sync = _mode(mode)
    return _run(rt, ch, Operation(C.TDX_GETDIG, compile_tpt(tpt), digit_out=digitp), sync)


@_api
def dx_dial(rt: Runtime, h: int, dialstr: str, cap=None, mode: int = C.EV_SYNC) -> int:
    """Send DTMF digits; ',' pauses (DXBD_PAUSETM).  Call progress (DX_CALLP) is not offered."""
    ch = _voice(rt, h)
    if cap is not None:
        raise DialogicError(C.EDX_NOSUPPORT, "call progress analysis (DX_CAP / DX_CALLP) is not supported")
    s = dialstr[1:] if dialstr[:1] in ("T", "t") else dialstr  # 'T': tone dialling (the only kind)
    if not s or not set(s) <= _DIAL_OK:
        raise DialogicError(C.EDX_BADPARM, f"dial string {dialstr!r}: DTMF digits 0-9 * # A-D and ',' only")
    sync = _mode(mode)
    parts, run = [], ""
    for c in s.upper():
        if c == ",":
            parts += [run] if run else []
            parts.append(",")
            run = ""
        else:
            run += c
    parts += [run] if run else []
    return _run(rt, ch, Operation(C.TDX_DIAL, compile_tpt(None), parts=parts), sync)


@_api
def dx_stopch(rt: Runtime, h: int, mode: int = C.EV_ASYNC) -> int:
    """Stop the channel's operation: it ends with TM_USRSTOP (its event is posted)."""
    ch = _voice(rt, h)
    if ch.op is not None:
        ch.bank.finish(ch, C.TM_USRSTOP)
    return 0


@_api
def dx_clrdigbuf(rt: Runtime, h: int) -> int:
    _voice(rt, h).digits.clear()
    return 0


@_api
def dx_setevtmsk(rt: Runtime, h: int, mask: int) -> int:
    """Enable TDX_CST events: DM_DIGITS, DM_SILON, DM_SILOF (others: EDX_BADPARM)."""
    ch = _voice(rt, h)
    if mask & ~(C.DM_DIGITS | C.DM_SILON | C.DM_SILOF):
        raise DialogicError(C.EDX_BADPARM, "a voice resource on the bus reports DM_DIGITS, DM_SILON "
                            "and DM_SILOF; rings and loop current come from dti/msi devices")
    ch.bank.set_evtmask(ch, mask)
    return 0


@_api
def ATDX_TERMMSK(rt: Runtime, h: int) -> int:  # noqa: N802
    return _voice(rt, h).last_termmsk


@_api
def ATDX_STATE(rt: Runtime, h: int) -> int:  # noqa: N802
    ch = _voice(rt, h)
    return C.CS_IDLE if ch.op is None else _STATE[ch.op.kind]


@_api
def ATDX_BUFDIGS(rt: Runtime, h: int) -> int:  # noqa: N802
    return len(_voice(rt, h).digits)


@_api
def ATDX_TRCOUNT(rt: Runtime, h: int) -> int:  # noqa: N802
    """Octets played or recorded by the last operation."""
    return _voice(rt, h).last_transferred


def ATDV_LASTERR(h: int) -> int:  # noqa: N802
    return runtime().errors.get(h, (C.EDX_BADDEV, ""))[0]


def ATDV_ERRMSGP(h: int) -> str:  # noqa: N802
    return runtime().errors.get(h, (C.EDX_BADDEV, "not a device handle"))[1]


def ATDV_NAMEP(h: int) -> str:  # noqa: N802
    entry = runtime().handles.get(h)
    return entry[0] if entry else ""


# --- bus routing ------------------------------------------------------------------------------
def _route(rt: Runtime, slot: int, ts: SC_TSINFO | None, bad: int, param: int = C.EDX_BADPARM) -> None:
    from timeslot.fabric import FabricError

    try:
        if ts is None:
            rt.kernel.fabric.unlisten(slot)
        else:
            src = tsinfo_slot(ts, param)
            if not 0 <= src < rt.kernel.fabric.nslots:
                raise DialogicError(bad, f"bus timeslot {src} does not exist (0..{rt.kernel.fabric.nslots - 1})")
            rt.kernel.fabric.listen(slot, src)
    except FabricError as err:
        raise DialogicError(bad, str(err)) from None


def _xmit(ts: SC_TSINFO, slot: int, bad: int) -> int:
    if not isinstance(ts, SC_TSINFO):
        raise DialogicError(bad, "expected an SC_TSINFO to fill")
    ts.sc_numts, ts.sc_tsarrayp = 1, [slot]
    return 0


@_api
def dx_listen(rt: Runtime, h: int, ts: SC_TSINFO) -> int:
    _route(rt, _voice(rt, h).slot, ts, C.EDX_SH_BADEXTTS)
    return 0


@_api
def dx_unlisten(rt: Runtime, h: int) -> int:
    _route(rt, _voice(rt, h).slot, None, C.EDX_SH_BADEXTTS)
    return 0


@_api
def dx_getxmitslot(rt: Runtime, h: int, ts: SC_TSINFO) -> int:
    return _xmit(ts, _voice(rt, h).slot, C.EDX_BADPARM)


@_api
def dt_listen(rt: Runtime, h: int, ts: SC_TSINFO) -> int:
    _route(rt, rt.device(h, DtiDevice, C.EDT_BADDEV)[1].slot, ts, C.EDT_INVTS, C.EDT_PARAMERR)
    return 0


@_api
def dt_unlisten(rt: Runtime, h: int) -> int:
    _route(rt, rt.device(h, DtiDevice, C.EDT_BADDEV)[1].slot, None, C.EDT_INVTS)
    return 0


@_api
def dt_getxmitslot(rt: Runtime, h: int, ts: SC_TSINFO) -> int:
    return _xmit(ts, rt.device(h, DtiDevice, C.EDT_BADDEV)[1].slot, C.EDT_PARAMERR)


@_api
def ms_listen(rt: Runtime, h: int, ts: SC_TSINFO) -> int:
    _route(rt, rt.device(h, MsiDevice, C.E_MSBADDEV)[1].slot, ts, C.E_MSINVTS, C.E_MSINVTS)
    return 0


@_api
def ms_unlisten(rt: Runtime, h: int) -> int:
    _route(rt, rt.device(h, MsiDevice, C.E_MSBADDEV)[1].slot, None, C.E_MSINVTS)
    return 0


@_api
def ms_getxmitslot(rt: Runtime, h: int, ts: SC_TSINFO) -> int:
    return _xmit(ts, rt.device(h, MsiDevice, C.E_MSBADDEV)[1].slot, C.E_MSINVTS)


# --- CAS (dtilib) ------------------------------------------------------------------------------
def _apply(action: int, old: int, mask: int) -> int:
    if action == C.DTA_SETMSK:
        return mask
    if action == C.DTA_ADDMSK:
        return old | mask
    if action == C.DTA_SUBMSK:
        return old & ~mask
    raise DialogicError(C.EDT_PARAMERR, f"action {action} is not DTA_SETMSK, DTA_ADDMSK or DTA_SUBMSK")


@_api
def dt_settssig(rt: Runtime, h: int, bitmask: int, action: int) -> int:
    """Set the transmitted ABCD bits of the timeslot (DTB_ABIT..DTB_DBIT)."""
    d = rt.device(h, DtiDevice, C.EDT_BADDEV)[1]
    if bitmask & ~0x0F:
        raise DialogicError(C.EDT_PARAMERR, "bitmask takes DTB_ABIT | DTB_BBIT | DTB_CBIT | DTB_DBIT only")
    bits = _apply(action, d.tx_bits, bitmask)
    try:
        d.span.cas_tx(d.timeslot, to_nibble(bits))
    except ValueError as err:
        raise DialogicError(C.EDT_BADVAL, str(err)) from None
    d.tx_bits = bits
    return 0


@_api
def dt_setevtmsk(rt: Runtime, h: int, event: int, bitmask: int, action: int) -> int:
    """DTG_SIGEVT with DTMM_* transitions: post DTEV_SIG when received bits change so."""
    d = rt.device(h, DtiDevice, C.EDT_BADDEV)[1]
    if event != C.DTG_SIGEVT:
        raise DialogicError(C.EDT_PARAMERR, "only DTG_SIGEVT events are offered (alarms: cti diag)")
    if bitmask & ~0x0FFF:
        raise DialogicError(C.EDT_PARAMERR, "bitmask takes DTMM_AON .. DTMM_DOFF only")
    new = _apply(action, d.sigmask, bitmask)
    if new and not d.sigmask:
        d.rx_bits = to_flags(int(d.span.cas_rx()[d.timeslot]))
    d.sigmask = new
    return 0


@_api
def ATDT_TSSGBIT(rt: Runtime, h: int) -> int:  # noqa: N802
    """Transmit (DTSG_XMTA..) and receive (DTSG_RCVA..) bits of the timeslot."""
    d = rt.device(h, DtiDevice, C.EDT_BADDEV)[1]
    return d.tx_bits | to_flags(int(d.span.cas_rx()[d.timeslot])) << 4


# --- stations (msilib) ----------------------------------------------------------------------------
@_api
def ms_setevtmsk(rt: Runtime, h: int, event: int, bitmask: int, action: int) -> int:
    """MSEV_SIGMSK with MSMM_OFFHOOK / MSMM_ONHOOK / MSMM_HOOKFLASH: MSEV_SIGEVT on hook changes."""
    d = rt.device(h, MsiDevice, C.E_MSBADDEV)[1]
    if event != C.MSEV_SIGMSK:
        raise DialogicError(C.E_MSBADVAL, "only MSEV_SIGMSK (hook events) is offered")
    if bitmask & ~(C.MSMM_OFFHOOK | C.MSMM_ONHOOK | C.MSMM_HOOKFLASH):
        raise DialogicError(C.E_MSBADVAL, "bitmask takes MSMM_OFFHOOK, MSMM_ONHOOK, MSMM_HOOKFLASH")
    try:
        d.sigmask = _apply(action, d.sigmask, bitmask)
    except DialogicError as err:
        raise DialogicError(C.E_MSBADVAL, str(err)) from None
    return 0


@_api
def ms_genring(rt: Runtime, h: int, rings: int, mode: int = C.EV_SYNC) -> int:
    """Ring the station up to ``rings`` times (board cadence): MSEV_RING when it is answered,
    MSEV_NORING when the rings run out or ms_stopfn(MTF_RING) stops them.  EV_SYNC returns
    0 when answered, -1 with E_MSBADRNGSTA when not."""
    d = rt.device(h, MsiDevice, C.E_MSBADDEV)[1]
    if not 1 <= rings <= C.MAXRINGS:
        raise DialogicError(C.E_MSINVRNGCNT, f"rings must be 1..{C.MAXRINGS}")
    if d.rings is not None or d.board.handsets[d.station].off_hook:
        raise DialogicError(C.E_MSBADRNGSTA, "can't ring the station: busy (off hook or ringing)")
    sync = _mode(mode)

    def start() -> None:
        d.rings, d.rings_at = rings, d.board.handsets[d.station].rings_heard
        d.board.ring(d.station)

    if not sync:
        start()
        return 0
    if rt.run_ring(h, start) != C.MSEV_RING:
        raise DialogicError(C.E_MSBADRNGSTA, "not answered: the rings ran out or were stopped")
    return 0


@_api
def ms_stopfn(rt: Runtime, h: int, function: int) -> int:
    """MTF_RING: stop ringing the station (MSEV_NORING with MSMM_RNGSTOP)."""
    d = rt.device(h, MsiDevice, C.E_MSBADDEV)[1]
    if function != C.MTF_RING:
        raise DialogicError(C.E_MSBADVAL, "ms_stopfn stops MTF_RING only")
    if d.rings is not None:
        rt.ring_done(h, d, C.MSEV_NORING, C.MSMM_RNGSTOP)
    return 0


# --- SRL ------------------------------------------------------------------------------------------
def sr_waitevt(timeout_ms: int) -> int:
    """Drive the kernel until an event is available; 0, or SR_TMOUT (-1) on time-out."""
    return runtime().waitevt(timeout_ms)


def _cur():
    ev = runtime().current
    if ev is None:
        raise RuntimeError("no current event: sr_waitevt has not returned one")
    return ev


def sr_getevttype() -> int:
    return _cur().type


def sr_getevtdev() -> int:
    return _cur().dev


def sr_getevtdatap():
    return _cur().data


def sr_getevtlen() -> int:
    return _cur().length


__all__ = [n for n in dir() if n.startswith(("dx_", "dt_", "ms_", "sr_", "ATD"))] + ["runtime"]
