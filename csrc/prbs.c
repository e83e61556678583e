/* PRBS generator and checker (ITU-T O.150/O.151/O.152/O.153); see prbs.h. */
#include "prbs.h"

#include <math.h>
#include <stdlib.h>

static int poly_ok(prbs_poly_t p)
{
    return p.degree >= 2 && p.degree <= 31 && p.tap >= 1 && p.tap < p.degree;
}

/* next bit of the register sequence: stages n and tap added modulo 2 (before inversion) */
static inline uint32_t feedback(uint32_t reg, int degree, int tap)
{
    return ((reg >> (degree - 1)) ^ (reg >> (tap - 1))) & 1u;
}

int prbs_gen_init(prbs_gen_t *g, prbs_poly_t poly, int channels)
{
    int i;
    if (!poly_ok(poly) || channels < 1)
        return -1;
    g->chan = calloc((size_t) channels, sizeof *g->chan);
    if (!g->chan)
        return -1;
    g->poly = poly;
    g->channels = channels;
    for (i = 0; i < channels; i++)
        prbs_gen_seed(g, i, 0);
    return 0;
}

void prbs_gen_free(prbs_gen_t *g)
{
    free(g->chan);
    g->chan = NULL;
}

void prbs_gen_seed(prbs_gen_t *g, int channel, uint32_t seed)
{
    uint32_t mask = (1u << g->poly.degree) - 1u;
    seed &= mask;
    g->chan[channel].reg = seed ? seed : mask;
}

void prbs_gen_inject(prbs_gen_t *g, int channel, int errors, double rate)
{
    prbs_gen_chan_t *ch = &g->chan[channel];
    ch->single += errors;
    ch->rate = (uint64_t) llround(rate * (double) PRBS_RATE_ONE);
    if (ch->rate == 0)
        ch->acc = 0;
}

/* the next 8 register bits, MSB first; the register advances by 8 */
static inline uint32_t next_octet(uint32_t *reg, int n, int t, uint32_t mask)
{
    uint32_t raw;
    int b;
    if (t >= 8) {
        /* bits k..k+7 depend only on bits already in the register when the tap is >= 8 */
        raw = ((*reg >> (n - 8)) ^ (*reg >> (t - 8))) & 0xffu;
        *reg = ((*reg << 8) | raw) & mask;
        return raw;
    }
    raw = 0;
    for (b = 0; b < 8; b++) {
        uint32_t bit = feedback(*reg, n, t);
        *reg = ((*reg << 1) | bit) & mask;
        raw = (raw << 1) | bit;
    }
    return raw;
}

/* errors to insert into the next octet, MSB first: pending single errors, then the rate */
static uint32_t error_mask(prbs_gen_chan_t *ch)
{
    uint32_t m = 0;
    int b;
    for (b = 7; b >= 0; b--) {
        if (ch->single > 0) {
            ch->single--;
            m |= 1u << b;
        } else if (ch->rate > 0) {
            ch->acc += ch->rate;
            if (ch->acc >= PRBS_RATE_ONE) {
                ch->acc -= PRBS_RATE_ONE;
                m |= 1u << b;
            }
        }
    }
    return m;
}

static inline int popcount8(uint32_t x)
{
    x = x - ((x >> 1) & 0x55u);
    x = (x & 0x33u) + ((x >> 2) & 0x33u);
    return (int) ((x + (x >> 4)) & 0x0fu);
}

void prbs_gen_process(prbs_gen_t *g, uint8_t *out, int octets)
{
    const int n = g->poly.degree, t = g->poly.tap;
    const uint32_t mask = (1u << n) - 1u, inv = g->poly.invert ? 0xffu : 0u;
    int c, i;
    for (c = 0; c < g->channels; c++) {
        prbs_gen_chan_t *ch = &g->chan[c];
        uint8_t *o = out + (size_t) c * (size_t) octets;
        uint32_t reg = ch->reg;
        for (i = 0; i < octets; i++) {
            uint32_t octet = next_octet(&reg, n, t, mask) ^ inv;
            if (ch->rate > 0 || ch->single > 0) {
                uint32_t e = error_mask(ch);
                ch->inserted += (uint64_t) popcount8(e);
                octet ^= e;
            }
            o[i] = (uint8_t) octet;
        }
        ch->reg = reg;
        ch->bits += (uint64_t) octets * 8u;
    }
}

