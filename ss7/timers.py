"""Every SS7 timer the stacks run, as a row: MTP2 (Q.703 12.3), MTP3 (Q.704 16.8, Q.707 5.5), ISUP (Q.764 Annex A),
TUP (Q.724 and the China national TUP specification).

Values are the nominal ones for 64 kbit/s links; a range in the recommendation is noted in the
description and the middle (or the value libss7 and the China spec use) is the default.
"""

from __future__ import annotations

from core.timers import TimerSpec, TimerTable

MTP2_TIMERS = TimerTable([
    TimerSpec("T1", 45.0, "s", "Q.703 12.3", "alignment ready (40-50 s; China 40 s)"),
    TimerSpec("T2", 50.0, "s", "Q.703 12.3", "not aligned (5-50 s)"),
    TimerSpec("T3", 1.5, "s", "Q.703 12.3", "aligned (1-1.5 s)"),
    TimerSpec("T4n", 8.2, "s", "Q.703 12.3", "normal proving period Pn (7.5-9.5 s, 2^16 octets)"),
    TimerSpec("T4e", 0.5, "s", "Q.703 12.3", "emergency proving period Pe (400-600 ms, 2^12 octets)"),
    TimerSpec("T5", 100.0, "ms", "Q.703 12.3", "sending SIB (80-120 ms)"),
    TimerSpec("T6", 5.0, "s", "Q.703 12.3", "remote congestion (3-6 s)"),
    TimerSpec("T7", 1.0, "s", "Q.703 12.3", "excessive delay of acknowledgement (0.5-2 s)"),
])

# Per-network deviations from the defaults above, applied by ss7.stack.Ss7Node(variant=...)
VARIANT_TIMERS: dict[str, dict[str, dict[str, float]]] = {
    "itu": {},
    "china": {"mtp2": {"T1": 40.0}},  # China national MTP: alignment ready T1 = 40 s
}

MTP3_TIMERS = TimerTable([
    TimerSpec("T1", 0.8, "s", "Q.704 16.8", "delay to avoid mis-sequencing on changeover (0.5-1.2 s)"),
    TimerSpec("T2", 1.4, "s", "Q.704 16.8", "waiting for changeover acknowledgement (0.7-2 s)"),
    TimerSpec("T4", 0.8, "s", "Q.704 16.8", "waiting for changeback acknowledgement, first attempt"),
    TimerSpec("T5", 0.8, "s", "Q.704 16.8", "waiting for changeback acknowledgement, second attempt"),
    TimerSpec("T6", 0.8, "s", "Q.704 16.8",
              "delay to avoid mis-sequencing on controlled rerouting (0.5-1.2 s)"),
    TimerSpec("T8", 1.0, "s", "Q.704 16.8",
              "transfer-prohibited inhibition: no further TFP for the destination (0.8-1.2 s)"),
    TimerSpec("T10", 30.0, "s", "Q.704 16.8",
              "waiting to repeat a signalling route set test message (30-60 s)"),
    TimerSpec("T11", 60.0, "s", "Q.704 13.4, 16.8",
              "transfer-restricted timer: a transfer point broadcasts TFR for a destination only "
              "once its route has stayed restricted this long (30-90 s)"),
    TimerSpec("T12", 1.2, "s", "Q.704 16.8", "waiting for uninhibit acknowledgement (0.8-1.5 s)"),
    TimerSpec("T13", 1.2, "s", "Q.704 16.8", "waiting for force uninhibit (0.8-1.5 s)"),
    TimerSpec("T14", 2.5, "s", "Q.704 16.8", "waiting for inhibition acknowledgement (2-3 s)"),
    TimerSpec("T15", 3.0, "s", "Q.704 13.9, 16.8",
              "after a TFC raised the congestion status of a destination's route set (13.7.5): "
              "waiting to start the signalling route set congestion test (2-3 s)"),
    TimerSpec("T16", 2.0, "s", "Q.704 13.9, 16.8",
              "after RCT: waiting for a TFC that says the route set is still congested "
              "(1.4-2 s)"),
    TimerSpec("T17", 1.0, "s", "Q.704 16.8", "delay before restarting initial alignment (0.8-1.5 s)"),
    TimerSpec("T18", 20.0, "s", "Q.704 16.8",
              "restarting SP: supervising link and linkset activation (network dependent)"),
    TimerSpec("T19", 68.0, "s", "Q.704 16.8",
              "after answering an unexpected TRA: further TRA from that point ignored, against "
              "TFP/TFR/TRA ping-pong (67-69 s)"),
    TimerSpec("T20", 60.0, "s", "Q.704 16.8",
              "restarting SP: supervising receipt of all TRA messages (59-61 s)"),
    TimerSpec("T21", 64.0, "s", "Q.704 16.8",
              "SP adjacent to a restarting SP: supervising receipt of its TRA (63-65 s)"),
    TimerSpec("T22", 240.0, "s", "Q.704 16.8", "local inhibit test: repeat LLT (3-6 min)"),
    TimerSpec("T23", 240.0, "s", "Q.704 16.8", "remote inhibit test: repeat LRT (3-6 min)"),
    TimerSpec("SLT_T1", 8.0, "s", "Q.707 5.5", "waiting for SLTA (4-12 s)"),
    TimerSpec("SLT_T2", 60.0, "s", "Q.707 5.5", "interval between SLTMs (30-90 s)"),
])

