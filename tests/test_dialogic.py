"""drivers.dialogic unit tests: device names, every termination reason of dx_play,
dx_rec, dx_getdig and dx_dial, the SRL event model, bus routing, CAS bits and events,
and every error path (ATDV_LASTERR values of the R4 headers)."""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import drivers.dialogic as D
from cti.kernel import Kernel
from drivers.base import Signalling, SpanConfig
from drivers.dialogic.api import sr_attach
from drivers.dialogic.media import wav_header
from drivers.dialogic.tables import DialogicError, compile_tpt
from drivers.sim import StationBoard, cabled_pair
from timeslot.audiofile import read_audio
from timeslot.g711 import alaw_decode
from timeslot.tonegen import synth

PCM8A = D.MD_PCM | D.PM_ALAW | D.PM_SR8


@pytest.fixture
def rig():
    kernel = Kernel(virtual=True)
    cas = SpanConfig(signalling=Signalling.CAS)
    far, near = cabled_pair("far", "near", config=cas)
    phones = StationBoard("st", stations=2, system=far.system)
    phones.open()
    kernel.add_ticker(far.system)
    kernel.add_span(far.spans[0])
    rt = sr_attach(kernel)
    voice = rt.add_voice(6)
    dti = rt.add_span(near.spans[0])
    msi = rt.add_stations(phones)
    a, b = D.dx_open("dxxxB1C1"), D.dx_open("dxxxB1C2")
    ts = D.SC_TSINFO()
    D.dx_getxmitslot(a, ts)
    D.dx_listen(b, ts)  # b hears what a sends
    yield SimpleNamespace(kernel=kernel, rt=rt, a=a, b=b, voice=voice, dti=dti, msi=msi,
                          far=far.spans[0], phones=phones)
    kernel.close()


def tpt(*entries):
    """DV_TPT list from (termno, length, flags[, data]) tuples."""
    out = [D.DV_TPT(D.IO_CONT, *e) for e in entries]
    out[-1].tp_type = D.IO_EOT
    return out


def getdig(r, dial: str | None, table, wait: float = 0.0):
    if dial:
        assert D.dx_dial(r.a, dial, None, D.EV_ASYNC) == 0
    dg = D.DV_DIGIT()
    t0 = r.kernel.now()
    n = D.dx_getdig(r.b, table, dg, D.EV_SYNC)
    return n, dg.dg_value, D.ATDX_TERMMSK(r.b), r.kernel.now() - t0


def test_device_names_numbering_and_handles(rig):
    assert rig.voice == ["dxxxB1C1", "dxxxB1C2", "dxxxB1C3", "dxxxB1C4", "dxxxB2C1", "dxxxB2C2"]
    assert rig.dti[0] == "dtiB1T1" and rig.dti[-1] == "dtiB1T30" and len(rig.dti) == 30
    assert rig.msi == ["msiB1C1", "msiB1C2"]
    assert rig.rt.names["dtiB1T16"].timeslot == 17  # E1 TS16 carries CAS: T16 is TS17
    assert D.dx_open("dxxxB1C1") == rig.a  # opening twice gives the same handle
    assert D.ATDV_NAMEP(rig.b) == "dxxxB1C2"
    for bad, opener in (("dxxxB3C1", D.dx_open), ("dtiB1C1", D.dt_open), ("dxxxB1C1", D.dt_open),
                        ("msiB1C3", D.ms_open), ("", D.dx_open)):
        assert opener(bad) == -1
        assert D.ATDV_LASTERR(D.SRL_DEVICE) in (D.EDX_BADDEV, D.EDT_BADDEV, D.E_MSBADDEV)
        assert repr(bad) in D.ATDV_ERRMSGP(D.SRL_DEVICE)
    h = D.dx_open("dxxxB2C2")
    assert D.dx_close(h) == 0 and D.dx_close(h) == -1
    assert D.ATDV_LASTERR(D.SRL_DEVICE) == D.EDX_BADDEV
    assert D.dt_close(rig.a) == -1  # a voice handle is not a dti device


