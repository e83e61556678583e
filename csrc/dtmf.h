/* DTMF receiver (ITU-T Q.23 frequencies, Q.24 detection bounds) and the sub-block
 * tone bank it shares with the MFC-R2 receiver (r2mf.h).
 *
 * Tone bank: every channel's signal is cut into sub-blocks of CTI_TB_M samples (5 ms).
 * Each sub-block gives its energy and a complex DFT value per bin (direct correlation
 * with e^{-jwn}, no recursion, so it vectorises).  A span is the last CTI_TB_SPAN
 * sub-blocks (20 ms, N = 160): bins are selected on the two 15 ms windows of the span,
 * the candidate's frequency offset is the phase advance between those windows
 * (unambiguous within +-fs/2M = +-100 Hz), and its power is the span DFT taken at the
 * estimated frequency (rotation of the sub-block values, corrected for the in-block
 * sinc loss).  So energy ratios, twist and level are measured on the true tone, and
 * frequency discrimination does not depend on bin width.
 *
 * Levels (G.711 load capacities): 0 dBm0 is a sine of peak 22827 for A-law decoded x8
 * and for linear input, 22656 for mu-law decoded x4; mu-law is rescaled to the A-law
 * reference in the decoding table, so every threshold is in dBm0 whatever the law.
 * Plain C99, no Python.  Blocks are channel-major [channels x stride]. */
#ifndef CTI_DTMF_H
#define CTI_DTMF_H
#include <stdint.h>
#include "ring.h"

#define CTI_TB_M 40     /* samples per sub-block */
#define CTI_TB_SPAN 4   /* sub-blocks per analysis span */
#define CTI_TB_NF 8     /* bins per bank */
#define CTI_TB_RATE 8000.0f
#define CTI_DBM0_PEAK 22827.0f       /* 0 dBm0 sine peak, A-law and linear (+3.14 dBm0 = 32768) */
#define CTI_DBM0_PEAK_ULAW 22656.0f  /* the same for mu-law decoded x4 (+3.17 dBm0 = 32636) */

enum cti_law { CTI_LAW_ALAW = 0, CTI_LAW_ULAW = 1, CTI_LAW_LINEAR = 2 };

typedef struct {
    int nf;                                   /* bins in use (<= CTI_TB_NF) */
    float freq[CTI_TB_NF];                    /* Hz */
    float tab[CTI_TB_M][2 * CTI_TB_NF];       /* [n][cos w_f n ..., -sin w_f n ...] */
    float rr[CTI_TB_NF], ri[CTI_TB_NF];       /* e^{-j w_f M} */
    float gate_sub;                           /* sub-blocks below this energy skip the DFT */
    float lut[256];                           /* law code -> linear */
    uint8_t mag_mask, quiet_mag;              /* see quiet() in dtmf.c */
    int law;
} cti_tonebank_t;

typedef struct {
    float pend[CTI_TB_M];                     /* partial sub-block carried between calls */
    int npend;
    uint32_t nsub;                            /* sub-blocks since reset */
    int64_t base;                             /* sample index where sub-block 0 began */
    /* last SPAN sub-blocks: DFT values and energies (both 0 when the sub-block is below
     * the gate; its energy is then not measured) */
    float yr[CTI_TB_SPAN][CTI_TB_NF], yi[CTI_TB_SPAN][CTI_TB_NF], e[CTI_TB_SPAN];
} cti_tbchan_t;

/* bank set-up for nf frequencies and a law; gate_dbm0: per-tone level below which a
 * sub-block is not analysed */
void cti_tonebank_init(cti_tonebank_t *b, const float *freqs, int nf, int law, float gate_dbm0);
float cti_dbm0_power(float dbm0);  /* power (A^2/2) of a sine at dbm0 */
void cti_tbchan_reset(cti_tbchan_t *c, int64_t base);
/* Feed one channel: calls span(ctx, ch, c) after each completed sub-block once the
 * channel has a full span.  src is uint8 codes or int16 (law linear). */
typedef void (*cti_span_fn)(void *ctx, int ch, cti_tbchan_t *c);
void cti_tonebank_feed(const cti_tonebank_t *b, cti_tbchan_t *c, const void *src, int frames,
                       cti_span_fn span, void *ctx, int ch);
/* span energy: sum of x^2 over the N = M*SPAN samples of the span */
float cti_tbchan_energy(const cti_tbchan_t *c);

/* the current span seen through the bank: windows A (sub-blocks 0..2, oldest first)
 * and B (1..3) at every bin's nominal frequency, selection energies |A|^2 + |B|^2, the
 * channel's history slots oldest first, the span energy; after cti_tonebank_measure, every
 * bin's frequency offset (estimated minus nominal, Hz) and tone power (A^2/2, linear
 * units^2) compensated to the estimated frequency */
typedef struct {
    float ar[CTI_TB_NF], ai[CTI_TB_NF], br[CTI_TB_NF], bi[CTI_TB_NF], sel[CTI_TB_NF];
    int slot[CTI_TB_SPAN];
    float e;
    float off_hz[CTI_TB_NF], power[CTI_TB_NF];
} cti_span_t;

void cti_tonebank_select(const cti_tonebank_t *b, const cti_tbchan_t *c, cti_span_t *s);
void cti_tonebank_measure(const cti_tonebank_t *b, const cti_tbchan_t *c, cti_span_t *s);
/* sample index where the current span began / ends */
int64_t cti_tbchan_span_start(const cti_tbchan_t *c);
int64_t cti_tbchan_span_end(const cti_tbchan_t *c);

/* ---- DTMF ---- */
typedef struct {
    float min_power;     /* per tone */
    float twist_hi;      /* max P_high/P_low (high group stronger) */
    float twist_lo;      /* max P_low/P_high */
    float freq_tol;      /* max |offset| / nominal */
    float ratio;         /* min (P_low + P_high) / mean power of the span */
    int hits;            /* valid spans needed to accept a digit */
    int gap;             /* invalid spans that end a digit */
} cti_dtmf_params_t;

typedef struct {
    int digit;           /* index 0..15 in progress, -1 none */
    int hits, misses;
    int64_t start, end;
} cti_dtmf_track_t;

typedef struct {
    int channels;
    int64_t now;         /* frames processed since creation */
    cti_tonebank_t bank;
    cti_dtmf_params_t p;
    cti_tbchan_t *chan;
    cti_dtmf_track_t *track;
    uint8_t *enabled;
    cti_ring_t ring;
} cti_dtmf_t;

extern const char cti_dtmf_digits[16];  /* "123A456B789C*0#D" by low row, high column */

void cti_dtmf_default_params(cti_dtmf_params_t *p);
int cti_dtmf_init(cti_dtmf_t *d, int channels, int law);  /* 0, or -1 on bad args/no memory */
void cti_dtmf_free(cti_dtmf_t *d);
/* in: channel-major [channels x stride], uint8 codes or int16 samples */
void cti_dtmf_process(cti_dtmf_t *d, const void *in, int64_t stride, int frames);
void cti_dtmf_finish(cti_dtmf_t *d);       /* close digits in progress */
void cti_dtmf_reset(cti_dtmf_t *d, int ch);
void cti_dtmf_set_enabled(cti_dtmf_t *d, int ch, int on);
#endif
