/* DTMF receiver and the shared sub-block tone bank; see dtmf.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dtmf.h"
#include "g711.h"

#define TB_N (CTI_TB_M * CTI_TB_SPAN)
#define TB_SEL_N ((float) CTI_TB_M * (CTI_TB_SPAN - 1)) /* selection window */
#define TWO_PI 6.283185307179586

/* x86-64: an AVX2/FMA clone of the hot kernel chosen at load time, baseline otherwise */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define CTI_HOT __attribute__((target_clones("fma", "default")))
#else
#define CTI_HOT
#endif
/* lane selects on float compares may be if-converted (vectorised): no FP traps are used */
#if defined(__GNUC__) && !defined(__clang__)
#define CTI_NOTRAP __attribute__((optimize("no-trapping-math")))
#else
#define CTI_NOTRAP
#endif

const char cti_dtmf_digits[16] = {'1', '2', '3', 'A', '4', '5', '6', 'B',
                                  '7', '8', '9', 'C', '*', '0', '#', 'D'};
/* Q.23 Table 1: low group (rows), high group (columns) */
static const float dtmf_freqs[8] = {697.0f, 770.0f, 852.0f, 941.0f,
                                    1209.0f, 1336.0f, 1477.0f, 1633.0f};

float cti_dbm0_power(float dbm0)
{
    return 0.5f * CTI_DBM0_PEAK * CTI_DBM0_PEAK * powf(10.0f, dbm0 / 10.0f);
}

void cti_tonebank_init(cti_tonebank_t *b, const float *freqs, int nf, int law, float gate_dbm0)
{
    int f, n;
    memset(b, 0, sizeof(*b));
    b->nf = nf;
    b->law = law;
    for (f = 0; f < nf; f++) {
        double w = TWO_PI * freqs[f] / CTI_TB_RATE;
        b->freq[f] = freqs[f];
        for (n = 0; n < CTI_TB_M; n++) {
            b->tab[n][f] = (float) cos(w * n);
            b->tab[n][CTI_TB_NF + f] = (float) -sin(w * n);
        }
        b->rr[f] = (float) cos(w * CTI_TB_M);
        b->ri[f] = (float) -sin(w * CTI_TB_M);
    }
    b->gate_sub = CTI_TB_M * cti_dbm0_power(gate_dbm0);
    for (n = 0; n < 256; n++)
        b->lut[n] = law == CTI_LAW_ULAW
                    ? cti_ulaw_to_linear_table[n] * (CTI_DBM0_PEAK / CTI_DBM0_PEAK_ULAW)
                    : cti_alaw_to_linear_table[n];
    /* magnitude code (G.711: segment and step, grows with |x|): A-law characters have
     * the even bits inverted, mu-law all bits; quiet_mag is the largest one whose sample
     * cannot lift a sub-block to the gate (M x^2 < gate) */
    b->mag_mask = law == CTI_LAW_ULAW ? 0xFF : 0x55;
    b->quiet_mag = 0;
    for (n = 0; n < 128; n++) {
        float x = b->lut[(n ^ b->mag_mask) & 0x7F];
        if (CTI_TB_M * x * x < b->gate_sub)
            b->quiet_mag = (uint8_t) n;
    }
}

void cti_tbchan_reset(cti_tbchan_t *c, int64_t base)
{
    memset(c, 0, sizeof(*c));
    c->base = base;
}

int64_t cti_tbchan_span_start(const cti_tbchan_t *c)
{
    return c->base + (int64_t) (c->nsub - CTI_TB_SPAN) * CTI_TB_M;
}

int64_t cti_tbchan_span_end(const cti_tbchan_t *c)
{
    return c->base + (int64_t) c->nsub * CTI_TB_M;
}

static void decode(const cti_tonebank_t *b, const void *src, int off, int n, float *x)
{
    int i;
    if (b->law == CTI_LAW_LINEAR) {
        const int16_t *s = (const int16_t *) src + off;
        for (i = 0; i < n; i++)
            x[i] = s[i];
    } else {
        const uint8_t *s = (const uint8_t *) src + off;
        for (i = 0; i < n; i++)
            x[i] = b->lut[s[i]];
    }
}

