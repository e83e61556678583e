/* Fax and modem tone detector, see faxtone.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "faxtone.h"
#include "level.h"

#define CTI_PI 3.14159265358979323846
#define MIN_RATIO 0.6
#define BLOCK_MS (CTI_BLOCK / 8)

int cti_fax_init(cti_fax_t *d, int channels, int law, double min_dbm0)
{
    memset(d, 0, sizeof(*d));
    if (channels <= 0)
        return -1;
    d->channels = channels;
    d->law = law;
    cti_corr_init(&d->cng, 1100.0, 38.0);
    cti_corr_init(&d->ans, 2100.0, 20.0);   /* +-15 Hz plus noise margin */
    d->min_power = cti_lin8_dbm0_power(law) * pow(10.0, min_dbm0 / 10.0);
    /* |X_h|^2 of the weakest tone accepted (norm maps |X|^2 to mean-square x HALF) */
    d->min_half = d->min_power * CTI_HALF / d->ans.norm;
    d->ch = (cti_fax_chan_t *) calloc((size_t) channels, sizeof(cti_fax_chan_t));
    return d->ch ? 0 : -1;
}

void cti_fax_free(cti_fax_t *d)
{
    free(d->ch);
    d->ch = NULL;
}

static void emit(cti_ring_t *ring, int ch, int value, int extra, int64_t start, int64_t end)
{
    cti_event_t ev;
    ev.channel = ch;
    ev.kind = CTI_EV_FAX;
    ev.value = value;
    ev.extra = extra;
    ev.start = start;
    ev.end = end;
    cti_ring_push(ring, &ev);
}

/* A run of one class has ended at sample `end`: report it if its duration qualifies. */
static void run_end(cti_fax_chan_t *c, int ch, int64_t end, cti_ring_t *ring)
{
    int ms = c->len * BLOCK_MS;
    if (c->cls == 1 && ms >= CTI_FAX_CNG_MIN_MS && ms <= CTI_FAX_CNG_MAX_MS)
        emit(ring, ch, CTI_FAX_CNG, 0, c->start, end);
    else if (c->cls == 2 && ms >= CTI_FAX_ANS_MIN_MS)
        emit(ring, ch, c->reversals ? CTI_FAX_ANS : CTI_FAX_CED, c->reversals, c->start, end);
}

static void new_run(cti_fax_chan_t *c, int cls, int len, int64_t start)
{
    c->cls = cls;
    c->len = len;
    c->start = start;
    c->reversals = 0;
    c->ny = 0;
    c->have_rot = 0;
    c->holdoff = 0;
    c->last_rev = start - 8 * CTI_FAX_REVERSAL_GAP_MS;
}

/* One 10 ms 2100 Hz correlation (derotated to a common time origin): compare it with
 * the one two halves back; a steady tone turns by `rot`, a reversal by rot + pi. */
static void ans_half(cti_fax_chan_t *c, double re, double im, int64_t t, double min_power)
{
    double zr, zi, mag, dot;
    if (re * re + im * im < min_power) {
        c->ny = 0;      /* too weak to carry a phase: restart the comparison chain */
        return;
    }
    if (c->ny < 2) {
        c->y[c->ny][0] = re;
        c->y[c->ny][1] = im;
        c->ny++;
        return;
    }
    zr = re * c->y[0][0] + im * c->y[0][1];
    zi = im * c->y[0][0] - re * c->y[0][1];
    c->y[0][0] = c->y[1][0];
    c->y[0][1] = c->y[1][1];
    c->y[1][0] = re;
    c->y[1][1] = im;
    mag = sqrt(zr * zr + zi * zi);
    if (mag <= 0.0)
        return;
    if (c->holdoff > 0) {
        c->holdoff--;
        return;
    }
    if (!c->have_rot) {
        c->rot[0] = zr / mag;
        c->rot[1] = zi / mag;
        c->have_rot = 1;
        return;
    }
    dot = (zr * c->rot[0] + zi * c->rot[1]) / mag;
    if (dot < 0.0) {
        if (t - c->last_rev >= 8 * CTI_FAX_REVERSAL_GAP_MS) {
            c->reversals++;
            c->last_rev = t;
        }
        c->holdoff = 2;
        return;
    }
    c->rot[0] = 0.75 * c->rot[0] + 0.25 * zr / mag;
    c->rot[1] = 0.75 * c->rot[1] + 0.25 * zi / mag;
    mag = sqrt(c->rot[0] * c->rot[0] + c->rot[1] * c->rot[1]);
    c->rot[0] /= mag;
    c->rot[1] /= mag;
}