def test_getdig_max_digits_and_digit_mask(rig):
    n, got, term, _ = getdig(rig, "12345", tpt((D.DX_MAXDTMF, 3, D.TF_MAXDTMF)))
    assert (n, got, term) == (4, "123", D.TM_MAXDTMF)  # EV_SYNC: digits + 1 (R4's NUL)
    rig.kernel.run_for(0.6)
    assert D.ATDX_BUFDIGS(rig.b) == 2  # "45" stay buffered for the next call
    assert D.dx_clrdigbuf(rig.b) == 0 and D.ATDX_BUFDIGS(rig.b) == 0
    _, got, term, _ = getdig(rig, "12#45", tpt((D.DX_MAXDTMF, 10, D.TF_MAXDTMF),
                                                (D.DX_DIGMASK, D.DM_P | D.DM_S, D.TF_DIGMASK)))
    assert (got, term) == ("12#", D.TM_DIGIT)  # the terminating digit is returned
    rig.kernel.run_for(0.5)
    D.dx_clrdigbuf(rig.b)
    _, got, term, _ = getdig(rig, "345", tpt((D.DX_DIGTYPE, 0, D.TF_DIGTYPE, D.DG_DTMF << 8 | ord("4")),
                                              (D.DX_MAXTIME, 50, D.TF_MAXTIME)))
    assert (got, term) == ("34", D.TM_DIGIT)


def test_getdig_timers(rig):
    _, got, term, took = getdig(rig, None, tpt((D.DX_MAXTIME, 20, D.TF_MAXTIME)))
    assert (got, term) == ("", D.TM_MAXTIME) and abs(took - 2.0) <= 0.021
    _, _, term, took = getdig(rig, None, tpt((D.DX_MAXTIME, 50, D.TF_MAXTIME | D.TF_10MS)))
    assert term == D.TM_MAXTIME and abs(took - 0.5) <= 0.021
    # the inter-digit timer runs from the start of the function (a first-digit timeout) ...
    _, got, term, took = getdig(rig, None, tpt((D.DX_IDDTIME, 15, D.TF_IDDTIME)))
    assert (got, term) == ("", D.TM_IDDTIME) and abs(took - 1.5) <= 0.021
    # ... with its own initial value under TF_SETINIT ...
    _, _, term, took = getdig(rig, None, tpt((D.DX_IDDTIME, 30, D.TF_SETINIT, 5)))
    assert term == D.TM_IDDTIME and abs(took - 0.5) <= 0.021
    # ... or only from the first digit under TF_FIRST
    _, _, term, took = getdig(rig, None, tpt((D.DX_IDDTIME, 5, D.TF_FIRST), (D.DX_MAXTIME, 20, 0)))
    assert term == D.TM_MAXTIME and abs(took - 2.0) <= 0.021
    _, got, term, took = getdig(rig, "78", tpt((D.DX_IDDTIME, 10, D.TF_FIRST), (D.DX_MAXDTMF, 5, 0)))
    assert (got, term) == ("78", D.TM_IDDTIME) and 1.3 <= took <= 1.6  # 2 digits + 1 s


def test_play_end_of_data_digit_level_and_stop(rig):
    prompt = synth(600.0, seconds=1.0, level=-10.0).tobytes()
    iott = D.DX_IOTT(D.IO_MEM | D.IO_EOT, io_bufp=prompt)
    assert D.dx_play(rig.b, iott, None, PCM8A) == 0  # EV_SYNC: returns when done
    assert D.ATDX_TERMMSK(rig.b) == D.TM_EOD and D.ATDX_TRCOUNT(rig.b) == 8000
    assert D.ATDX_STATE(rig.b) == D.CS_IDLE
    stop_on_hash = tpt((D.DX_DIGMASK, D.DM_P, D.TF_DIGMASK))
    D.dx_dial(rig.a, "#", None, D.EV_ASYNC)
    assert D.dx_play(rig.b, iott, stop_on_hash, PCM8A) == 0
    assert D.ATDX_TERMMSK(rig.b) == D.TM_DIGIT and 0 < D.ATDX_TRCOUNT(rig.b) < 8000
    assert D.ATDX_BUFDIGS(rig.b) == 1  # the digit stays in the buffer ...
    assert D.sr_waitevt(1000) == 0 and (D.sr_getevttype(), D.sr_getevtdev()) == (D.TDX_DIAL, rig.a)
    assert D.dx_play(rig.b, iott, stop_on_hash, PCM8A) == 0  # ... so TF_LEVEL ends at once
    assert D.ATDX_TERMMSK(rig.b) == D.TM_DIGIT and D.ATDX_TRCOUNT(rig.b) == 0
    D.dx_clrdigbuf(rig.b)
    assert D.dx_play(rig.b, iott, tpt((D.DX_DIGMASK, D.DM_P, D.TF_EDGE)), D.EV_ASYNC | PCM8A) == 0
    assert D.ATDX_STATE(rig.b) == D.CS_PLAY
    rig.kernel.run_for(0.3)
    assert D.dx_stopch(rig.b, D.EV_ASYNC) == 0
    assert D.sr_waitevt(0) == 0 and (D.sr_getevttype(), D.sr_getevtdev()) == (D.TDX_PLAY, rig.b)
    assert D.ATDX_TERMMSK(rig.b) == D.TM_USRSTOP
    assert D.dx_play(rig.b, iott, tpt((D.DX_MAXTIME, 4, 0)), PCM8A) == 0
    assert D.ATDX_TERMMSK(rig.b) == D.TM_MAXTIME and D.ATDX_TRCOUNT(rig.b) == 3200