typedef float cti_v8f __attribute__((vector_size(32)));

/* unaligned load of 8 floats (a macro: vector returns change the ABI without AVX) */
#define LOAD8(v, p) memcpy(&(v), (p), sizeof(cti_v8f))

/* One sub-block: energy, and when it passes the gate the DFT at all bins,
 * yr[f] = sum x[n] cos(w n), yi[f] = -sum x[n] sin(w n).  Vectors run across the bins;
 * four accumulator sets break the add latency chain. */
CTI_HOT
static float subblock(const float (*tab)[2 * CTI_TB_NF], const float *x, float gate,
                      float *yr, float *yi)
{
    cti_v8f a0 = {0}, a1 = {0}, c0 = {0}, c1 = {0}, d0 = {0}, d1 = {0}, g0 = {0}, g1 = {0}, v;
    float e;
    int n;
    for (n = 0; n < CTI_TB_M; n += 8) {
        LOAD8(v, x + n);
        a0 += v * v;
    }
    e = ((a0[0] + a0[1]) + (a0[2] + a0[3])) + ((a0[4] + a0[5]) + (a0[6] + a0[7]));
    if (e < gate) {
        memset(yr, 0, CTI_TB_NF * sizeof(float));
        memset(yi, 0, CTI_TB_NF * sizeof(float));
        return e;
    }
    a0 = a0 - a0;
    for (n = 0; n < CTI_TB_M; n += 4) {
        const float *row = tab[n];  /* rows n..n+3, 8 vectors (unaligned loads) */
        cti_v8f t0, t1, t2, t3, t4, t5, t6, t7;
        LOAD8(t0, row);
        LOAD8(t1, row + 8);
        LOAD8(t2, row + 16);
        LOAD8(t3, row + 24);
        LOAD8(t4, row + 32);
        LOAD8(t5, row + 40);
        LOAD8(t6, row + 48);
        LOAD8(t7, row + 56);
        a0 += x[n] * t0;
        a1 += x[n] * t1;
        c0 += x[n + 1] * t2;
        c1 += x[n + 1] * t3;
        d0 += x[n + 2] * t4;
        d1 += x[n + 2] * t5;
        g0 += x[n + 3] * t6;
        g1 += x[n + 3] * t7;
    }
    a0 += c0 + (d0 + g0);
    a1 += c1 + (d1 + g1);
    memcpy(yr, &a0, sizeof(a0));
    memcpy(yi, &a1, sizeof(a1));
    return e;
}

static void analyse(const cti_tonebank_t *b, cti_tbchan_t *c, const float *x)
{
    const int slot = (int) (c->nsub % CTI_TB_SPAN);
    c->e[slot] = subblock((const float (*)[2 * CTI_TB_NF]) b->tab, x, b->gate_sub,
                          c->yr[slot], c->yi[slot]);
    c->nsub++;
}

/* A sub-block of codes whose every sample is at most b->quiet_mag in magnitude code (so
 * below the gate in energy) is told from the bytes alone (a vectorised max): recorded with
 * energy 0 and no DFT.  0 when it needs the full analysis. */
static int quiet(const cti_tonebank_t *b, cti_tbchan_t *c, const uint8_t *s)
{
    uint8_t peak = 0;
    int n, slot;
    for (n = 0; n < CTI_TB_M; n++) {
        uint8_t m = (uint8_t) ((s[n] ^ b->mag_mask) & 0x7F);
        peak = m > peak ? m : peak;
    }
    if (peak > b->quiet_mag)
        return 0;
    slot = (int) (c->nsub % CTI_TB_SPAN);
    c->e[slot] = 0.0f;
    memset(c->yr[slot], 0, sizeof(c->yr[slot]));
    memset(c->yi[slot], 0, sizeof(c->yi[slot]));
    c->nsub++;
    return 1;
}

