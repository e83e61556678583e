/* Levels, meters and the talk/silence detector, see level.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "g711.h"
#include "level.h"

#define CTI_PI 3.14159265358979323846
#define TALK_BLOCK 80      /* 10 ms energy blocks */
#define TONE_BLOCK 160     /* 20 ms analysis blocks of the tone meter */

double cti_dbm0_peak(int law)
{
    return law == CTI_LAW_ULAW ? CTI_DBM0_PEAK_ULAW : CTI_DBM0_PEAK_ALAW;
}

double cti_lin8_dbm0_power(int law)
{
    double p = cti_dbm0_peak(law) / 8.0;
    return 0.5 * p * p;
}

static int16_t lin8_alaw[256], lin8_ulaw[256];
static int lin8_ready;

static void lin8_tables(void)
{
    int i;
    if (lin8_ready)
        return;
    for (i = 0; i < 256; i++) {
        lin8_alaw[i] = (int16_t) (cti_alaw_to_linear_table[i] / 8);
        lin8_ulaw[i] = (int16_t) (cti_ulaw_to_linear_table[i] / 8);
    }
    lin8_ready = 1;
}

void cti_lin8(int law, const void *in, int16_t *out, int n)
{
    int i;
    if (law == CTI_LAW_LINEAR) {
        const int16_t *x = (const int16_t *) in;
        for (i = 0; i < n; i++)
            out[i] = (int16_t) ((x[i] + 4) >> 3);   /* rounded, no DC bias */
    } else {
        const uint8_t *x = (const uint8_t *) in;
        const int16_t *t = law == CTI_LAW_ULAW ? lin8_ulaw : lin8_alaw;
        if (!lin8_ready)
            lin8_tables();
        for (i = 0; i < n; i++)
            out[i] = t[x[i]];
    }
}

static const uint8_t *chan_ptr(int law, const void *in, int ch, int frames, int offset)
{
    size_t size = law == CTI_LAW_LINEAR ? 2 : 1;
    return (const uint8_t *) in + ((size_t) ch * (size_t) frames + (size_t) offset) * size;
}

static int64_t sumsq(const int16_t *x, int n)
{
    int64_t s = 0;
    int i;
    for (i = 0; i < n; i++)
        s += (int32_t) x[i] * x[i];
    return s;
}

static void emit(cti_ring_t *ring, int ch, int kind, int value, int extra, int64_t start,
                 int64_t end)
{
    cti_event_t ev;
    ev.channel = ch;
    ev.kind = kind;
    ev.value = value;
    ev.extra = extra;
    ev.start = start;
    ev.end = end;
    cti_ring_push(ring, &ev);
}

/* ---------------- level meter ---------------- */

int cti_level_init(cti_level_t *m, int channels, int law, int window)
{
    int i;
    memset(m, 0, sizeof(*m));
    if (channels <= 0 || window <= 0)
        return -1;
    m->channels = channels;
    m->law = law;
    m->window = window;
    m->acc = (double *) calloc((size_t) channels, sizeof(double));
    m->level = (float *) malloc((size_t) channels * sizeof(float));
    if (!m->acc || !m->level) {
        cti_level_free(m);
        return -1;
    }
    for (i = 0; i < channels; i++)
        m->level[i] = -99.0f;
    return 0;
}

void cti_level_free(cti_level_t *m)
{
    free(m->acc);
    free(m->level);
    m->acc = NULL;
    m->level = NULL;
}

int cti_level_process(cti_level_t *m, const void *in, int frames)
{
    int16_t buf[256];
    int done = 0, off = 0, ch;
    double p0 = cti_lin8_dbm0_power(m->law);
    while (off < frames) {
        int n = m->window - m->fill;
        if (n > frames - off)
            n = frames - off;
        if (n > 256)
            n = 256;
        for (ch = 0; ch < m->channels; ch++) {
            cti_lin8(m->law, chan_ptr(m->law, in, ch, frames, off), buf, n);
            m->acc[ch] += (double) sumsq(buf, n);
        }
        m->fill += n;
        off += n;
        if (m->fill == m->window) {
            for (ch = 0; ch < m->channels; ch++) {
                double p = m->acc[ch] / m->window;
                m->level[ch] = p > 0.0 ? (float) (10.0 * log10(p / p0)) : -99.0f;
                if (m->level[ch] < -99.0f)
                    m->level[ch] = -99.0f;
                m->acc[ch] = 0.0;
            }
            m->fill = 0;
            done++;
        }
    }
    return done;
}

