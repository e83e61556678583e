/*
 * Fax and modem tone detector: CNG (T.30 clause 5.2: 1100 Hz +-38 Hz, 0.5 s on, 3 s
 * off), CED (T.30: 2100 Hz +-15 Hz, 2.6-4.0 s) and the V.25 answer tone with phase
 * reversals every 450 +-25 ms (clause 5.2.2: the echo-canceller disabling form, also
 * G.165/G.168's disabling tone).
 *
 * 20 ms blocks through the shared correlator front end of cpt.h; a run of 1100 Hz
 * blocks lasting 0.5 s (+-15 %, +-40 ms) is reported as CNG when it ends; a run of 2100
 * Hz lasting at least CTI_FAX_ANS_MIN_MS is reported when it ends (or at finish) as
 * CED, or as ANS with the number of phase reversals seen.  Reversals are found from
 * the phase of successive 10 ms correlations two halves apart (a steady tone advances
 * by a constant angle; a reversal adds pi), at most one per 300 ms.
 */
#ifndef CTI_FAXTONE_H
#define CTI_FAXTONE_H

#include <stdint.h>
#include "cpt.h"
#include "ring.h"

#define CTI_FAX_CNG 1
#define CTI_FAX_CED 2
#define CTI_FAX_ANS 3

#define CTI_FAX_CNG_MIN_MS 385          /* 500 ms -15 % -40 ms */
#define CTI_FAX_CNG_MAX_MS 615          /* 500 ms +15 % +40 ms */
#define CTI_FAX_ANS_MIN_MS 2300         /* 2.6 s -10 %, less one block each side */
#define CTI_FAX_REVERSAL_GAP_MS 300     /* 450 +-25 ms between reversals, V.25 */

typedef struct {
    int16_t buf[CTI_BLOCK];
    int cls, len, cand, cand_len;       /* class: 0 none, 1 1100 Hz, 2 2100 Hz; blocks */
    int64_t start, cand_start;
    double y[2][2];                     /* the two previous 2100 Hz halves (re, im) */
    int ny;
    double rot[2];                      /* tracked steady advance over two halves */
    int have_rot, holdoff;
    int64_t last_rev;
    int reversals;
} cti_fax_chan_t;

typedef struct {
    int channels, law, fill;
    int64_t samples, blocks;
    cti_corr_t cng, ans;
    double min_power, min_half;
    cti_fax_chan_t *ch;
} cti_fax_t;

int cti_fax_init(cti_fax_t *d, int channels, int law, double min_dbm0);
void cti_fax_free(cti_fax_t *d);
void cti_fax_process(cti_fax_t *d, const void *in, int frames, cti_ring_t *ring);
/* forget a channel's tone in progress (a new call on the timeslot) */
void cti_fax_reset(cti_fax_t *d, int ch);
/* end of input: report 2100 Hz tones still running */
void cti_fax_finish(cti_fax_t *d, cti_ring_t *ring);

#endif
