/* Call-progress tone detector, see cpt.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cpt.h"
#include "level.h"

#define CTI_PI 3.14159265358979323846
#define Q12 4096.0

/* ---------------- block front end ---------------- */

void cti_corr_init(cti_corr_t *k, double freq, double tol_hz)
{
    double w = 2.0 * CTI_PI * freq / 8000.0, sumw = 0.0;
    double step = 2.0 * CTI_PI * tol_hz * CTI_HALF / 8000.0;
    int n;
    for (n = 0; n < CTI_BLOCK; n++) {
        int m = n % CTI_HALF;
        double win = 0.5 - 0.5 * cos(2.0 * CTI_PI * (m + 0.5) / CTI_HALF);
        k->re[n] = (int16_t) floor(Q12 * win * cos(w * n) + 0.5);
        k->im[n] = (int16_t) floor(-Q12 * win * sin(w * n) + 0.5);
        if (n < CTI_HALF)
            sumw += win;
    }
    k->cos_tol = step >= CTI_PI ? -1.0 : cos(step);
    /* tone of amplitude A: |X_h|^2 = (A sumw Q12 / 2)^2, half energy A^2 HALF / 2 */
    k->norm = 2.0 * CTI_HALF / (sumw * sumw * Q12 * Q12);
}

static int32_t dot80(const int16_t *a, const int16_t *b)
{
    int32_t s = 0;
    int n;
    for (n = 0; n < CTI_HALF; n++)
        s += (int32_t) a[n] * b[n];
    return s;
}

void cti_corr_run(const cti_corr_t *k, const int16_t *x, int32_t out[4])
{
    out[0] = dot80(x, k->re);
    out[1] = dot80(x, k->im);
    out[2] = dot80(x + CTI_HALF, k->re + CTI_HALF);
    out[3] = dot80(x + CTI_HALF, k->im + CTI_HALF);
}

void cti_block_energy(const int16_t *x, int32_t out[2])
{
    out[0] = dot80(x, x);
    out[1] = dot80(x + CTI_HALF, x + CTI_HALF);
}

double cti_corr_ratio(const cti_corr_t *k, const int32_t c[4], double energy, int *freq_ok)
{
    double p0 = (double) c[0] * c[0] + (double) c[1] * c[1];
    double p1 = (double) c[2] * c[2] + (double) c[3] * c[3];
    double p = p0 + p1;
    *freq_ok = 1;
    if (k->cos_tol > -1.0 && p0 > 0.1 * p && p1 > 0.1 * p) {
        /* phase advance between the halves: 2 pi df HALF / 8000 */
        double re = (double) c[2] * c[0] + (double) c[3] * c[1];
        *freq_ok = re >= k->cos_tol * sqrt(p0 * p1);
    }
    return energy > 0.0 ? p * k->norm / energy : 0.0;
}

/* ---------------- detector ---------------- */

int cti_cpt_init(cti_cpt_t *d, int channels, int law, const cti_cpt_plan_t *plan)
{
    int i;
    double p0;
    memset(d, 0, sizeof(*d));
    if (channels <= 0 || plan->nfreqs < 1 || plan->nfreqs > CTI_CPT_MAX_FREQS
        || plan->nclasses < 1 || plan->nclasses > CTI_CPT_MAX_CLASSES
        || plan->ntones < 1 || plan->ntones > CTI_CPT_MAX_TONES)
        return -1;
    d->channels = channels;
    d->law = law;
    d->plan = *plan;
    for (i = 0; i < plan->nfreqs; i++)
        cti_corr_init(&d->corr[i], plan->freq[i], plan->tol_hz[i]);
    p0 = cti_lin8_dbm0_power(law);
    d->min_power = p0 * pow(10.0, plan->min_dbm0 / 10.0);
    d->max_power = p0 * pow(10.0, plan->max_dbm0 / 10.0);
    d->ch = (cti_cpt_chan_t *) calloc((size_t) channels, sizeof(cti_cpt_chan_t));
    if (!d->ch)
        return -1;
    for (i = 0; i < channels; i++)
        d->ch[i].locked = -1;
    return 0;
}

void cti_cpt_reset(cti_cpt_t *d, int ch)
{
    cti_cpt_chan_t *c;
    int16_t keep[CTI_BLOCK];
    if (ch < 0 || ch >= d->channels)
        return;
    c = &d->ch[ch];
    memcpy(keep, c->buf, sizeof(keep));        /* the block being filled stays */
    memset(c, 0, sizeof(*c));
    memcpy(c->buf, keep, sizeof(keep));
    c->locked = -1;
    c->cur_start = d->samples - d->fill;
}

void cti_cpt_free(cti_cpt_t *d)
{
    free(d->ch);
    d->ch = NULL;
}