static void fax_block(cti_fax_t *d, int ch, int64_t t0, double dr, double di, cti_ring_t *ring)
{
    cti_fax_chan_t *c = &d->ch[ch];
    int32_t e[2], k1[4], k2[4] = {0, 0, 0, 0};
    double energy, r1 = 0.0, r2 = 0.0;
    int ok1 = 0, ok2 = 0, cls = 0, h;
    cti_block_energy(c->buf, e);
    energy = (double) e[0] + e[1];
    if (energy >= d->min_power * CTI_BLOCK) {
        cti_corr_run(&d->cng, c->buf, k1);
        cti_corr_run(&d->ans, c->buf, k2);
        r1 = cti_corr_ratio(&d->cng, k1, energy, &ok1);
        r2 = cti_corr_ratio(&d->ans, k2, energy, &ok2);
        if (r1 >= MIN_RATIO && ok1)
            cls = 1;
        else if (r2 >= MIN_RATIO && ok2)
            cls = 2;
    }
    /* runs, with a one-block glitch absorbed (a reversal may spoil one block) */
    if (cls == c->cls) {
        c->len += c->cand_len + 1;
        c->cand_len = 0;
    } else if (c->cand_len > 0 && cls == c->cand) {
        run_end(c, ch, c->cand_start, ring);
        new_run(c, cls, c->cand_len + 1, c->cand_start);
        c->cand_len = 0;
    } else {
        c->len += c->cand_len;
        c->cand = cls;
        c->cand_len = 1;
        c->cand_start = t0;
    }
    if (c->cls == 2)
        for (h = 0; h < 2; h++)
            ans_half(c, k2[2 * h] * dr - k2[2 * h + 1] * di, k2[2 * h] * di + k2[2 * h + 1] * dr,
                     t0 + h * CTI_HALF, d->min_half);
}

void cti_fax_process(cti_fax_t *d, const void *in, int frames, cti_ring_t *ring)
{
    size_t size = d->law == CTI_LAW_LINEAR ? 2 : 1;
    int off = 0, ch;
    while (off < frames) {
        int n = CTI_BLOCK - d->fill;
        if (n > frames - off)
            n = frames - off;
        for (ch = 0; ch < d->channels; ch++) {
            const uint8_t *p = (const uint8_t *) in + ((size_t) ch * frames + off) * size;
            cti_lin8(d->law, p, d->ch[ch].buf + d->fill, n);
        }
        d->fill += n;
        d->samples += n;
        off += n;
        if (d->fill == CTI_BLOCK) {
            /* correlations restart their phase every block: undo the nominal advance */
            double a = -fmod(2.0 * CTI_PI * 2100.0 * CTI_BLOCK / 8000.0 * (double) d->blocks,
                             2.0 * CTI_PI);
            for (ch = 0; ch < d->channels; ch++)
                fax_block(d, ch, d->samples - CTI_BLOCK, cos(a), sin(a), ring);
            d->fill = 0;
            d->blocks++;
        }
    }
}

void cti_fax_reset(cti_fax_t *d, int ch)
{
    cti_fax_chan_t *c;
    int16_t keep[CTI_BLOCK];
    if (ch < 0 || ch >= d->channels)
        return;
    c = &d->ch[ch];
    memcpy(keep, c->buf, sizeof(keep));        /* the block being filled stays */
    memset(c, 0, sizeof(*c));
    memcpy(c->buf, keep, sizeof(keep));
    new_run(c, 0, 0, d->samples - d->fill);
}

void cti_fax_finish(cti_fax_t *d, cti_ring_t *ring)
{
    int ch;
    for (ch = 0; ch < d->channels; ch++) {
        cti_fax_chan_t *c = &d->ch[ch];
        if (c->cls == 2) {
            c->len += c->cand_len;
            run_end(c, ch, d->samples, ring);
            new_run(c, 0, 0, d->samples);
        }
    }
}
