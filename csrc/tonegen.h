/*
 * Tone generator bank: many channels per call, each running a program of steps
 * (up to two sine components with their own peak amplitudes, for a number of samples
 * or until stopped), optionally looping back to a step (cadenced tones, E.180/Q.35).
 * DTMF (Q.23), MFC-R2 (Q.441/Q.454), call-progress plans and test tones are all
 * programs built by the caller.  Sines come from a 32-bit phase accumulator and an
 * linearly interpolated 4096-point sine table (spurious products below -90 dBc).
 * Output channel-major [channels x frames]: A-law, mu-law or int16 linear.
 */
#ifndef CTI_TONEGEN_H
#define CTI_TONEGEN_H

#include <stdint.h>

typedef struct {
    double freq[2];       /* Hz; 0 = component unused */
    double amp[2];        /* peak, int16 scale */
    int32_t samples;      /* duration; < 0 = until stopped */
} cti_tone_step_t;

typedef struct {
    cti_tone_step_t *steps;
    int nsteps;
    int loop_to;          /* step to continue with after the last; -1 = stop */
    int cur;              /* current step, -1 = idle */
    int32_t left;         /* samples left in the current step */
    uint32_t phase[2], inc[2];
    float amp[2];
} cti_tonegen_chan_t;

typedef struct {
    int channels, law;    /* law: enum cti_law of level.h */
    cti_tonegen_chan_t *ch;
} cti_tonegen_t;

int cti_tonegen_init(cti_tonegen_t *g, int channels, int law);
void cti_tonegen_free(cti_tonegen_t *g);
/* copy a program onto a channel and start it; 0, or -1 on bad arguments / no memory */
int cti_tonegen_set(cti_tonegen_t *g, int ch, const cti_tone_step_t *steps, int n, int loop_to);
void cti_tonegen_stop(cti_tonegen_t *g, int ch);
int cti_tonegen_busy(const cti_tonegen_t *g, int ch);
/* out: uint8 [channels x frames] for A-law/mu-law, int16 for linear */
void cti_tonegen_process(cti_tonegen_t *g, void *out, int frames);

#endif
