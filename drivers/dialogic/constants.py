"""Dialogic R4 constants (dxxxlib.h, srllib.h, srltpt.h, dxtables.h, dtilib.h, msilib.h),
with the numeric values of the public R4 headers so ported code and logged values keep
their meaning.  Values we defined ourselves (no public header value could be
established) are listed in :data:`OURS` and in docs/dialogic.md.
"""

from __future__ import annotations

# --- srllib.h: modes, SRL device, time-outs ------------------------------------------
EV_SYNC = 0x0000
EV_ASYNC = 0x8000
EV_ANYEVT = 0xFFFFFFFF
EV_ANYDEV = -1
SRL_DEVICE = 0  # the SRL itself: ATDV_LASTERR(SRL_DEVICE) after sr_waitevt timed out
SR_TMOUT = -1  # sr_waitevt() return on time-out
SR_TMOUTEVT = 0
AT_FAILURE = -1
ESR_NOERR = 0
ESR_TMOUT = 3
ESR_NOTIMP = 9

# --- dxxxlib.h: event types ------------------------------------------------------------
TDX_PLAY = 0x81
TDX_RECORD = 0x82
TDX_GETDIG = 0x83
TDX_DIAL = 0x84
TDX_CALLP = 0x85
TDX_CST = 0x86
TDX_SETHOOK = 0x87
TDX_WINK = 0x88
TDX_ERROR = 0x89

# --- dxxxlib.h: ATDV_LASTERR codes -----------------------------------------------------
EDX_NOERROR = 0
EDX_SYSTEM = 1
EDX_FWERROR = 2
EDX_TIMEOUT = 3
EDX_BADIOTT = 4
EDX_BADTPT = 5
EDX_BADPARM = 6
EDX_BADDEV = 7
EDX_BADPROD = 8
EDX_BUSY = 9
EDX_IDLE = 10
EDX_BADWAVEFILE = 12
EDX_XPBPARM = 13
EDX_NOSUPPORT = 14
EDX_NOTIMP = 15
EDX_SH_BADEXTTS = 0x71  # external (bus) timeslot not usable

# --- dxxxlib.h: channel states (ATDX_STATE) --------------------------------------------
CS_IDLE = 1
CS_PLAY = 2
CS_RECD = 3
CS_DIAL = 4
CS_GTDIG = 5
CS_TONE = 6
CS_STOPD = 7

# --- dxxxlib.h: call status transition events (TDX_CST) and their masks -----------------
DE_RINGS = 1
DE_SILON = 2
DE_SILOF = 3
DE_LCON = 4
DE_LCOF = 5
DE_WINK = 6
DE_RNGOFF = 7
DE_DIGITS = 8
DE_DIGOFF = 9
DE_LCREV = 13
DE_TONEON = 17
DE_TONEOFF = 18
DM_RINGS = 1 << (DE_RINGS - 1)
DM_SILON = 1 << (DE_SILON - 1)
DM_SILOF = 1 << (DE_SILOF - 1)
DM_LCON = 1 << (DE_LCON - 1)
DM_LCOF = 1 << (DE_LCOF - 1)
DM_WINK = 1 << (DE_WINK - 1)
DM_RNGOFF = 1 << (DE_RNGOFF - 1)
DM_DIGITS = 1 << (DE_DIGITS - 1)
DM_DIGOFF = 1 << (DE_DIGOFF - 1)

# --- dxxxlib.h: DTMF digit masks (DX_DIGMASK terminator data) ---------------------------
DM_D = 0x0001
DM_1 = 0x0002
DM_2 = 0x0004
DM_3 = 0x0008
DM_4 = 0x0010
DM_5 = 0x0020
DM_6 = 0x0040
DM_7 = 0x0080
DM_8 = 0x0100
DM_9 = 0x0200
DM_0 = 0x0400
DM_S = 0x0800
DM_P = 0x1000
DM_A = 0x2000
DM_B = 0x4000
DM_C = 0x8000
DIGIT_MASK = {"D": DM_D, "1": DM_1, "2": DM_2, "3": DM_3, "4": DM_4, "5": DM_5, "6": DM_6,
              "7": DM_7, "8": DM_8, "9": DM_9, "0": DM_0, "*": DM_S, "#": DM_P, "A": DM_A,
              "B": DM_B, "C": DM_C}

# --- dxtables.h / srltpt.h: IOTT and TPT entry types ------------------------------------
IO_CONT = 0x01  # next entry follows in the same table (Python: list order)
IO_LINK = 0x02  # next entry is io_nextp / tp_nextp
IO_EOT = 0x04  # last entry
IO_DEV = 0x00  # file descriptor (io_fhandle)
IO_MEM = 0x08  # memory buffer (io_bufp)
IO_UIO = 0x10  # user I/O callbacks (not supported: EDX_BADIOTT)

# --- dxtables.h: terminator numbers (tp_termno) -----------------------------------------
DX_MAXDTMF = 1
DX_MAXSIL = 2
DX_MAXNOSIL = 3
DX_LCOFF = 4
DX_IDDTIME = 5
DX_MAXTIME = 6
DX_DIGMASK = 7
DX_PMOFF = 8
DX_PMON = 9
DX_DIGTYPE = 11
DX_TONE = 12

