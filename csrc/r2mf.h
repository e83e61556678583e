/* MFC-R2 register-signal receiver (ITU-T Q.441 frequencies and signal code, Q.442
 * receiver requirements) on the sub-block tone bank of dtmf.h.
 *
 * A signal is reported twice: at onset, as soon as it is stably present (two valid
 * 20 ms spans, about 25 ms after the tone starts), with end = -1, so the compelled
 * cycle can answer at once; and at its end, with start/end, when it has been absent
 * for `gap` spans (interruptions of 7 ms are bridged, Q.442).  Plain C99, no Python. */
#ifndef CTI_R2MF_H
#define CTI_R2MF_H
#include <stdint.h>
#include "dtmf.h"
#include "ring.h"

typedef struct {
    float min_power;      /* per tone */
    float twist_adj;      /* max power ratio of two adjacent frequencies */
    float twist_other;    /* max power ratio of two non-adjacent frequencies */
    float freq_tol_hz;    /* max |offset| */
    float ratio;          /* min (P_a + P_b) / mean power of the span */
    int hits;             /* valid spans before the onset report */
    int gap;              /* invalid spans that end a signal */
} cti_r2mf_params_t;

typedef struct {
    int signal;           /* 1..15 in progress, 0 none */
    int hits, misses, reported;
    int64_t start, end;
} cti_r2mf_track_t;

typedef struct {
    int channels;
    int kind;             /* CTI_EV_R2F or CTI_EV_R2B */
    int64_t now;
    cti_tonebank_t bank;
    cti_r2mf_params_t p;
    cti_tbchan_t *chan;
    cti_r2mf_track_t *track;
    uint8_t *enabled;
    cti_ring_t ring;
} cti_r2mf_t;

void cti_r2mf_default_params(cti_r2mf_params_t *p);
/* forward: 1 for the forward set (1380..1980 Hz), 0 for backward (1140..540 Hz) */
int cti_r2mf_init(cti_r2mf_t *r, int channels, int forward, int law);
void cti_r2mf_free(cti_r2mf_t *r);
void cti_r2mf_process(cti_r2mf_t *r, const void *in, int64_t stride, int frames);
void cti_r2mf_finish(cti_r2mf_t *r);
void cti_r2mf_reset(cti_r2mf_t *r, int ch);
void cti_r2mf_set_enabled(cti_r2mf_t *r, int ch, int on);
#endif
