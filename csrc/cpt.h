/*
 * Call-progress tone detector (E.180/Q.35 tones and the special information tone).
 *
 * Every 20 ms block of each channel is classified as "no tone" or one of the plan's
 * frequency sets: Hann-windowed correlations over the two 10 ms halves of the block
 * give the power at each plan frequency (ratio to the block energy, and level in
 * dBm0 per component) and, from the phase advance between the halves, the frequency
 * deviation.  Runs of equal blocks (debounced by one block) are segments; segment
 * durations are matched against the cadence table of the plan (the same table the
 * generator plays), cyclically.  A tone is reported once when its cadence locks;
 * it can be reported again after the cadence has been lost.
 *
 * The block front end (cti_corr_*) is shared with the fax tone detector.
 */
#ifndef CTI_CPT_H
#define CTI_CPT_H

#include <stdint.h>
#include "ring.h"

#define CTI_BLOCK 160
#define CTI_HALF 80

/* windowed correlator for one frequency over a 160-sample block (lin8 samples) */
typedef struct {
    int16_t re[CTI_BLOCK], im[CTI_BLOCK];  /* Q12 Hann(80) x cos/-sin, phase-continuous */
    double cos_tol;                        /* accepted cos of the half-to-half phase step */
    double norm;                           /* |X0|^2+|X1|^2 over energy -> ratio 1 for a tone */
} cti_corr_t;

void cti_corr_init(cti_corr_t *k, double freq, double tol_hz);
/* out: re0, im0, re1, im1 */
void cti_corr_run(const cti_corr_t *k, const int16_t *x, int32_t out[4]);
/* energy of the two halves */
void cti_block_energy(const int16_t *x, int32_t out[2]);
/* fraction of the block energy at the correlator's frequency (1 for a pure tone);
 * *freq_ok is 0 when both halves carry the tone and its phase advance is out of tolerance */
double cti_corr_ratio(const cti_corr_t *k, const int32_t c[4], double energy, int *freq_ok);

#define CTI_CPT_MAX_FREQS 8
#define CTI_CPT_MAX_CLASSES 8
#define CTI_CPT_MAX_TONES 16
#define CTI_CPT_MAX_ELEMS 8
#define CTI_CPT_HISTORY 8

typedef struct {
    int nelems;
    int cls[CTI_CPT_MAX_ELEMS];    /* frequency set 1..nclasses, 0 = pause */
    int lo_ms[CTI_CPT_MAX_ELEMS], hi_ms[CTI_CPT_MAX_ELEMS];
    int match;                     /* consecutive segments needed */
    int continuous;                /* one element lasting detect_ms */
    int detect_ms;
} cti_cpt_tone_t;

typedef struct {
    int nfreqs;
    double freq[CTI_CPT_MAX_FREQS], tol_hz[CTI_CPT_MAX_FREQS];
    int nclasses;
    int class_freq[CTI_CPT_MAX_CLASSES + 1][2];  /* frequency indices, -1 = none */
    int ntones;
    cti_cpt_tone_t tone[CTI_CPT_MAX_TONES];
    double min_dbm0, max_dbm0;     /* level of each tone component */
    double min_ratio;              /* share of the block energy in the frequency set */
} cti_cpt_plan_t;

typedef struct {
    int16_t buf[CTI_BLOCK];
    int cur, cur_len, cand, cand_len;    /* lengths in blocks */
    int64_t cur_start, cand_start;
    int hcls[CTI_CPT_HISTORY], hlen[CTI_CPT_HISTORY];
    int64_t hstart[CTI_CPT_HISTORY];
    int nhist, hpos;
    int locked;                          /* tone index reported and still matching, -1 */
} cti_cpt_chan_t;

typedef struct {
    int channels, law, fill;
    int64_t samples;
    cti_cpt_plan_t plan;
    cti_corr_t corr[CTI_CPT_MAX_FREQS];
    double min_power, max_power;         /* lin8 mean square per component */
    cti_cpt_chan_t *ch;
} cti_cpt_t;

int cti_cpt_init(cti_cpt_t *d, int channels, int law, const cti_cpt_plan_t *plan);
void cti_cpt_free(cti_cpt_t *d);
void cti_cpt_process(cti_cpt_t *d, const void *in, int frames, cti_ring_t *ring);
/* forget a channel's segments and lock (a new call on the timeslot) */
void cti_cpt_reset(cti_cpt_t *d, int ch);

#endif