# --- dxtables.h: terminator flags (tp_flags) --------------------------------------------
TF_EDGE = 0x00
TF_LEVEL = 0x01
TF_CLREND = 0x02
TF_CLRBEG = 0x04
TF_USE = 0x08
TF_SETINIT = 0x10
TF_10MS = 0x20
TF_FIRST = TF_CLREND  # DX_IDDTIME: the timer starts at the first digit
TF_MAXDTMF = TF_LEVEL | TF_USE
TF_MAXSIL = TF_EDGE | TF_USE
TF_MAXNOSIL = TF_EDGE | TF_USE
TF_IDDTIME = TF_EDGE
TF_MAXTIME = TF_EDGE
TF_DIGMASK = TF_LEVEL
TF_DIGTYPE = TF_LEVEL

# --- dxtables.h: ATDX_TERMMSK bits --------------------------------------------------------
TM_NORMTERM = 0x00000
TM_MAXDTMF = 0x00001
TM_MAXSIL = 0x00002
TM_MAXNOSIL = 0x00004
TM_LCOFF = 0x00008
TM_IDDTIME = 0x00010
TM_MAXTIME = 0x00020
TM_DIGIT = 0x00040
TM_PATTERN = 0x00080
TM_USRSTOP = 0x00100
TM_EOD = 0x00200
TM_TONE = 0x02000
TM_ERROR = 0x80000

# --- dxxxlib.h: play/record modes, DV_DIGIT, DX_XPB --------------------------------------
MD_ADPCM = 0x0000
MD_PCM = 0x0100
MD_GAIN = 0x0000
MD_NOGAIN = 0x1000
PM_TONE = 0x0001
RM_TONE = PM_TONE
PM_ALAW = 0x0020
RM_ALAW = PM_ALAW
PM_SR6 = 0x2000
PM_SR8 = 0x4000
RM_SR6 = PM_SR6
RM_SR8 = PM_SR8
DG_MAXDIGS = 31
DG_DTMF = 0
FILE_FORMAT_VOX = 1
FILE_FORMAT_WAVE = 2
DATA_FORMAT_ALAW = 0x3
DATA_FORMAT_MULAW = 0x7
DATA_FORMAT_PCM = 0x8
DATA_FORMAT_DIALOGIC_ADPCM = 0x1
DRT_8KHZ = 0x40

# --- dtilib.h ---------------------------------------------------------------------------
DT_DTI = 0x2000
DTEV_SIG = DT_DTI | 0x4D
DTG_SIGEVT = 0x02
DTA_SETMSK = 0
DTA_ADDMSK = 1
DTA_SUBMSK = 2
DTB_ABIT = 0x01
DTB_BBIT = 0x02
DTB_CBIT = 0x04
DTB_DBIT = 0x08
DTC_ABIT = 0x10
DTC_BBIT = 0x20
DTC_CBIT = 0x40
DTC_DBIT = 0x80
DTMM_AON = DTC_ABIT | DTB_ABIT
DTMM_AOFF = DTC_ABIT | 0x0100
DTMM_BON = DTC_BBIT | DTB_BBIT
DTMM_BOFF = DTC_BBIT | 0x0200
DTMM_CON = DTC_CBIT | DTB_CBIT
DTMM_COFF = DTC_CBIT | 0x0400
DTMM_DON = DTC_DBIT | DTB_DBIT
DTMM_DOFF = DTC_DBIT | 0x0800
DTSG_XMTA = 0x01
DTSG_RCVA = 0x10
EDT_SUCC = 0x00
EDT_PARAMERR = 0x07
EDT_BADDEV = 0x0C
EDT_BADVAL = 0xAC
EDT_INVTS = 0xA7

# --- msilib.h ---------------------------------------------------------------------------
DT_MSI = 0x4000
MSEV_RING = DT_MSI | 0x4D  # ring answered (ring trip)
MSEV_NORING = DT_MSI | 0x4E  # ringing ended unanswered or stopped
MSEV_SIGEVT = DTEV_SIG  # hook event
MSEV_SIGMSK = DTG_SIGEVT  # ms_setevtmsk event class
MSMM_OFFHOOK = 0x0011
MSMM_RNGOFFHK = 0x0004
MSMM_RNGSTOP = 0x0020
MSMM_ONHOOK = 0x0110
MSMM_HOOKFLASH = 0x1000
MSMM_TERM = 0x8000
MTF_RING = 0x8A
MAXRINGS = 0xFF
E_MSSUCC = 0
E_MSBADVAL = 0xAC
E_MSINVTS = 0xC0
E_MSBADRNGSTA = 0xDB
E_MSINVRNGCNT = 0xEA
E_MSBADDEV = EDT_BADDEV  # ours: msilib names no bad-device code; the dtilib value

OURS = ("E_MSBADDEV",)

__all__ = [n for n in dir() if n.isupper()]
