/* MFC-R2 receiver; see r2mf.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "r2mf.h"

#define TB_N ((float) CTI_TB_M * CTI_TB_SPAN)
#define TB_SEL_N ((float) CTI_TB_M * (CTI_TB_SPAN - 1)) /* selection window */

/* Q.441 clause 4.2: f0..f5 of each direction; signal n uses the pair below */
static const float r2_forward[6] = {1380.0f, 1500.0f, 1620.0f, 1740.0f, 1860.0f, 1980.0f};
static const float r2_backward[6] = {1140.0f, 1020.0f, 900.0f, 780.0f, 660.0f, 540.0f};

/* Q.441 Table 5 order: (f0,f1)=1, (f0,f2)=2, (f1,f2)=3, (f0,f3)=4, ... (f4,f5)=15 */
static int r2_signal(int a, int b)
{
    return b * (b - 1) / 2 + a + 1;
}

void cti_r2mf_default_params(cti_r2mf_params_t *p)
{
    p->min_power = cti_dbm0_power(-37.0f);       /* Q.442: respond -5..-35 dBm0 per tone */
    p->twist_adj = powf(10.0f, 6.0f / 10.0f);    /* accept 5 dB between adjacent tones */
    p->twist_other = powf(10.0f, 8.0f / 10.0f);  /* accept 7 dB otherwise, reject 20 dB */
    p->freq_tol_hz = 25.0f;                      /* accept +-10 Hz */
    p->ratio = 0.88f;                            /* two tones only: rejects 1 or 3 tones */
    p->hits = 2;                                 /* onset ~25 ms; 7 ms bursts ignored */
    p->gap = 6;                                  /* 7 ms interruptions do not release */
}

static int r2_classify(const cti_r2mf_t *r, const cti_tbchan_t *c)
{
    const cti_r2mf_params_t *p = &r->p;
    cti_span_t s;
    float hi, lo;
    int a = 0, b = 1, f, t;
    if (cti_tbchan_energy(c) < 2.0f * TB_N * p->min_power)
        return 0;
    cti_tonebank_select(&r->bank, c, &s);
    if (s.sel[b] > s.sel[a]) {
        a = 1;
        b = 0;
    }
    for (f = 2; f < 6; f++) {
        if (s.sel[f] > s.sel[a]) {
            b = a;
            a = f;
        } else if (s.sel[f] > s.sel[b]) {
            b = f;
        }
    }
    if (a > b) {
        t = a;
        a = b;
        b = t;
    }
    /* cheap screen, as for DTMF */
    if ((s.sel[a] + s.sel[b]) * (TB_N / (TB_SEL_N * TB_SEL_N)) < 0.25f * p->ratio * s.e)
        return 0;
    cti_tonebank_measure(&r->bank, c, &s);
    if (s.power[a] < p->min_power || fabsf(s.off_hz[a]) > p->freq_tol_hz)
        return 0;
    if (s.power[b] < p->min_power || fabsf(s.off_hz[b]) > p->freq_tol_hz)
        return 0;
    hi = s.power[a] > s.power[b] ? s.power[a] : s.power[b];
    lo = s.power[a] > s.power[b] ? s.power[b] : s.power[a];
    if (hi > (b - a == 1 ? p->twist_adj : p->twist_other) * lo)
        return 0;
    if ((s.power[a] + s.power[b]) * TB_N < p->ratio * s.e)
        return 0;
    return r2_signal(a, b);
}

static void r2_push(cti_r2mf_t *r, int ch, int64_t end)
{
    const cti_r2mf_track_t *t = &r->track[ch];
    cti_event_t ev;
    ev.channel = ch;
    ev.kind = r->kind;
    ev.value = t->signal;
    ev.extra = 0;
    ev.start = t->start;
    ev.end = end;
    cti_ring_push(&r->ring, &ev);
}

static void r2_close(cti_r2mf_t *r, int ch)
{
    cti_r2mf_track_t *t = &r->track[ch];
    if (t->signal && t->reported)
        r2_push(r, ch, t->end);
    t->signal = 0;
    t->hits = t->misses = t->reported = 0;
}

static void r2_span(void *ctx, int ch, cti_tbchan_t *c)
{
    cti_r2mf_t *r = (cti_r2mf_t *) ctx;
    cti_r2mf_track_t *t = &r->track[ch];
    int signal = r2_classify(r, c);
    if (signal) {
        if (signal != t->signal) {
            r2_close(r, ch);
            t->signal = signal;
            t->start = cti_tbchan_span_start(c);
        }
        t->hits++;
        t->misses = 0;
        t->end = cti_tbchan_span_end(c);
        if (!t->reported && t->hits >= r->p.hits) {
            t->reported = 1;
            r2_push(r, ch, -1);
        }
    } else if (t->signal && ++t->misses >= r->p.gap) {
        r2_close(r, ch);
    }
}

int cti_r2mf_init(cti_r2mf_t *r, int channels, int forward, int law)
{
    int ch;
    memset(r, 0, sizeof(*r));
    if (channels <= 0 || law < CTI_LAW_ALAW || law > CTI_LAW_LINEAR)
        return -1;
    r->channels = channels;
    r->kind = forward ? CTI_EV_R2F : CTI_EV_R2B;
    cti_tonebank_init(&r->bank, forward ? r2_forward : r2_backward, 6, law, -44.0f);
    cti_r2mf_default_params(&r->p);
    r->chan = (cti_tbchan_t *) calloc((size_t) channels, sizeof(cti_tbchan_t));
    r->track = (cti_r2mf_track_t *) calloc((size_t) channels, sizeof(cti_r2mf_track_t));
    r->enabled = (uint8_t *) malloc((size_t) channels);
    if (!r->chan || !r->track || !r->enabled
        || cti_ring_init(&r->ring, (uint32_t) channels * 8u + 64u) != 0) {
        cti_r2mf_free(r);
        return -1;
    }
    memset(r->enabled, 1, (size_t) channels);
    for (ch = 0; ch < channels; ch++)
        cti_r2mf_reset(r, ch);
    return 0;
}

void cti_r2mf_free(cti_r2mf_t *r)
{
    free(r->chan);
    free(r->track);
    free(r->enabled);
    cti_ring_free(&r->ring);
    r->chan = NULL;
    r->track = NULL;
    r->enabled = NULL;
}

void cti_r2mf_process(cti_r2mf_t *r, const void *in, int64_t stride, int frames)
{
    const size_t width = r->bank.law == CTI_LAW_LINEAR ? 2 : 1;
    int ch;
    for (ch = 0; ch < r->channels; ch++)
        if (r->enabled[ch])
            cti_tonebank_feed(&r->bank, &r->chan[ch],
                              (const uint8_t *) in + (size_t) ch * (size_t) stride * width,
                              frames, r2_span, r, ch);
    r->now += frames;
}

void cti_r2mf_finish(cti_r2mf_t *r)
{
    int ch;
    for (ch = 0; ch < r->channels; ch++)
        r2_close(r, ch);
}

void cti_r2mf_reset(cti_r2mf_t *r, int ch)
{
    cti_tbchan_reset(&r->chan[ch], r->now);
    memset(&r->track[ch], 0, sizeof(r->track[ch]));
}

void cti_r2mf_set_enabled(cti_r2mf_t *r, int ch, int on)
{
    if (on && !r->enabled[ch])
        cti_r2mf_reset(r, ch);
    r->enabled[ch] = (uint8_t) (on != 0);
}
