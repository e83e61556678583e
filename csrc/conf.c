/* Conference bridges (see conf.h). */
#include "conf.h"

#include <string.h>

#include "g711.h"

#define CHUNK 40 /* frames mixed per pass; keeps the scratch on the stack small */

void cti_conf_init(cti_conf_t *c) { c->nparties = 0; }

int cti_conf_find(const cti_conf_t *c, int32_t slot)
{
    int i;
    for (i = 0; i < c->nparties; i++)
        if (c->party[i].slot == slot)
            return i;
    return -1;
}

int cti_conf_set(cti_conf_t *c, const cti_conf_party_t *p)
{
    int i = cti_conf_find(c, p->slot);
    if (i < 0) {
        if (c->nparties >= CTI_CONF_MAX_PARTIES)
            return -1;
        i = c->nparties++;
    }
    c->party[i] = *p;
    return i;
}

int cti_conf_remove(cti_conf_t *c, int32_t slot)
{
    int i = cti_conf_find(c, slot);
    if (i < 0)
        return -1;
    memmove(&c->party[i], &c->party[i + 1], (size_t) (c->nparties - i - 1) * sizeof c->party[0]);
    c->nparties--;
    return 0;
}

/* Q12 gain, rounded: (x * g + 2048) >> 12 (exact identity at unity). */
static int32_t scale(int32_t x, int32_t g)
{
    return (int32_t) (((int64_t) x * g + 2048) >> 12);
}

static int16_t saturate(int32_t x)
{
    return (int16_t) (x > 32767 ? 32767 : x < -32768 ? -32768 : x);
}

/* Contributions are at most 64 x 32768 x 10^(24/20) in magnitude (< 2^26), so
 * sums fit in 32 bits; only the output gain needs a 64-bit product. */
void cti_conf_mix(const cti_conf_t *c, const uint8_t *rx, ptrdiff_t rx_stride,
                  uint8_t *tx, ptrdiff_t tx_stride, int frames,
                  const uint8_t *law, const uint8_t *idle)
{
    int32_t contrib[CTI_CONF_MAX_PARTIES][CHUNK];
    int32_t sum[CHUNK], acc[CHUNK];
    int16_t lin[CHUNK];
    int n = c->nparties, base, i, k, f;

    for (i = 0; i < n; i++)
        if (c->party[i].mode == CTI_CONF_TALK)
            memset(tx + c->party[i].slot * tx_stride, idle[c->party[i].slot], (size_t) frames);

    for (base = 0; base < frames; base += CHUNK) {
        int len = frames - base < CHUNK ? frames - base : CHUNK;
        for (f = 0; f < len; f++)
            sum[f] = 0;
        for (i = 0; i < n; i++) {
            const cti_conf_party_t *p = &c->party[i];
            const int16_t *table;
            const uint8_t *in;
            int32_t *ci = contrib[i];
            if (p->mode == CTI_CONF_LISTEN)
                continue;
            table = law[p->slot] == 0 ? cti_alaw_to_linear_table : cti_ulaw_to_linear_table;
            in = rx + p->slot * rx_stride + base;
            if (p->gain_in == CTI_CONF_UNITY)
                for (f = 0; f < len; f++)
                    ci[f] = table[in[f]];
            else
                for (f = 0; f < len; f++)
                    ci[f] = scale(table[in[f]], p->gain_in);
            if (p->mode != CTI_CONF_COACH)
                for (f = 0; f < len; f++)
                    sum[f] += ci[f];
        }
        for (i = 0; i < n; i++) {
            const cti_conf_party_t *p = &c->party[i];
            uint8_t *out = tx + p->slot * tx_stride + base;
            if (p->mode == CTI_CONF_TALK)
                continue;
            if (p->mode == CTI_CONF_NORMAL)
                for (f = 0; f < len; f++)
                    acc[f] = sum[f] - contrib[i][f];
            else
                for (f = 0; f < len; f++)
                    acc[f] = sum[f];
            for (k = 0; k < n; k++)
                if (k != i && c->party[k].mode == CTI_CONF_COACH && c->party[k].coach_of == p->slot)
                    for (f = 0; f < len; f++)
                        acc[f] += contrib[k][f];
            if (p->gain_out == CTI_CONF_UNITY)
                for (f = 0; f < len; f++)
                    lin[f] = saturate(acc[f]);
            else
                for (f = 0; f < len; f++) {
                    int64_t y = ((int64_t) acc[f] * p->gain_out + 2048) >> 12;
                    lin[f] = (int16_t) (y > 32767 ? 32767 : y < -32768 ? -32768 : y);
                }
            if (law[p->slot] == 0)
                cti_alaw_encode(lin, out, (size_t) len);
            else
                cti_ulaw_encode(lin, out, (size_t) len);
        }
    }
}