def test_play_from_files_vox_offset_and_wave(rig, tmp_path):
    tone = synth(1000.0, seconds=0.5, level=-10.0)
    vox = tmp_path / "p.vox"
    vox.write_bytes(bytes(800) + tone.tobytes())
    wav = tmp_path / "p.wav"
    linear = alaw_decode(tone)
    wav.write_bytes(wav_header("linear", 2 * len(linear)) + linear.astype("<i2").tobytes())
    rec = bytearray(16000)
    sink = D.DX_IOTT(D.IO_MEM | D.IO_EOT, io_bufp=rec)
    fds = [os.open(vox, os.O_RDONLY), os.open(wav, os.O_RDONLY)]
    try:
        assert D.dx_rec(rig.b, sink, tpt((D.DX_MAXTIME, 20, 0)), D.EV_ASYNC | PCM8A) == 0
        src = D.DX_IOTT(D.IO_DEV | D.IO_CONT, io_fhandle=fds[0], io_offset=800)
        assert D.dx_play(rig.a, [src, D.DX_IOTT(D.IO_DEV | D.IO_EOT, io_fhandle=fds[0], io_offset=800)],
                         None, PCM8A) == 0
        assert D.ATDX_TRCOUNT(rig.a) == 8000
        wave = D.DX_XPB(D.FILE_FORMAT_WAVE, 0, 8000, 0)
        assert D.dx_playiottdata(rig.a, D.DX_IOTT(D.IO_DEV | D.IO_EOT, io_fhandle=fds[1]), None, wave) == 0
        assert D.ATDX_TRCOUNT(rig.a) == 4000
        assert D.sr_waitevt(2000) == 0 and D.sr_getevttype() == D.TDX_RECORD
    finally:
        for fd in fds:
            os.close(fd)
    assert D.ATDX_TERMMSK(rig.b) & D.TM_MAXTIME and D.ATDX_TRCOUNT(rig.b) == 16000
    heard = np.frombuffer(bytes(rec), np.uint8)
    lin = alaw_decode(heard).astype(float)
    assert np.sqrt(np.mean(lin[:8000] ** 2)) > 1000  # the tone came through both plays