void cti_tonebank_feed(const cti_tonebank_t *b, cti_tbchan_t *c, const void *src, int frames,
                       cti_span_fn span, void *ctx, int ch)
{
    float buf[CTI_TB_M];
    int i = 0;
    while (i < frames) {
        const float *x;
        if (c->npend == 0 && frames - i >= CTI_TB_M) {
            if (b->law != CTI_LAW_LINEAR && quiet(b, c, (const uint8_t *) src + i)) {
                i += CTI_TB_M;
                goto next;
            }
            decode(b, src, i, CTI_TB_M, buf);
            x = buf;
            i += CTI_TB_M;
        } else {
            int take = CTI_TB_M - c->npend;
            if (take > frames - i)
                take = frames - i;
            decode(b, src, i, take, c->pend + c->npend);
            c->npend += take;
            i += take;
            if (c->npend < CTI_TB_M)
                break;
            c->npend = 0;
            x = c->pend;
        }
        analyse(b, c, x);
next:
        if (c->nsub >= CTI_TB_SPAN)
            span(ctx, ch, c);
    }
}

float cti_tbchan_energy(const cti_tbchan_t *c)
{
    return (c->e[0] + c->e[1]) + (c->e[2] + c->e[3]);
}

/* windows by Horner in r = e^{-jwM}, all bins at once */
CTI_HOT
void cti_tonebank_select(const cti_tonebank_t *b, const cti_tbchan_t *c, cti_span_t *s)
{
    cti_v8f rr, ri, yr[CTI_TB_SPAN], yi[CTI_TB_SPAN], tr, ti, ur, ui, ar, ai, br, bi, sel;
    int i;
    LOAD8(rr, b->rr);
    LOAD8(ri, b->ri);
    for (i = 0; i < CTI_TB_SPAN; i++) {
        s->slot[i] = (int) ((c->nsub + (uint32_t) i) % CTI_TB_SPAN);
        LOAD8(yr[i], c->yr[s->slot[i]]);
        LOAD8(yi[i], c->yi[s->slot[i]]);
    }
    tr = yr[2] + (rr * yr[3] - ri * yi[3]);
    ti = yi[2] + (rr * yi[3] + ri * yr[3]);
    ur = yr[1] + (rr * yr[2] - ri * yi[2]);
    ui = yi[1] + (rr * yi[2] + ri * yr[2]);
    br = yr[1] + (rr * tr - ri * ti);
    bi = yi[1] + (rr * ti + ri * tr);
    ar = yr[0] + (rr * ur - ri * ui);
    ai = yi[0] + (rr * ui + ri * ur);
    sel = ar * ar + ai * ai + br * br + bi * bi;
    memcpy(s->ar, &ar, sizeof(ar));
    memcpy(s->ai, &ai, sizeof(ai));
    memcpy(s->br, &br, sizeof(br));
    memcpy(s->bi, &bi, sizeof(bi));
    memcpy(s->sel, &sel, sizeof(sel));
    s->e = cti_tbchan_energy(c);
}

/* Frequency offset and compensated power of every bin, in lanes (branch-free, so it
 * vectorises):
 *  - z = r B conj(A): its angle phi is the phase advance (w_true - w) M; atan2 to within
 *    5e-6 rad by octant reduction and a least-squares odd polynomial on [0, 1];
 *  - q = r conj(z) / |z|: the span DFT taken at the estimated frequency, by Horner;
 *  - divided by the in-sub-block loss g^2, g = sin(phi/2) / (M sin(phi/2M)) by its Taylor
 *    series (error under 1e-5 for |phi| < 2). */