ISUP_TIMERS = TimerTable([
    TimerSpec("T1", 15.0, "s", "Q.764 A.1", "RLC wait after REL: resend REL (15-60 s)"),
    TimerSpec("T2", 180.0, "s", "Q.764 A.1", "user-initiated suspend (3 min)"),
    TimerSpec("T5", 300.0, "s", "Q.764 A.1", "initial REL with no RLC: send RSC, alert maintenance (5-15 min)"),
    TimerSpec("T6", 60.0, "s", "Q.764 A.1", "network-initiated suspend (Q.118)"),
    TimerSpec("T7", 25.0, "s", "Q.764 A.1", "waiting for ACM or CON (20-30 s)"),
    TimerSpec("T8", 12.0, "s", "Q.764 A.1", "waiting for COT after an IAM asking for a continuity check (10-15 s)"),
    TimerSpec("T9", 120.0, "s", "Q.764 A.1", "waiting for ANM (90-180 s)"),
    TimerSpec("T12", 15.0, "s", "Q.764 A.1", "waiting for BLA (15-60 s)"),
    TimerSpec("T13", 300.0, "s", "Q.764 A.1", "initial BLO with no BLA (5-15 min)"),
    TimerSpec("T14", 15.0, "s", "Q.764 A.1", "waiting for UBA (15-60 s)"),
    TimerSpec("T15", 300.0, "s", "Q.764 A.1", "initial UBL with no UBA (5-15 min)"),
    TimerSpec("T16", 15.0, "s", "Q.764 A.1", "waiting for RLC after RSC (15-60 s)"),
    TimerSpec("T17", 300.0, "s", "Q.764 A.1", "initial RSC with no RLC (5-15 min)"),
    TimerSpec("T18", 15.0, "s", "Q.764 A.1", "waiting for CGBA (15-60 s)"),
    TimerSpec("T19", 300.0, "s", "Q.764 A.1", "initial CGB with no CGBA (5-15 min)"),
    TimerSpec("T20", 15.0, "s", "Q.764 A.1", "waiting for CGUA (15-60 s)"),
    TimerSpec("T21", 300.0, "s", "Q.764 A.1", "initial CGU with no CGUA (5-15 min)"),
    TimerSpec("T22", 15.0, "s", "Q.764 A.1", "waiting for GRA (15-60 s)"),
    TimerSpec("T23", 300.0, "s", "Q.764 A.1", "initial GRS with no GRA (5-15 min)"),
    TimerSpec("T24", 1.5, "s", "Q.764 A.1", "waiting for the continuity check tone to return (< 2 s)"),
    TimerSpec("T25", 5.0, "s", "Q.764 A.1", "first continuity check failed: delay to the first CCR (1-10 s)"),
    TimerSpec("T26", 120.0, "s", "Q.764 A.1", "a continuity recheck failed: delay to the next CCR (1-3 min)"),
    TimerSpec("T27", 240.0, "s", "Q.764 A.1", "after COT failure: waiting for CCR, then RSC (at least 4 min)"),
    TimerSpec("T28", 10.0, "s", "Q.764 A.1", "waiting for CQR after CQM: alert maintenance (10 s)"),
    TimerSpec("T29", 450.0, "ms", "Q.764 2.10.2",
              "congestion indication received: further ones for the destination are ignored (300-600 ms)"),
    TimerSpec("T30", 7.5, "s", "Q.764 2.10.2",
              "no congestion indication for this long: traffic back up one step (5-10 s)"),
    TimerSpec("T34", 3.0, "s", "Q.764 2.1.12",
              "message announcing a segment: waiting for the SGM, then process it alone (2-4 s)"),
    TimerSpec("T35", 15.0, "s", "Q.764 A.1", "overlap: waiting for more address digits (15-20 s)"),
    TimerSpec("T36", 12.0, "s", "Q.764 A.1", "after CCR: waiting for COT or REL, then RSC (10-15 s)"),
    TimerSpec("T_glare", 0.2, "s", "Q.764 2.9.1.4", "non-controlling side back-off before reattempt"),
    TimerSpec("T_acc", 5.0, "s", "Q.764 2.11.2",
              "ACC: traffic toward an exchange stays reduced this long after its last REL with an "
              "automatic congestion level (the amount and duration are a national matter)"),
])