def test_record_silence_nonsilence_eod_and_wave_file(rig, tmp_path):
    tone = synth(800.0, seconds=1.0, level=-10.0).tobytes()
    buf = bytearray(80000)
    sink = D.DX_IOTT(D.IO_MEM | D.IO_EOT, io_bufp=buf)
    D.dx_rec(rig.b, sink, tpt((D.DX_MAXSIL, 10, D.TF_MAXSIL)), D.EV_ASYNC | PCM8A)
    D.dx_play(rig.a, D.DX_IOTT(D.IO_MEM | D.IO_EOT, io_bufp=tone), None, PCM8A)
    assert D.sr_waitevt(5000) == 0 and D.sr_getevttype() == D.TDX_RECORD
    assert D.ATDX_TERMMSK(rig.b) == D.TM_MAXSIL and 15000 <= D.ATDX_TRCOUNT(rig.b) <= 17000
    # TF_SETINIT: a shorter initial silence before anything was heard
    D.dx_rec(rig.b, sink, tpt((D.DX_MAXSIL, 30, D.TF_SETINIT, 5)), PCM8A)
    assert D.ATDX_TERMMSK(rig.b) == D.TM_MAXSIL and D.ATDX_TRCOUNT(rig.b) <= 4800
    D.dx_play(rig.a, D.DX_IOTT(D.IO_MEM | D.IO_EOT, io_bufp=tone), None, D.EV_ASYNC | PCM8A)
    D.dx_rec(rig.b, sink, tpt((D.DX_MAXNOSIL, 5, D.TF_MAXNOSIL)), PCM8A)
    assert D.ATDX_TERMMSK(rig.b) == D.TM_MAXNOSIL
    assert D.sr_waitevt(2000) == 0 and D.sr_getevttype() == D.TDX_PLAY
    small = bytearray(3000)
    D.dx_rec(rig.b, [D.DX_IOTT(D.IO_MEM | D.IO_CONT, io_bufp=small, io_length=1000),
                     D.DX_IOTT(D.IO_MEM | D.IO_EOT, io_bufp=small, io_offset=1000)], None, PCM8A)
    assert D.ATDX_TERMMSK(rig.b) == D.TM_EOD and D.ATDX_TRCOUNT(rig.b) == 3000
    path = tmp_path / "r.wav"
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        D.dx_play(rig.a, D.DX_IOTT(D.IO_MEM | D.IO_EOT, io_bufp=tone), None, D.EV_ASYNC | PCM8A)
        xpb = D.DX_XPB(D.FILE_FORMAT_WAVE, D.DATA_FORMAT_MULAW, 8000, 8)
        assert D.dx_reciottdata(rig.b, D.DX_IOTT(D.IO_DEV | D.IO_EOT, io_fhandle=fd),
                                tpt((D.DX_MAXTIME, 5, 0)), xpb) == 0
    finally:
        os.close(fd)
    samples, law = read_audio(path)
    assert law == "ulaw" and len(samples) == 4000


def test_cst_events_digits_and_silence(rig):
    assert D.dx_setevtmsk(rig.b, D.DM_DIGITS | D.DM_SILON | D.DM_SILOF) == 0
    D.dx_dial(rig.a, "7", None, D.EV_ASYNC)
    seen = []
    while D.sr_waitevt(1000) == 0:
        if D.sr_getevttype() == D.TDX_CST:
            cst = D.sr_getevtdatap()
            seen.append((cst.cst_event, cst.cst_data))
            assert D.sr_getevtlen() == 4 and D.sr_getevtdev() == rig.b
    assert seen == [(D.DE_SILOF, 0), (D.DE_DIGITS, ord("7")), (D.DE_SILON, 0)]
    assert D.dx_setevtmsk(rig.b, D.DM_RINGS) == -1 and D.ATDV_LASTERR(rig.b) == D.EDX_BADPARM