/* ---------------- talk / silence ---------------- */

int cti_talk_init(cti_talk_t *t, int channels, int law, double threshold_dbm0,
                  int attack_ms, int hangover_ms)
{
    memset(t, 0, sizeof(*t));
    if (channels <= 0 || attack_ms < 0 || hangover_ms < 0)
        return -1;
    t->channels = channels;
    t->law = law;
    t->block = TALK_BLOCK;
    t->threshold = cti_lin8_dbm0_power(law) * pow(10.0, threshold_dbm0 / 10.0);
    t->attack = (attack_ms * 8 + TALK_BLOCK - 1) / TALK_BLOCK;
    t->hangover = (hangover_ms * 8 + TALK_BLOCK - 1) / TALK_BLOCK;
    if (t->attack < 1)
        t->attack = 1;
    if (t->hangover < 1)
        t->hangover = 1;
    t->acc = (double *) calloc((size_t) channels, sizeof(double));
    t->ch = (cti_talk_chan_t *) calloc((size_t) channels, sizeof(cti_talk_chan_t));
    if (!t->acc || !t->ch) {
        cti_talk_free(t);
        return -1;
    }
    return 0;
}

void cti_talk_free(cti_talk_t *t)
{
    free(t->acc);
    free(t->ch);
    t->acc = NULL;
    t->ch = NULL;
}

/* One 10 ms block decided loud or quiet: the state flips after `attack` loud blocks
 * (talk) or `hangover` quiet blocks (silence); the event starts where the run began. */
static void talk_block(cti_talk_t *t, int ch, int loud, int64_t block_start, cti_ring_t *ring)
{
    cti_talk_chan_t *c = &t->ch[ch];
    int64_t now = block_start + t->block;
    if (loud == c->state) {
        c->run = 0;
        return;
    }
    if (c->run == 0)
        c->run_start = block_start;
    c->run++;
    if (c->run >= (loud ? t->attack : t->hangover)) {
        c->state = loud;
        c->start = c->run_start;
        c->run = 0;
        emit(ring, ch, loud ? CTI_EV_TALK : CTI_EV_SILENCE, 0, 0, c->start, now);
    }
}

void cti_talk_process(cti_talk_t *t, const void *in, int frames, cti_ring_t *ring)
{
    int16_t buf[TALK_BLOCK];
    int off = 0, ch;
    while (off < frames) {
        int n = t->block - t->fill;
        if (n > frames - off)
            n = frames - off;
        for (ch = 0; ch < t->channels; ch++) {
            cti_lin8(t->law, chan_ptr(t->law, in, ch, frames, off), buf, n);
            t->acc[ch] += (double) sumsq(buf, n);
        }
        t->fill += n;
        off += n;
        t->samples += n;
        if (t->fill == t->block) {
            int64_t start = t->samples - t->block;
            for (ch = 0; ch < t->channels; ch++) {
                talk_block(t, ch, t->acc[ch] >= t->threshold * t->block, start, ring);
                t->acc[ch] = 0.0;
            }
            t->fill = 0;
        }
    }
}

/* ---------------- single-tone meter ---------------- */

static double hann160[TONE_BLOCK];
static int hann_ready;

int cti_tonemeter_init(cti_tonemeter_t *t, int channels, int law, int min_ms, double min_dbm0)
{
    memset(t, 0, sizeof(*t));
    if (channels <= 0 || min_ms <= 0)
        return -1;
    t->channels = channels;
    t->law = law;
    t->min_blocks = (min_ms * 8 + TONE_BLOCK - 1) / TONE_BLOCK;
    t->min_power = cti_lin8_dbm0_power(law) * pow(10.0, min_dbm0 / 10.0);
    if (!hann_ready) {
        int n;
        for (n = 0; n < TONE_BLOCK; n++)
            hann160[n] = 0.5 - 0.5 * cos(2.0 * CTI_PI * (n + 0.5) / TONE_BLOCK);
        hann_ready = 1;
    }
    t->ch = (cti_tonemeter_chan_t *) calloc((size_t) channels, sizeof(cti_tonemeter_chan_t));
    return t->ch ? 0 : -1;
}

void cti_tonemeter_free(cti_tonemeter_t *t)
{
    free(t->ch);
    t->ch = NULL;
}