CTI_HOT CTI_NOTRAP
void cti_tonebank_measure(const cti_tonebank_t *b, const cti_tbchan_t *c, cti_span_t *s)
{
    const float *y0r = c->yr[s->slot[0]], *y1r = c->yr[s->slot[1]], *y2r = c->yr[s->slot[2]];
    const float *y3r = c->yr[s->slot[3]], *y0i = c->yi[s->slot[0]], *y1i = c->yi[s->slot[1]];
    const float *y2i = c->yi[s->slot[2]], *y3i = c->yi[s->slot[3]];
    int f;
    for (f = 0; f < CTI_TB_NF; f++) {
        const float ar = s->ar[f], ai = s->ai[f], br = s->br[f], bi = s->bi[f];
        const float rr = b->rr[f], ri = b->ri[f];
        const float pr = br * ar + bi * ai, pi = bi * ar - br * ai;
        const float zr = rr * pr - ri * pi, zi = rr * pi + ri * pr;
        const float m2 = zr * zr + zi * zi, inv = 1.0f / (sqrtf(m2) + 1e-30f);
        const float ax = fabsf(zr), ay = fabsf(zi);
        const float a = (ax < ay ? ax : ay) / ((ax < ay ? ay : ax) + 1e-30f), a2 = a * a;
        const float qr = (rr * zr + ri * zi) * inv, qi = (ri * zr - rr * zi) * inv;
        float r = a * (0.9999801f + a2 * (-0.3326944f + a2 * (0.1940199f + a2 * (-0.1176952f
                  + a2 * (0.0540827f + a2 * -0.0122997f)))));
        float sr = y3r[f], si = y3i[f], nr, x2, g, pw;
        r = ay > ax ? 1.5707963f - r : r;
        r = zr < 0.0f ? 3.1415927f - r : r;
        r = zi < 0.0f ? -r : r;
        nr = y2r[f] + (qr * sr - qi * si);
        si = y2i[f] + (qr * si + qi * sr);
        sr = y1r[f] + (qr * nr - qi * si);
        si = y1i[f] + (qr * si + qi * nr);
        nr = y0r[f] + (qr * sr - qi * si);
        si = y0i[f] + (qr * si + qi * sr);
        x2 = 0.25f * r * r;
        g = (1.0f - x2 * (1.0f / 6) * (1.0f - x2 * (1.0f / 20) * (1.0f - x2 * (1.0f / 42))))
            * (1.0f + x2 * (1.0f / (6 * CTI_TB_M * CTI_TB_M)));
        pw = (2.0f / ((float) TB_N * TB_N)) * (nr * nr + si * si) / (g * g);
        s->power[f] = m2 > 0.0f ? pw : 0.0f;
        s->off_hz[f] = r * (float) (CTI_TB_RATE / (TWO_PI * CTI_TB_M));
    }
}

/* ---- DTMF ---- */

void cti_dtmf_default_params(cti_dtmf_params_t *p)
{
    p->min_power = cti_dbm0_power(-42.0f);      /* Q.24: accept -36 dBm0 per tone */
    p->twist_hi = powf(10.0f, 4.5f / 10.0f);    /* accept +4 dB */
    p->twist_lo = powf(10.0f, 8.5f / 10.0f);    /* accept -8 dB */
    p->freq_tol = 0.025f;                       /* accept 1.5 %, reject 3.5 % */
    p->ratio = 0.88f;
    p->hits = 3;                                /* ~30 ms: accept 40 ms, reject 23 ms */
    p->gap = 8;                                 /* ~25 ms off ends a digit; 10 ms bridged */
}

static void dtmf_close(cti_dtmf_t *d, int ch)
{
    cti_dtmf_track_t *t = &d->track[ch];
    if (t->digit >= 0 && t->hits >= d->p.hits) {
        cti_event_t ev;
        ev.channel = ch;
        ev.kind = CTI_EV_DTMF;
        ev.value = cti_dtmf_digits[t->digit];
        ev.extra = 0;
        ev.start = t->start;
        ev.end = t->end;
        cti_ring_push(&d->ring, &ev);
    }
    t->digit = -1;
    t->hits = t->misses = 0;
}