def test_voice_error_paths(rig):
    iott = D.DX_IOTT(D.IO_MEM | D.IO_EOT, io_bufp=bytes(8000))
    assert D.dx_play(rig.b, iott, None, D.EV_ASYNC | PCM8A) == 0
    assert D.dx_getdig(rig.b, tpt((D.DX_MAXTIME, 1, 0)), D.DV_DIGIT(), D.EV_ASYNC) == -1
    assert D.ATDV_LASTERR(rig.b) == D.EDX_BUSY
    D.dx_stopch(rig.b, D.EV_ASYNC)
    cases = [
        (lambda: D.dx_getdig(rig.b, tpt((D.DX_LCOFF, 1, 0)), D.DV_DIGIT(), 0), D.EDX_BADTPT),
        (lambda: D.dx_getdig(rig.b, tpt((99, 1, 0)), D.DV_DIGIT(), 0), D.EDX_BADTPT),
        (lambda: D.dx_getdig(rig.b, tpt((D.DX_MAXTIME, 0, 0)), D.DV_DIGIT(), 0), D.EDX_BADTPT),
        (lambda: D.dx_getdig(rig.b, tpt((D.DX_MAXDTMF, 40, 0)), D.DV_DIGIT(), 0), D.EDX_BADTPT),
        (lambda: D.dx_getdig(rig.b, [D.DV_TPT(D.IO_CONT, D.DX_MAXTIME, 1)], D.DV_DIGIT(), 0), D.EDX_BADTPT),
        (lambda: D.dx_getdig(rig.b, None, D.DV_DIGIT(), 0), D.EDX_BADTPT),
        (lambda: D.dx_getdig(rig.b, tpt((D.DX_MAXTIME, 1, 0)), "digits", 0), D.EDX_BADPARM),
        (lambda: D.dx_play(rig.b, D.DX_IOTT(D.IO_UIO | D.IO_EOT), None, PCM8A), D.EDX_BADIOTT),
        (lambda: D.dx_play(rig.b, D.DX_IOTT(D.IO_MEM | D.IO_LINK), None, PCM8A), D.EDX_BADIOTT),
        (lambda: D.dx_play(rig.b, D.DX_IOTT(D.IO_MEM | D.IO_EOT), None, PCM8A), D.EDX_BADIOTT),
        (lambda: D.dx_play(rig.b, D.DX_IOTT(D.IO_DEV | D.IO_EOT, io_fhandle=9999), None, PCM8A), D.EDX_SYSTEM),
        (lambda: D.dx_rec(rig.b, iott, None, PCM8A), D.EDX_BADIOTT),  # bytes are read-only
        (lambda: D.dx_play(rig.b, iott, None, D.MD_ADPCM), D.EDX_NOSUPPORT),
        (lambda: D.dx_play(rig.b, iott, None, D.MD_PCM | D.PM_ALAW), D.EDX_NOSUPPORT),  # 6 kHz
        (lambda: D.dx_play(rig.b, iott, None, PCM8A | 0x4), D.EDX_BADPARM),
        (lambda: D.dx_playiottdata(rig.b, iott, None, D.DX_XPB(D.FILE_FORMAT_VOX, 0x4)), D.EDX_NOSUPPORT),
        (lambda: D.dx_playiottdata(rig.b, iott, None, D.DX_XPB(D.FILE_FORMAT_VOX, D.DATA_FORMAT_ALAW, 6000)),
         D.EDX_XPBPARM),
        (lambda: D.dx_playiottdata(rig.b, iott, None, D.DX_XPB(D.FILE_FORMAT_WAVE)), D.EDX_BADWAVEFILE),
        (lambda: D.dx_dial(rig.b, "12x", None, 0), D.EDX_BADPARM),
        (lambda: D.dx_dial(rig.b, "", None, 0), D.EDX_BADPARM),
        (lambda: D.dx_dial(rig.b, "12", object(), 0), D.EDX_NOSUPPORT),
        (lambda: D.dx_listen(rig.b, D.SC_TSINFO(1, [10_000])), D.EDX_SH_BADEXTTS),
        (lambda: D.dx_listen(rig.b, D.SC_TSINFO(2, [1, 2])), D.EDX_BADPARM),
        (lambda: D.dx_getxmitslot(rig.b, None), D.EDX_BADPARM),
    ]
    for call, code in cases:
        assert call() == -1
        assert D.ATDV_LASTERR(rig.b) == code, D.ATDV_ERRMSGP(rig.b)
        assert D.ATDV_ERRMSGP(rig.b)
    assert D.ATDX_STATE(rig.b) == D.CS_IDLE and D.ATDX_TERMMSK(12345) == -1
    assert D.sr_waitevt(0) == 0 and D.sr_getevttype() == D.TDX_PLAY  # the stopped play
    t0 = rig.kernel.now()
    assert D.sr_waitevt(300) == D.SR_TMOUT and abs(rig.kernel.now() - t0 - 0.3) <= 0.021
    assert D.ATDV_LASTERR(D.SRL_DEVICE) == D.ESR_TMOUT


def test_dial_pause_and_sync_dial_posts_no_event(rig):
    t0 = rig.kernel.now()
    assert D.dx_dial(rig.a, "T1,2", None, D.EV_SYNC) == 0
    assert abs(rig.kernel.now() - t0 - 2.4) <= 0.041  # 2 digits x 200 ms + 2 s pause
    _, got, _, _ = getdig(rig, None, tpt((D.DX_MAXDTMF, 2, 0), (D.DX_MAXTIME, 5, 0)))
    assert got == "12"
    assert D.sr_waitevt(0) == D.SR_TMOUT


