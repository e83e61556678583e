/* Event ring: the single-producer queue through which C media stages report events
 * (digits, tones, HDLC frames, alarms) to the Python side of the tight loop.
 * Plain C99.  A full ring drops the newest event and counts it. */
#ifndef CTI_RING_H
#define CTI_RING_H
#include <stdint.h>

/* event kinds reported by the media core */
enum cti_event_kind {
    CTI_EV_NONE = 0,
    CTI_EV_DTMF = 1,     /* value: digit character ('0'..'9','*','#','A'..'D') */
    CTI_EV_R2F = 2,      /* value: forward MF signal 1..15 */
    CTI_EV_R2B = 3,      /* value: backward MF signal 1..15 */
    CTI_EV_CPT = 4,      /* value: tone-plan tone index */
    CTI_EV_FAX = 5,      /* value: 1 CNG, 2 CED, 3 ANS with phase reversal; extra: reversals */
    CTI_EV_TONE = 6,     /* value: frequency in Hz; extra: level in centi-dBm0 */
    CTI_EV_TALK = 7,     /* talk (voice energy) started */
    CTI_EV_SILENCE = 8,  /* silence started */
    CTI_EV_HDLC = 9,     /* value: frame status; frames themselves travel in HDLC buffers */
    CTI_EV_USER = 64     /* first kind free for other stages */
};

typedef struct {
    int32_t channel;  /* channel index within the stage's bank */
    int32_t kind;     /* enum cti_event_kind */
    int32_t value;
    int32_t extra;
    int64_t start;    /* sample (frame) index where the event began */
    int64_t end;      /* sample index where it ended; equal to start for instants */
} cti_event_t;

typedef struct {
    cti_event_t *buf;
    uint32_t cap;     /* power of two */
    uint32_t head;    /* next write */
    uint32_t tail;    /* next read */
    uint64_t dropped;
} cti_ring_t;

int cti_ring_init(cti_ring_t *r, uint32_t capacity);  /* 0 on success, -1 on no memory */
void cti_ring_free(cti_ring_t *r);
int cti_ring_push(cti_ring_t *r, const cti_event_t *ev);  /* 0, or -1 when full (dropped) */
uint32_t cti_ring_pop(cti_ring_t *r, cti_event_t *out, uint32_t max);
uint32_t cti_ring_count(const cti_ring_t *r);
#endif
