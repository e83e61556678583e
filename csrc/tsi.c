/* Time-slot interchange (see tsi.h). */
#include "tsi.h"

#include <stdlib.h>
#include <string.h>

#include "g711.h"

static int bad(const cti_tsi_t *t, int32_t s) { return s < 0 || s >= t->nslots; }

int cti_tsi_init(cti_tsi_t *t, int32_t nslots, int law, uint8_t idle)
{
    int32_t i;
    if (nslots < 1 || nslots > CTI_TSI_MAX_SLOTS || (law != CTI_LAW_ALAW && law != CTI_LAW_ULAW))
        return CTI_TSI_EINVAL;
    t->nslots = nslots;
    t->src = malloc((size_t) nslots * sizeof *t->src);
    t->idle = malloc((size_t) nslots);
    t->law = malloc((size_t) nslots);
    if (!t->src || !t->idle || !t->law) {
        cti_tsi_free(t);
        return CTI_TSI_ENOMEM;
    }
    for (i = 0; i < nslots; i++)
        t->src[i] = CTI_TSI_IDLE;
    memset(t->idle, idle, (size_t) nslots);
    memset(t->law, law, (size_t) nslots);
    return CTI_TSI_OK;
}

void cti_tsi_free(cti_tsi_t *t)
{
    free(t->src);
    free(t->idle);
    free(t->law);
    t->src = NULL;
    t->idle = t->law = NULL;
    t->nslots = 0;
}

int cti_tsi_listen(cti_tsi_t *t, int32_t dst, int32_t src)
{
    if (bad(t, dst) || bad(t, src))
        return CTI_TSI_EBADSLOT;
    if (t->src[dst] == CTI_TSI_OWNED)
        return CTI_TSI_EOWNED;
    t->src[dst] = src;
    return CTI_TSI_OK;
}

int cti_tsi_unlisten(cti_tsi_t *t, int32_t dst)
{
    if (bad(t, dst))
        return CTI_TSI_EBADSLOT;
    if (t->src[dst] == CTI_TSI_OWNED)
        return CTI_TSI_EOWNED;
    t->src[dst] = CTI_TSI_IDLE;
    return CTI_TSI_OK;
}

int cti_tsi_connect(cti_tsi_t *t, int32_t a, int32_t b)
{
    if (bad(t, a) || bad(t, b))
        return CTI_TSI_EBADSLOT;
    if (a == b)
        return CTI_TSI_EINVAL;
    if (t->src[a] == CTI_TSI_OWNED || t->src[b] == CTI_TSI_OWNED)
        return CTI_TSI_EOWNED;
    t->src[a] = b;
    t->src[b] = a;
    return CTI_TSI_OK;
}

int cti_tsi_disconnect(cti_tsi_t *t, int32_t slot)
{
    int32_t i;
    if (bad(t, slot))
        return CTI_TSI_EBADSLOT;
    if (t->src[slot] != CTI_TSI_OWNED)
        t->src[slot] = CTI_TSI_IDLE;
    for (i = 0; i < t->nslots; i++)
        if (t->src[i] == slot)
            t->src[i] = CTI_TSI_IDLE;
    return CTI_TSI_OK;
}

int cti_tsi_set_owned(cti_tsi_t *t, int32_t slot, int owned)
{
    if (bad(t, slot))
        return CTI_TSI_EBADSLOT;
    t->src[slot] = owned ? CTI_TSI_OWNED : CTI_TSI_IDLE;
    return CTI_TSI_OK;
}

int cti_tsi_set_law(cti_tsi_t *t, int32_t slot, int law)
{
    if (bad(t, slot))
        return CTI_TSI_EBADSLOT;
    if (law != CTI_LAW_ALAW && law != CTI_LAW_ULAW)
        return CTI_TSI_EINVAL;
    t->law[slot] = (uint8_t) law;
    return CTI_TSI_OK;
}

void cti_tsi_process(const cti_tsi_t *t, const uint8_t *rx, ptrdiff_t rx_stride,
                     uint8_t *tx, ptrdiff_t tx_stride, int frames)
{
    int32_t d;
    for (d = 0; d < t->nslots; d++) {
        int32_t s = t->src[d];
        uint8_t *out = tx + d * tx_stride;
        if (s >= 0) {
            const uint8_t *in = rx + s * rx_stride;
            if (t->law[s] == t->law[d])
                memcpy(out, in, (size_t) frames);
            else if (t->law[s] == CTI_LAW_ALAW)
                cti_alaw_to_ulaw(in, out, (size_t) frames);
            else
                cti_ulaw_to_alaw(in, out, (size_t) frames);
        } else if (s == CTI_TSI_IDLE) {
            memset(out, t->idle[d], (size_t) frames);
        }
    }
}