def test_cas_bits_and_dtev_sig_masks(rig):
    t1 = D.dt_open("dtiB1T1")
    assert D.dt_settssig(t1, D.DTB_ABIT | D.DTB_DBIT, D.DTA_SETMSK) == 0
    rig.kernel.run_for(0.5)
    assert rig.far.cas_rx()[1] == 0b1001
    assert D.dt_settssig(t1, D.DTB_ABIT, D.DTA_SUBMSK) == 0
    assert D.dt_settssig(t1, D.DTB_BBIT, D.DTA_ADDMSK) == 0
    rig.kernel.run_for(0.1)
    assert rig.far.cas_rx()[1] == 0b0101
    assert D.ATDT_TSSGBIT(t1) & 0x0F == D.DTB_BBIT | D.DTB_DBIT
    assert D.dt_settssig(t1, 0, D.DTA_SETMSK) == -1 and D.ATDV_LASTERR(t1) == D.EDT_BADVAL
    assert D.dt_settssig(t1, D.DTB_ABIT, 7) == -1 and D.ATDV_LASTERR(t1) == D.EDT_PARAMERR
    assert D.dt_settssig(t1, 0x10, D.DTA_SETMSK) == -1 and D.ATDV_LASTERR(t1) == D.EDT_PARAMERR
    assert D.dt_setevtmsk(t1, 0x01, D.DTMM_AOFF, D.DTA_SETMSK) == -1
    assert D.dt_setevtmsk(t1, D.DTG_SIGEVT, D.DTMM_AOFF, D.DTA_SETMSK) == 0
    rig.far.cas_tx(1, 0b1101)  # B on: not asked for
    assert D.sr_waitevt(300) == D.SR_TMOUT
    rig.far.cas_tx(1, 0b0101)  # A off
    assert D.sr_waitevt(300) == 0 and D.sr_getevttype() == D.DTEV_SIG and D.sr_getevtdev() == t1
    assert D.sr_getevtdatap() == D.DTC_ABIT | D.DTB_BBIT | D.DTB_DBIT and D.sr_getevtlen() == 2
    assert D.ATDT_TSSGBIT(t1) >> 4 == D.DTB_BBIT | D.DTB_DBIT
    rig.far.cas_tx(1, 0b1101)  # A on: masked out
    assert D.sr_waitevt(300) == D.SR_TMOUT
    assert D.dt_setevtmsk(t1, D.DTG_SIGEVT, D.DTMM_AON, D.DTA_ADDMSK) == 0
    rig.far.cas_tx(1, 0b0101)
    rig.far.cas_tx(2, 0b0101)  # another timeslot: no device watching
    assert D.sr_waitevt(300) == 0 and D.sr_getevtdatap() & D.DTC_ABIT
    assert D.sr_waitevt(300) == D.SR_TMOUT


def test_station_routing_both_ways(rig):
    phone = rig.phones.handsets[0]
    phone.lift()
    ms = D.ms_open("msiB1C1")
    station, res = D.SC_TSINFO(), D.SC_TSINFO()
    assert D.ms_getxmitslot(ms, station) == 0 and D.dx_getxmitslot(rig.a, res) == 0
    assert D.ms_listen(ms, res) == 0 and D.dx_listen(rig.a, station) == 0
    rig.kernel.run_for(0.2)
    phone.clear_received()
    phone.dial("58")
    tone = synth(700.0, seconds=0.5, level=-10.0).tobytes()
    D.dx_play(rig.a, D.DX_IOTT(D.IO_MEM | D.IO_EOT, io_bufp=tone), None, PCM8A)
    _, got, _, _ = getdig(rig, None, tpt((D.DX_MAXTIME, 5, 0)))
    dg = D.DV_DIGIT()
    D.dx_getdig(rig.a, tpt((D.DX_MAXDTMF, 2, 0), (D.DX_MAXTIME, 20, 0)), dg, D.EV_SYNC)
    assert dg.dg_value == "58"
    heard = alaw_decode(phone.received()).astype(float)
    assert np.sqrt(np.mean(heard[:4000] ** 2)) > 1000
    assert D.ms_unlisten(ms) == 0 and D.ms_listen(ms, D.SC_TSINFO(1, [-1])) == -1
    assert D.ATDV_LASTERR(ms) == D.E_MSINVTS