/* Frequency set of one block, 0 when no set of the plan explains the block. */
static int classify(const cti_cpt_t *d, const int16_t *x)
{
    const cti_cpt_plan_t *pl = &d->plan;
    int32_t e[2], c[4];
    double energy, ratio[CTI_CPT_MAX_FREQS], best = 0.0;
    int ok[CTI_CPT_MAX_FREQS], i, k, cls = 0;
    cti_block_energy(x, e);
    energy = (double) e[0] + e[1];
    if (energy < d->min_power * CTI_BLOCK)
        return 0;
    for (i = 0; i < pl->nfreqs; i++) {
        cti_corr_run(&d->corr[i], x, c);
        ratio[i] = cti_corr_ratio(&d->corr[i], c, energy, &ok[i]);
    }
    for (k = 1; k <= pl->nclasses; k++) {
        double sum = 0.0;
        int good = 1, j;
        for (j = 0; j < 2; j++) {
            int f = pl->class_freq[k][j];
            double power;
            if (f < 0)
                continue;
            power = ratio[f] * energy / CTI_BLOCK;
            good &= ok[f] && power >= d->min_power && power <= d->max_power;
            sum += ratio[f];
        }
        for (j = 0; j < 2 && good; j++)   /* twist: each component >= 1/5 of the pair */
            if (pl->class_freq[k][j] >= 0 && pl->class_freq[k][1] >= 0)
                good &= ratio[pl->class_freq[k][j]] >= 0.2 * sum;
        if (good && sum >= pl->min_ratio && sum > best) {
            best = sum;
            cls = k;
        }
    }
    return cls;
}

static int elem_fits(const cti_cpt_tone_t *t, int e, int cls, int blocks, int partial)
{
    int ms = blocks * (CTI_BLOCK / 8);
    if (t->cls[e] != cls || ms > t->hi_ms[e])
        return 0;
    return partial || ms >= t->lo_ms[e];
}

/* Does tone t's cadence explain the recent segments?  *start: where the match begins. */
static int tone_matches(const cti_cpt_chan_t *c, const cti_cpt_tone_t *t, int64_t *start)
{
    int r, m = t->nelems;
    if (t->continuous) {
        *start = c->cur_start;
        return c->cur == t->cls[0] && c->cur_len * (CTI_BLOCK / 8) >= t->detect_ms;
    }
    for (r = 0; r < m; r++) {
        int counts, count, e, h, i;
        if (!elem_fits(t, r, c->cur, c->cur_len, 1))
            continue;
        counts = elem_fits(t, r, c->cur, c->cur_len, 0);
        count = counts;
        *start = c->cur_start;
        /* the current run completes element r or is still the start of it; either
         * way the newest closed segment must be element r - 1 */
        e = r - 1;
        for (i = 0; i < c->nhist && count < t->match; i++, e--) {
            h = (c->hpos - 1 - i + CTI_CPT_HISTORY) % CTI_CPT_HISTORY;
            if (e < 0)
                e += m;
            if (!elem_fits(t, e, c->hcls[h], c->hlen[h], 0))
                break;
            *start = c->hstart[h];
            count++;
        }
        if (count >= t->match)
            return 1;
    }
    return 0;
}

static void run_block(cti_cpt_t *d, int chn, int cls, int64_t block_start, cti_ring_t *ring)
{
    cti_cpt_chan_t *c = &d->ch[chn];
    int i;
    int64_t start;
    if (cls == c->cur) {
        c->cur_len += c->cand_len + 1;   /* a one-block glitch is absorbed */
        c->cand_len = 0;
    } else if (c->cand_len > 0 && cls == c->cand) {
        /* confirmed change: close the current segment */
        c->hcls[c->hpos] = c->cur;
        c->hlen[c->hpos] = c->cur_len;
        c->hstart[c->hpos] = c->cur_start;
        c->hpos = (c->hpos + 1) % CTI_CPT_HISTORY;
        if (c->nhist < CTI_CPT_HISTORY)
            c->nhist++;
        c->cur = cls;
        c->cur_len = c->cand_len + 1;
        c->cur_start = c->cand_start;
        c->cand_len = 0;
    } else {
        c->cur_len += c->cand_len;
        c->cand = cls;
        c->cand_len = 1;
        c->cand_start = block_start;
    }
    if (c->locked >= 0 && !tone_matches(c, &d->plan.tone[c->locked], &start))
        c->locked = -1;
    if (c->locked >= 0)
        return;
    for (i = 0; i < d->plan.ntones; i++) {
        if (tone_matches(c, &d->plan.tone[i], &start)) {
            cti_event_t ev;
            ev.channel = chn;
            ev.kind = CTI_EV_CPT;
            ev.value = i;
            ev.extra = 0;
            ev.start = start;
            ev.end = block_start + CTI_BLOCK;
            cti_ring_push(ring, &ev);
            c->locked = i;
            return;
        }
    }
}

void cti_cpt_process(cti_cpt_t *d, const void *in, int frames, cti_ring_t *ring)
{
    size_t size = d->law == CTI_LAW_LINEAR ? 2 : 1;
    int ch;
    for (ch = 0; ch < d->channels; ch++) {
        cti_cpt_chan_t *c = &d->ch[ch];
        const uint8_t *p = (const uint8_t *) in + (size_t) ch * (size_t) frames * size;
        int fill = d->fill, off = 0;
        int64_t t = d->samples;
        while (off < frames) {
            int n = CTI_BLOCK - fill;
            if (n > frames - off)
                n = frames - off;
            cti_lin8(d->law, p + (size_t) off * size, c->buf + fill, n);
            fill += n;
            off += n;
            t += n;
            if (fill == CTI_BLOCK) {
                run_block(d, ch, classify(d, c->buf), t - CTI_BLOCK, ring);
                fill = 0;
            }
        }
    }
    d->fill = (d->fill + frames) % CTI_BLOCK;
    d->samples += frames;
}