static void tone_report(cti_tonemeter_t *t, int ch, int64_t now, cti_ring_t *ring)
{
    cti_tonemeter_chan_t *c = &t->ch[ch];
    double drift = atan2(c->acc[1], c->acc[0]) / TONE_BLOCK;
    double hz = (c->w_ref + drift) * 8000.0 / (2.0 * CTI_PI);
    double power = c->energy / ((double) c->run * (TONE_BLOCK - 2));
    double dbm0 = 10.0 * log10(power / cti_lin8_dbm0_power(t->law));
    emit(ring, ch, CTI_EV_TONE, (int) floor(hz + 0.5), (int) floor(dbm0 * 100.0 + 0.5),
         c->start, now);
    c->reported = 1;
}

/* Windowed correlation of the block with the channel's rotor (which keeps turning). */
static void demodulate(cti_tonemeter_chan_t *c, double out[2])
{
    double sr = cos(c->w_ref), si = -sin(c->w_ref), re = 0.0, im = 0.0, m;
    int n;
    for (n = 0; n < TONE_BLOCK; n++) {
        double v = hann160[n] * c->buf[n], r0 = c->rot[0];
        re += v * c->rot[0];
        im += v * c->rot[1];
        c->rot[0] = r0 * sr - c->rot[1] * si;
        c->rot[1] = r0 * si + c->rot[1] * sr;
    }
    m = sqrt(c->rot[0] * c->rot[0] + c->rot[1] * c->rot[1]);
    c->rot[0] /= m;
    c->rot[1] /= m;
    out[0] = re;
    out[1] = im;
}

/* One 20 ms block: the three-point identity x[n-1] + x[n+1] = 2 cos(w) x[n] holds
 * exactly for a sine, so cos(w) = S1 / 2 S0 and the residual S2 - S1^2/S0 measures
 * everything that is not one sine (noise, a second tone, a cadence edge).  A run of
 * pure blocks of constant frequency (+-0.005 in cos w) and level (+-1 dB) is a tone. */
static void tone_block(cti_tonemeter_t *t, int ch, int64_t block_start, cti_ring_t *ring)
{
    cti_tonemeter_chan_t *c = &t->ch[ch];
    const int16_t *x = c->buf;
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, cw, p, z[2];
    int n;
    for (n = 1; n < TONE_BLOCK - 1; n++) {
        double y = (double) x[n - 1] + x[n + 1];
        s0 += (double) x[n] * x[n];
        s1 += (double) x[n] * y;
        s2 += y * y;
    }
    p = s0 / (TONE_BLOCK - 2);
    if (p < t->min_power || s2 - s1 * s1 / s0 > 0.02 * s0) {
        c->run = 0;
        c->reported = 0;
        return;
    }
    cw = s1 / (2.0 * s0);
    if (c->run > 0 && (fabs(cw - c->c_ref) > 0.005 || p > 1.26 * c->p_ref
                       || p < 0.79 * c->p_ref)) {
        c->run = 0;
        c->reported = 0;
    }
    if (c->run == 0) {
        c->start = block_start;
        c->energy = 0.0;
        c->c_ref = cw;
        c->p_ref = p;
        c->w_ref = acos(cw < -1.0 ? -1.0 : cw > 1.0 ? 1.0 : cw);
        c->rot[0] = 1.0;
        c->rot[1] = 0.0;
        c->acc[0] = c->acc[1] = 0.0;
    }
    demodulate(c, z);
    if (c->run > 0) {
        c->acc[0] += z[0] * c->prev[0] + z[1] * c->prev[1];
        c->acc[1] += z[1] * c->prev[0] - z[0] * c->prev[1];
    }
    c->prev[0] = z[0];
    c->prev[1] = z[1];
    c->run++;
    c->energy += s0;
    if (!c->reported && c->run >= t->min_blocks)
        tone_report(t, ch, block_start + TONE_BLOCK, ring);
}

void cti_tonemeter_process(cti_tonemeter_t *t, const void *in, int frames, cti_ring_t *ring)
{
    int off = 0, ch;
    while (off < frames) {
        int fill = t->ch[0].fill;
        int n = TONE_BLOCK - fill;
        if (n > frames - off)
            n = frames - off;
        for (ch = 0; ch < t->channels; ch++) {
            cti_lin8(t->law, chan_ptr(t->law, in, ch, frames, off), t->ch[ch].buf + fill, n);
            t->ch[ch].fill = fill + n;
        }
        off += n;
        t->samples += n;
        if (fill + n == TONE_BLOCK) {
            for (ch = 0; ch < t->channels; ch++) {
                tone_block(t, ch, t->samples - TONE_BLOCK, ring);
                t->ch[ch].fill = 0;
            }
        }
    }
}