_entry = st.builds(D.DV_TPT, tp_type=st.sampled_from([D.IO_EOT, D.IO_CONT, D.IO_LINK, 0, 7]),
                   tp_termno=st.integers(0, 15), tp_length=st.integers(-2, 70000),
                   tp_flags=st.integers(0, 0x3F), tp_data=st.integers(0, 0xFFFF))


@settings(max_examples=150, deadline=None)
@given(st.lists(_entry, min_size=0, max_size=6))
def test_any_tpt_compiles_or_is_rejected_with_edx_badtpt(entries):
    try:
        t = compile_tpt(entries)
    except DialogicError as err:
        assert err.code == D.EDX_BADTPT and str(err)
    else:
        assert t.max_digits is None or 1 <= t.max_digits <= D.DG_MAXDIGS


def test_linked_tpt_loop_is_rejected():
    e = D.DV_TPT(D.IO_LINK, D.DX_MAXTIME, 1, 0)
    e.tp_nextp = e
    with pytest.raises(DialogicError) as ei:
        compile_tpt(e)
    assert ei.value.code == D.EDX_BADTPT


_iott = st.builds(D.DX_IOTT,
                  io_type=st.sampled_from([D.IO_MEM | D.IO_EOT, D.IO_MEM | D.IO_CONT, D.IO_MEM | D.IO_LINK,
                                           D.IO_DEV | D.IO_EOT, D.IO_UIO | D.IO_EOT, 0x40, D.IO_MEM]),
                  io_fhandle=st.integers(-5, 5000), io_bufp=st.one_of(st.none(), st.binary(max_size=64)),
                  io_offset=st.integers(-3, 100), io_length=st.integers(-3, 100))


@settings(max_examples=100, deadline=None)
@given(entries=st.lists(_iott, max_size=4), mode=st.integers(0, 0xFFFF))
def test_any_iott_and_mode_plays_or_fails_with_an_error_code(entries, mode):
    kernel = Kernel(virtual=True)
    sr_attach(kernel).add_voice(1)
    h = D.dx_open("dxxxB1C1")
    try:
        rc = D.dx_play(h, entries, None, mode | D.EV_ASYNC)
        if rc == -1:
            assert D.ATDV_LASTERR(h) in (D.EDX_BADIOTT, D.EDX_BADPARM, D.EDX_NOSUPPORT, D.EDX_SYSTEM)
            assert D.ATDV_ERRMSGP(h)
        else:
            assert rc == 0 and D.dx_stopch(h, D.EV_ASYNC) == 0
    finally:
        kernel.close()


def test_sr_waitevt_on_real_time():
    kernel = Kernel(virtual=False, block=80)
    sr_attach(kernel).add_voice(2)
    a, b = D.dx_open("dxxxB1C1"), D.dx_open("dxxxB1C2")
    ts = D.SC_TSINFO()
    D.dx_getxmitslot(a, ts)
    D.dx_listen(b, ts)
    try:
        assert D.dx_dial(a, "5", None, D.EV_ASYNC) == 0
        dg = D.DV_DIGIT()
        assert D.dx_getdig(b, tpt((D.DX_MAXDTMF, 1, 0), (D.DX_MAXTIME, 20, 0)), dg, D.EV_ASYNC) == 0
        types = set()
        while len(types) < 2:
            assert D.sr_waitevt(2000) == 0
            types.add(D.sr_getevttype())
        assert types == {D.TDX_DIAL, D.TDX_GETDIG} and dg.dg_value == "5"
    finally:
        kernel.close()


