/*
 * Levels in dBm0, input conversion shared by the tone detectors, and three meters:
 *
 *  - level meter: RMS power over a window, in dBm0 (G.711 clause 3.2/3.3 load
 *    capacities: A-law +3.14 dBm0, mu-law +3.17 dBm0);
 *  - talk/silence detector: block energy against a threshold with attack and
 *    hangover, reporting TALK and SILENCE events (record termination, answer detect);
 *  - single-tone meter: frequency and level of a steady sine (O.133-style test tone
 *    measurement, e.g. 1004 Hz at -13 dBm0), reporting TONE events.  A block is a
 *    sine when the three-point identity x[n-1] + x[n+1] = 2 cos(w) x[n] leaves little
 *    residual; the frequency is refined from the phase drift of Hann-windowed block
 *    correlations at that first estimate (insensitive to the periodic quantisation
 *    error of tones commensurate with 8 kHz), the level is the RMS over the run.
 *
 * Samples come channel-major: [channels x frames] of A-law, mu-law or int16 linear.
 */
#ifndef CTI_LEVEL_H
#define CTI_LEVEL_H

#include <stdint.h>
#include "ring.h"

enum cti_law { CTI_LAW_ALAW = 0, CTI_LAW_ULAW = 1, CTI_LAW_LINEAR = 2 };

/* Peak of a 0 dBm0 sine on the int16 scale of g711.h: the load capacity (4096 x 8 for
 * A-law at +3.14 dBm0, 8159 x 4 for mu-law at +3.17 dBm0) scaled down by it. */
#define CTI_DBM0_PEAK_ALAW 22828.9
#define CTI_DBM0_PEAK_ULAW 22656.0

double cti_dbm0_peak(int law);

/* Detector front end: samples / 8 as int16 (A-law exact, mu-law to +-0.5).
 * `in` points at the first sample of one channel. */
void cti_lin8(int law, const void *in, int16_t *out, int n);
/* mean square of lin8 samples of a 0 dBm0 sine */
double cti_lin8_dbm0_power(int law);

/* ---- level meter ---- */
typedef struct {
    int channels, law, window;
    int fill;             /* samples in the current window */
    double *acc;          /* per channel sum of squares (lin8 scale) */
    float *level;         /* per channel last complete window, dBm0 (-99 when silent) */
} cti_level_t;

int cti_level_init(cti_level_t *m, int channels, int law, int window);
void cti_level_free(cti_level_t *m);
/* returns the number of windows completed */
int cti_level_process(cti_level_t *m, const void *in, int frames);

/* ---- talk / silence detector ---- */
typedef struct {
    int state;            /* 0 silence, 1 talk */
    int run;              /* blocks the opposite condition has lasted */
    int64_t run_start;
    int64_t start;        /* start of current state */
} cti_talk_chan_t;

typedef struct {
    int channels, law, block;
    double threshold;     /* block mean square (lin8) */
    int attack, hangover; /* in blocks */
    int fill;
    int64_t samples;
    double *acc;
    cti_talk_chan_t *ch;
} cti_talk_t;

int cti_talk_init(cti_talk_t *t, int channels, int law, double threshold_dbm0,
                  int attack_ms, int hangover_ms);
void cti_talk_free(cti_talk_t *t);
void cti_talk_process(cti_talk_t *t, const void *in, int frames, cti_ring_t *ring);

/* ---- single-tone meter ---- */
typedef struct {
    int16_t buf[160];
    int fill;
    int run;              /* consecutive steady blocks */
    int reported;
    int64_t start;
    double energy;        /* sum of x^2 over the run */
    double c_ref;         /* cos(w) of the first block of the run */
    double p_ref;         /* power of the first block of the run */
    double w_ref;         /* rad/sample the run is demodulated at */
    double rot[2];        /* demodulating rotor e^-j w_ref n, continuous over blocks */
    double prev[2];       /* previous block's windowed correlation */
    double acc[2];        /* sum of X_b conj(X_b-1): its angle is the drift per block */
} cti_tonemeter_chan_t;

typedef struct {
    int channels, law;
    int min_blocks;       /* steady blocks before reporting */
    double min_power;     /* lin8 mean square of the weakest tone measured */
    int64_t samples;
    cti_tonemeter_chan_t *ch;
} cti_tonemeter_t;

int cti_tonemeter_init(cti_tonemeter_t *t, int channels, int law, int min_ms, double min_dbm0);
void cti_tonemeter_free(cti_tonemeter_t *t);
void cti_tonemeter_process(cti_tonemeter_t *t, const void *in, int frames, cti_ring_t *ring);

#endif
