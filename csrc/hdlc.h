/*
 * HDLC framing (ISO/IEC 13239 clause 4, as used by Q.921 LAPD and Q.703 MTP2)
 * for many links per call.
 *
 * Each link is one 64 kbit/s (or any octet-clocked) bit stream carried in
 * the octets of a timeslot.  G.704 sends bit 1 (the MSB) of each timeslot
 * octet first, so the HDLC bit stream fills each timeslot octet MSB first:
 * the first bit in time is bit 7 of the first octet.  Inside a frame,
 * octets are sent least significant bit first (ISO/IEC 13239 clause 4.3).
 *
 * Receiver: flag (0x7E) delimiting, zero-bit deletion after five ones,
 * abort on seven or more ones (a frame in progress is discarded and the
 * receiver hunts for the next flag), FCS-16 (x^16+x^12+x^5+1) or FCS-32
 * check (clause 4.2.5), octet alignment, minimum and maximum length, the
 * octets received while hunting (Q.703 clause 4.1: octet counting mode), an
 * optional repeat filter (drop a frame identical to the previous good one:
 * Q.703 repeats FISUs and LSSUs continuously).
 * Transmitter: opening flag, zero-bit insertion, FCS, closing flag; frames
 * may share one flag between them; between frames the line carries flags
 * or (option) all ones (clause 4.4 interframe time fill); abort sends
 * eight ones.
 */
#ifndef CTI_HDLC_H
#define CTI_HDLC_H

#include <stddef.h>
#include <stdint.h>

#define CTI_HDLC_TXQ 16 /* frames queued per link */

enum {
    CTI_HDLC_RX_FRAMES, CTI_HDLC_RX_OCTETS, CTI_HDLC_RX_BAD_FCS, CTI_HDLC_RX_ABORTS,
    CTI_HDLC_RX_TOO_SHORT, CTI_HDLC_RX_TOO_LONG, CTI_HDLC_RX_MISALIGNED,
    CTI_HDLC_RX_REPEATS, CTI_HDLC_RX_HUNT_OCTETS, CTI_HDLC_TX_FRAMES, CTI_HDLC_TX_OCTETS, CTI_HDLC_TX_ABORTS,
    CTI_HDLC_NCOUNTERS
};

typedef struct {
    /* options */
    uint8_t filter_repeats, share_flags, idle_ones;
    /* receiver */
    uint8_t hunting;      /* discarding until a flag */
    uint8_t ones;         /* consecutive ones received */
    uint8_t nbits;        /* bits in acc */
    uint32_t acc;         /* data bits, first received in bit 0 */
    uint32_t len;         /* octets in buf */
    uint8_t *buf;
    uint8_t *prev;        /* last good frame (repeat filter) */
    uint32_t prev_len;    /* UINT32_MAX: none */
    /* transmitter */
    uint64_t pend;        /* bits to send, first in bit 0 */
    uint32_t npend;
    uint8_t tx_ones;      /* consecutive ones sent inside the frame */
    uint8_t in_frame;     /* sending a frame's octets */
    uint8_t after_flag;   /* the last thing sent was a flag */
    uint32_t pos;         /* next octet of the head frame */
    uint32_t qhead, qcount;
    uint32_t qlen[CTI_HDLC_TXQ];
    uint8_t *q;           /* CTI_HDLC_TXQ slots of (max_frame + fcs) octets */
    uint64_t count[CTI_HDLC_NCOUNTERS];
} cti_hdlc_link_t;

typedef struct {
    int32_t nlinks;
    uint32_t fcs_len;     /* 2 or 4 */
    uint32_t min_frame;   /* octets, FCS excluded */
    uint32_t max_frame;
    cti_hdlc_link_t *link;
    uint8_t *mem;
    uint32_t crc32[256];
    uint16_t crc16[256];
    uint16_t crc16b[256]; /* two octets per step */
} cti_hdlc_bank_t;

/* Good frames from one rx call: link, offset and length in buf. */
typedef struct {
    uint8_t *buf;
    size_t cap, used;
    int32_t *rec_link;
    uint32_t *rec_off, *rec_len;
    size_t rec_cap, nrec;
} cti_hdlc_out_t;

enum { CTI_HDLC_OK = 0, CTI_HDLC_EINVAL = -1, CTI_HDLC_ENOMEM = -2, CTI_HDLC_EFULL = -3 };

int cti_hdlc_init(cti_hdlc_bank_t *b, int32_t nlinks, int fcs_bits, uint32_t min_frame,
                  uint32_t max_frame);
void cti_hdlc_free(cti_hdlc_bank_t *b);

/* FCS over data as transmitted (ones complement of the CRC register). */
uint32_t cti_hdlc_fcs(const cti_hdlc_bank_t *b, const uint8_t *data, size_t n);

/* Deframe one block [nlinks x frames].  The caller sizes out for
 * nlinks * (frames + 1) records and nlinks * (frames + max_frame + fcs_len)
 * octets; returns the number of records written. */
size_t cti_hdlc_rx(cti_hdlc_bank_t *b, const uint8_t *in, ptrdiff_t stride, int frames,
                   cti_hdlc_out_t *out);

/* Queue a frame (FCS appended here).  EFULL when the link's queue is full,
 * EINVAL when the length is outside min_frame..max_frame. */
int cti_hdlc_send(cti_hdlc_bank_t *b, int32_t link, const uint8_t *frame, size_t len);

/* Fill one block [nlinks x frames] of transmit octets. */
void cti_hdlc_tx(cti_hdlc_bank_t *b, uint8_t *out, ptrdiff_t stride, int frames);

/* Abort the frame being sent (eight ones, then time fill); flush also
 * drops the queued frames.  Returns 1 when a frame was aborted. */
int cti_hdlc_abort(cti_hdlc_bank_t *b, int32_t link, int flush);

/* Restart a link's receiver (hunt for a flag) and clear its repeat memory. */
void cti_hdlc_rx_reset(cti_hdlc_bank_t *b, int32_t link);

#endif