def test_station_ringing_and_hook_events(rig):
    ms = D.ms_open("msiB1C2")
    phone = rig.phones.handsets[1]
    assert D.ms_setevtmsk(ms, D.MSEV_SIGMSK, D.MSMM_OFFHOOK | D.MSMM_ONHOOK, D.DTA_SETMSK) == 0
    phone.answer_after = 2
    assert D.ms_genring(ms, 4, D.EV_ASYNC) == 0
    assert D.ms_genring(ms, 4, D.EV_ASYNC) == -1 and D.ATDV_LASTERR(ms) == D.E_MSBADRNGSTA
    got = []
    while len(got) < 2:
        assert D.sr_waitevt(20_000) == 0
        got.append((D.sr_getevttype(), D.sr_getevtdatap()))
    assert got == [(D.MSEV_RING, D.MSMM_RNGOFFHK), (D.MSEV_SIGEVT, D.MSMM_OFFHOOK)]
    phone.answer_after = None
    phone.hang_up()
    assert D.sr_waitevt(5000) == 0 and (D.sr_getevttype(), D.sr_getevtdatap()) == (D.MSEV_SIGEVT, D.MSMM_ONHOOK)
    assert D.ms_setevtmsk(ms, D.MSEV_SIGMSK, D.MSMM_OFFHOOK, D.DTA_SETMSK) == 0
    phone.lift()
    phone.hang_up(after=0.5)
    assert D.sr_waitevt(5000) == 0 and D.sr_getevtdatap() == D.MSMM_OFFHOOK
    rig.kernel.run_for(1.0)
    assert D.ms_genring(ms, 2, D.EV_SYNC) == -1 and D.ATDV_LASTERR(ms) == D.E_MSBADRNGSTA  # unanswered
    assert phone.rings_heard >= 4 and not rig.phones.ringing(1)
    assert D.ms_genring(ms, 3, D.EV_ASYNC) == 0 and D.ms_stopfn(ms, D.MTF_RING) == 0
    assert D.sr_waitevt(100) == 0 and (D.sr_getevttype(), D.sr_getevtdatap()) == (D.MSEV_NORING, D.MSMM_RNGSTOP)
    assert D.sr_waitevt(100) == D.SR_TMOUT  # the on-hook was masked out
    assert D.ms_genring(ms, 0, D.EV_ASYNC) == -1 and D.ATDV_LASTERR(ms) == D.E_MSINVRNGCNT
    assert D.ms_setevtmsk(ms, D.MSEV_SIGMSK, 0x2, D.DTA_SETMSK) == -1 and D.ATDV_LASTERR(ms) == D.E_MSBADVAL
    assert D.ms_stopfn(ms, 0x01) == -1 and D.ATDV_LASTERR(ms) == D.E_MSBADVAL


def test_record_to_a_file_that_goes_away_ends_with_tdx_error(rig, tmp_path):
    fd = os.open(tmp_path / "r.vox", os.O_RDWR | os.O_CREAT)
    assert D.dx_rec(rig.b, D.DX_IOTT(D.IO_DEV | D.IO_EOT, io_fhandle=fd), None, D.EV_ASYNC | PCM8A) == 0
    rig.kernel.run_for(0.2)
    os.close(fd)
    assert D.sr_waitevt(1000) == 0 and (D.sr_getevttype(), D.sr_getevtdev()) == (D.TDX_ERROR, rig.b)
    assert D.ATDX_TERMMSK(rig.b) & D.TM_ERROR and D.ATDV_LASTERR(rig.b) == D.EDX_SYSTEM
    assert "record" in D.ATDV_ERRMSGP(rig.b) and D.ATDX_STATE(rig.b) == D.CS_IDLE
    fd = os.open(tmp_path / "s.vox", os.O_RDONLY | os.O_CREAT)  # read-only: the first write fails
    try:
        assert D.dx_rec(rig.b, D.DX_IOTT(D.IO_DEV | D.IO_EOT, io_fhandle=fd), None, PCM8A) == -1
        assert D.ATDV_LASTERR(rig.b) == D.EDX_SYSTEM
    finally:
        os.close(fd)


def test_digits_are_buffered_only_while_the_channel_is_open(rig):
    D.dx_dial(rig.a, "12", None, D.EV_SYNC)
    assert D.ATDX_BUFDIGS(rig.b) == 2
    assert D.dx_close(rig.b) == 0
    D.dx_dial(rig.a, "34", None, D.EV_SYNC)
    b = D.dx_open("dxxxB1C2")
    assert D.ATDX_BUFDIGS(b) == 0  # closing cleared the buffer; nothing heard while closed
    D.dx_dial(rig.a, "5", None, D.EV_SYNC)
    assert D.ATDX_BUFDIGS(b) == 1
