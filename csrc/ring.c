/* Event ring, see ring.h. */
#include <stdlib.h>
#include "ring.h"

int cti_ring_init(cti_ring_t *r, uint32_t capacity)
{
    uint32_t cap = 16;
    while (cap < capacity && cap < 0x40000000u)
        cap <<= 1;
    r->buf = (cti_event_t *) calloc(cap, sizeof(cti_event_t));
    r->cap = r->buf ? cap : 0;
    r->head = r->tail = 0;
    r->dropped = 0;
    return r->buf ? 0 : -1;
}

void cti_ring_free(cti_ring_t *r)
{
    free(r->buf);
    r->buf = NULL;
    r->cap = r->head = r->tail = 0;
}

uint32_t cti_ring_count(const cti_ring_t *r)
{
    return r->head - r->tail;
}

int cti_ring_push(cti_ring_t *r, const cti_event_t *ev)
{
    if (r->head - r->tail >= r->cap) {
        r->dropped++;
        return -1;
    }
    r->buf[r->head & (r->cap - 1)] = *ev;
    r->head++;
    return 0;
}

uint32_t cti_ring_pop(cti_ring_t *r, cti_event_t *out, uint32_t max)
{
    uint32_t n = 0;
    while (n < max && r->tail != r->head) {
        out[n++] = r->buf[r->tail & (r->cap - 1)];
        r->tail++;
    }
    return n;
}