int prbs_chk_init(prbs_chk_t *c, prbs_poly_t poly, int channels, int sync_bits,
                  uint32_t window, uint32_t loss_errors)
{
    if (!poly_ok(poly) || channels < 1 || sync_bits < 1 || window < 1 || loss_errors < 1
        || loss_errors > window)
        return -1;
    c->chan = calloc((size_t) channels, sizeof *c->chan);
    if (!c->chan)
        return -1;
    c->poly = poly;
    c->channels = channels;
    c->sync_bits = sync_bits;
    c->window = window;
    c->loss_errors = loss_errors;
    return 0;
}

void prbs_chk_free(prbs_chk_t *c)
{
    free(c->chan);
    c->chan = NULL;
}

void prbs_chk_reset(prbs_chk_t *c, int channel)
{
    prbs_chk_chan_t *ch = &c->chan[channel];
    prbs_chk_chan_t zero = {0};
    *ch = zero;
}

static void lose_sync(prbs_chk_chan_t *ch)
{
    ch->state = PRBS_HUNT;
    ch->sync_losses++;
    ch->loaded = 0;
    ch->good = 0;
    ch->win_bits = ch->win_errors = 0;
}

/* one received bit (already de-inverted) through the checker of one channel */
static inline void chk_bit(const prbs_chk_t *c, prbs_chk_chan_t *ch, uint32_t bit,
                           uint32_t mask)
{
    const int n = c->poly.degree, t = c->poly.tap;
    uint32_t ref = feedback(ch->reg, n, t);
    if (ch->state == PRBS_SYNC) {
        /* free-running reference: each line error counts once (O.151 6) */
        uint32_t err = ref ^ bit;
        ch->reg = ((ch->reg << 1) | ref) & mask;
        ch->bits++;
        ch->errors += err;
        ch->win_bits++;
        ch->win_errors += err;
        if (ch->win_errors >= c->loss_errors) {
            lose_sync(ch);
        } else if (ch->win_bits >= c->window) {
            ch->win_bits = ch->win_errors = 0;
        }
        return;
    }
    /* hunting: the register is loaded from the line (self-synchronising) */
    ch->hunt_bits++;
    if (ch->loaded < n) {
        ch->loaded++;
    } else if (ref == bit && ch->reg != 0) {
        /* an all-zero register would "predict" a dead line forever: never sync on it */
        if (++ch->good >= c->sync_bits) {
            ch->state = PRBS_SYNC;
            ch->win_bits = ch->win_errors = 0;
        }
    } else {
        ch->good = 0;
    }
    ch->reg = ((ch->reg << 1) | bit) & mask;
}

void prbs_chk_process(prbs_chk_t *c, const uint8_t *in, int octets)
{
    const uint32_t mask = (1u << c->poly.degree) - 1u, inv = c->poly.invert ? 1u : 0u;
    int k, i, b;
    for (k = 0; k < c->channels; k++) {
        prbs_chk_chan_t *ch = &c->chan[k];
        const uint8_t *p = in + (size_t) k * (size_t) octets;
        for (i = 0; i < octets; i++) {
            uint32_t octet = p[i];
            if (ch->state == PRBS_SYNC && c->poly.tap >= 8) {
                /* in sync: a whole octet against the free-running reference */
                uint32_t ref = next_octet(&ch->reg, c->poly.degree, c->poly.tap, mask);
                int err = popcount8(ref ^ octet ^ (inv ? 0xffu : 0u));
                ch->bits += 8;
                ch->errors += (uint64_t) err;
                ch->win_bits += 8;
                ch->win_errors += (uint32_t) err;
                if (ch->win_errors >= c->loss_errors)
                    lose_sync(ch);
                else if (ch->win_bits >= c->window)
                    ch->win_bits = ch->win_errors = 0;
                continue;
            }
            for (b = 7; b >= 0; b--)
                chk_bit(c, ch, ((octet >> b) & 1u) ^ inv, mask);
        }
    }
}
