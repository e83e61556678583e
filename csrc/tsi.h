/*
 * Time-slot interchange: a non-blocking switch of up to CTI_TSI_MAX_SLOTS
 * 64 kbit/s slots, like an SCbus / H.100 (ECTF H.100 r1.0) bus.
 *
 * Every slot has a receive stream (what a board delivers into the fabric)
 * and a transmit stream (what the fabric sends to it).  The transmit side of
 * each slot is either routed from one slot's receive stream (a half-duplex
 * "listen": one transmitter, any number of listeners), owned by another
 * stage (a conference writes it), or idle (the slot's idle octet).  Slots of
 * different laws (A-law / mu-law) are transcoded on the route by G.711
 * Tables 3 and 4.
 *
 * Buffers are channel-major: row s of rx/tx holds slot s's octets for the
 * block; rows are `stride` octets apart, frames contiguous.
 */
#ifndef CTI_TSI_H
#define CTI_TSI_H

#include <stddef.h>
#include <stdint.h>

#define CTI_TSI_MAX_SLOTS 4096
#define CTI_TSI_IDLE (-1)   /* transmit the idle octet */
#define CTI_TSI_OWNED (-2)  /* transmit written by another stage (conference) */

enum { CTI_LAW_ALAW = 0, CTI_LAW_ULAW = 1 };

enum {
    CTI_TSI_OK = 0,
    CTI_TSI_EBADSLOT = -1, /* slot number out of range */
    CTI_TSI_EOWNED = -2,   /* transmit side belongs to a conference */
    CTI_TSI_EINVAL = -3,   /* other invalid argument */
    CTI_TSI_ENOMEM = -4
};

typedef struct {
    int32_t nslots;
    int32_t *src;   /* per transmit slot: source slot, CTI_TSI_IDLE or CTI_TSI_OWNED */
    uint8_t *idle;  /* per transmit slot: idle octet */
    uint8_t *law;   /* per slot: CTI_LAW_ALAW or CTI_LAW_ULAW */
} cti_tsi_t;

int cti_tsi_init(cti_tsi_t *t, int32_t nslots, int law, uint8_t idle);
void cti_tsi_free(cti_tsi_t *t);

/* dst transmits what src receives (src == dst is a loopback). */
int cti_tsi_listen(cti_tsi_t *t, int32_t dst, int32_t src);
/* dst transmits its idle octet. */
int cti_tsi_unlisten(cti_tsi_t *t, int32_t dst);
/* Full duplex: a hears b and b hears a. */
int cti_tsi_connect(cti_tsi_t *t, int32_t a, int32_t b);
/* Both directions: slot's transmit goes idle and every listener of slot too. */
int cti_tsi_disconnect(cti_tsi_t *t, int32_t slot);
/* Mark a slot's transmit side as owned by another stage (owned != 0) or
 * return it to idle (owned == 0). */
int cti_tsi_set_owned(cti_tsi_t *t, int32_t slot, int owned);
int cti_tsi_set_law(cti_tsi_t *t, int32_t slot, int law);

/* Fill every non-owned transmit row of tx from rx for `frames` octets. */
void cti_tsi_process(const cti_tsi_t *t, const uint8_t *rx, ptrdiff_t rx_stride,
                     uint8_t *tx, ptrdiff_t tx_stride, int frames);

#endif