static int dtmf_classify(const cti_dtmf_t *d, const cti_tbchan_t *c)
{
    const cti_dtmf_params_t *p = &d->p;
    cti_span_t s;
    int l = 0, h = 4, f;
    if (cti_tbchan_energy(c) < 2.0f * TB_N * p->min_power)
        return -1;
    cti_tonebank_select(&d->bank, c, &s);
    for (f = 1; f < 4; f++)
        l = s.sel[f] > s.sel[l] ? f : l;
    for (f = 5; f < 8; f++)
        h = s.sel[f] > s.sel[h] ? f : h;
    /* cheap screen: the two windows' bins must already hold a good part of the energy;
     * a tone 3.5 % off loses at most 3/4 of it there */
    if ((s.sel[l] + s.sel[h]) * (TB_N / (TB_SEL_N * TB_SEL_N)) < 0.25f * p->ratio * s.e)
        return -1;
    cti_tonebank_measure(&d->bank, c, &s);
    if (s.power[l] < p->min_power || fabsf(s.off_hz[l]) > p->freq_tol * dtmf_freqs[l])
        return -1;
    if (s.power[h] < p->min_power || fabsf(s.off_hz[h]) > p->freq_tol * dtmf_freqs[h])
        return -1;
    if (s.power[h] > p->twist_hi * s.power[l] || s.power[l] > p->twist_lo * s.power[h])
        return -1;
    if ((s.power[l] + s.power[h]) * TB_N < p->ratio * s.e)
        return -1;
    return l * 4 + (h - 4);
}

static void dtmf_span(void *ctx, int ch, cti_tbchan_t *c)
{
    cti_dtmf_t *d = (cti_dtmf_t *) ctx;
    cti_dtmf_track_t *t = &d->track[ch];
    int digit = dtmf_classify(d, c);
    if (digit >= 0) {
        if (digit != t->digit) {
            dtmf_close(d, ch);
            t->digit = digit;
            t->start = cti_tbchan_span_start(c);
        }
        t->hits++;
        t->misses = 0;
        t->end = cti_tbchan_span_end(c);
    } else if (t->digit >= 0 && ++t->misses >= d->p.gap) {
        dtmf_close(d, ch);
    }
}

int cti_dtmf_init(cti_dtmf_t *d, int channels, int law)
{
    int ch;
    memset(d, 0, sizeof(*d));
    if (channels <= 0 || law < CTI_LAW_ALAW || law > CTI_LAW_LINEAR)
        return -1;
    d->channels = channels;
    cti_tonebank_init(&d->bank, dtmf_freqs, 8, law, -48.0f);
    cti_dtmf_default_params(&d->p);
    d->chan = (cti_tbchan_t *) calloc((size_t) channels, sizeof(cti_tbchan_t));
    d->track = (cti_dtmf_track_t *) calloc((size_t) channels, sizeof(cti_dtmf_track_t));
    d->enabled = (uint8_t *) malloc((size_t) channels);
    if (!d->chan || !d->track || !d->enabled
        || cti_ring_init(&d->ring, (uint32_t) channels * 8u + 64u) != 0) {
        cti_dtmf_free(d);
        return -1;
    }
    memset(d->enabled, 1, (size_t) channels);
    for (ch = 0; ch < channels; ch++)
        cti_dtmf_reset(d, ch);
    return 0;
}

void cti_dtmf_free(cti_dtmf_t *d)
{
    free(d->chan);
    free(d->track);
    free(d->enabled);
    cti_ring_free(&d->ring);
    d->chan = NULL;
    d->track = NULL;
    d->enabled = NULL;
}

void cti_dtmf_process(cti_dtmf_t *d, const void *in, int64_t stride, int frames)
{
    const size_t width = d->bank.law == CTI_LAW_LINEAR ? 2 : 1;
    int ch;
    for (ch = 0; ch < d->channels; ch++)
        if (d->enabled[ch])
            cti_tonebank_feed(&d->bank, &d->chan[ch],
                              (const uint8_t *) in + (size_t) ch * (size_t) stride * width,
                              frames, dtmf_span, d, ch);
    d->now += frames;
}

void cti_dtmf_finish(cti_dtmf_t *d)
{
    int ch;
    for (ch = 0; ch < d->channels; ch++)
        dtmf_close(d, ch);
}

void cti_dtmf_reset(cti_dtmf_t *d, int ch)
{
    cti_tbchan_reset(&d->chan[ch], d->now);
    d->track[ch].digit = -1;
    d->track[ch].hits = d->track[ch].misses = 0;
}

void cti_dtmf_set_enabled(cti_dtmf_t *d, int ch, int on)
{
    if (on && !d->enabled[ch])
        cti_dtmf_reset(d, ch);
    d->enabled[ch] = (uint8_t) (on != 0);
}