TUP_TIMERS = TimerTable([
    TimerSpec("T_ACM", 25.0, "s", "Q.724 7.4", "waiting for an address-complete or CBK/UNN-type signal (20-30 s)"),
    TimerSpec("T_ANS", 120.0, "s", "Q.724 7.4", "waiting for answer (ANC/ANN) after ACM"),
    TimerSpec("T_RLG", 12.0, "s", "Q.724 7.5", "waiting for RLG after CLF: repeat CLF (4-15 s)"),
    TimerSpec("T_RLG_LONG", 60.0, "s", "Q.724 7.5", "no RLG at all after CLF: alert and send RSC (1 min)"),
    TimerSpec("T_BLA", 12.0, "s", "Q.724 8.2", "waiting for BLA/UBA or a group (un)blocking acknowledgement: repeat (4-15 s)"),
    TimerSpec("T_RSC", 12.0, "s", "Q.724 8.3", "waiting for RLG after RSC, or GRA after GRS (4-15 s)"),
    TimerSpec("T_CLB", 90.0, "s", "China TUP 4.3", "called party cleared (CBK) before calling party clears"),
    # continuity check (Q.724 7); the ranges are those ISUP took over (Q.764 T24, T8, T25-T27)
    TimerSpec("T_CCT", 1.5, "s", "Q.724 7", "outgoing: waiting for the check tone to return (< 2 s)"),
    TimerSpec("T_COT", 12.0, "s", "Q.724 7",
              "incoming: waiting for COT/CCF after an IAM asking for a check, or for CCF/CLF after CCR (10-15 s)"),
    TimerSpec("T_CCR", 5.0, "s", "Q.724 7", "first check failed (CCF): delay to the retest with CCR (1-10 s)"),
    TimerSpec("T_CCR_REPEAT", 120.0, "s", "Q.724 7", "a retest failed: delay to the next CCR (1-3 min)"),
    TimerSpec("T_CCR_WAIT", 240.0, "s", "Q.724 7", "incoming, after CCF: waiting for CCR, then RSC (at least 4 min)"),
    # China national procedures (GF 001-9001; the text is not public: values as for ISUP's ACC)
    TimerSpec("T_acc", 5.0, "s", "China TUP ACC (Q.764 2.11.2)",
              "ACC: traffic toward an exchange stays reduced this long after its last ACC "
              "(the amount and duration are a national matter)"),
    TimerSpec("T_MPM", 60.0, "s", "China TUP MPM",
              "unit charging time: from answer, each unit charges the pulses of the last MPM "
              "(a national tariff matter)"),
])
