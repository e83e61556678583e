/* HDLC framer/deframer bank (see hdlc.h). */
#include "hdlc.h"

#include <stdlib.h>
#include <string.h>

#define FLAG 0x7Eu
#define CRC16_POLY 0x8408u      /* x^16 + x^12 + x^5 + 1, bit reversed */
#define CRC16_GOOD 0xF0B8u      /* ISO/IEC 13239 4.2.5.2 remainder */
#define CRC32_POLY 0xEDB88320u  /* ISO/IEC 13239 32-bit FCS, bit reversed */
#define CRC32_GOOD 0xDEBB20E3u

/* Octet tables shared by every bank, built from pure functions (building
 * them twice concurrently writes the same values):
 *   rev8[t]     bit reversal
 *   step[c][t]  the receiver's octet step from c consecutive ones (0..5) over
 *               timeslot octet t when it holds no run of six ones (no flag or
 *               abort): data bits after zero deletion (first in bit 0) in bits
 *               0-7, their number in bits 8-11, the ones after t in bits
 *               12-14; 0 when t needs the bit-by-bit path.
 *   stuff[c][o] the transmitter's frame octet o after c ones (0..4): line
 *               bits with zeros inserted (first in bit 0) in bits 0-9, their
 *               number in bits 16-19, the ones after them in bits 20-22. */
static uint8_t rev8[256];
static uint16_t step[6][256];
static uint32_t stuff[5][256];
static volatile int tables_ready;

static void build_tables(void)
{
    int c, t, i;
    for (t = 0; t < 256; t++) {
        uint8_t r = 0;
        for (i = 0; i < 8; i++)
            r = (uint8_t) (r | (((t >> i) & 1) << (7 - i)));
        rev8[t] = r;
    }
    for (c = 0; c < 6; c++)
        for (t = 0; t < 256; t++) {
            unsigned run = (unsigned) c, bits = 0, n = 0, ok = 1;
            for (i = 7; i >= 0; i--) {          /* time order: MSB first */
                if ((t >> i) & 1) {
                    if (++run >= 6)
                        ok = 0;
                    bits |= 1u << n++;
                } else {
                    if (run != 5)
                        n++;                    /* a data zero; after five ones it is stuffing */
                    run = 0;
                }
            }
            step[c][t] = ok ? (uint16_t) (bits | n << 8 | run << 12) : 0;
        }
    for (c = 0; c < 5; c++)
        for (t = 0; t < 256; t++) {
            unsigned run = (unsigned) c, bits = 0, n = 0;
            for (i = 0; i < 8; i++) {           /* frame octets go LSB first */
                if ((t >> i) & 1) {
                    bits |= 1u << n++;
                    if (++run == 5) {
                        n++;                    /* zero-bit insertion */
                        run = 0;
                    }
                } else {
                    n++;
                    run = 0;
                }
            }
            stuff[c][t] = bits | n << 16 | run << 20;
        }
    tables_ready = 1;
}

static size_t slot_size(const cti_hdlc_bank_t *b) { return b->max_frame + b->fcs_len; }

int cti_hdlc_init(cti_hdlc_bank_t *b, int32_t nlinks, int fcs_bits, uint32_t min_frame,
                  uint32_t max_frame)
{
    size_t per, i;
    uint32_t k, j;
    memset(b, 0, sizeof *b);
    if (nlinks < 1 || (fcs_bits != 16 && fcs_bits != 32) || max_frame < 1 ||
        min_frame > max_frame || max_frame > 65535)
        return CTI_HDLC_EINVAL;
    if (!tables_ready)
        build_tables();
    b->nlinks = nlinks;
    b->fcs_len = (uint32_t) fcs_bits / 8;
    b->min_frame = min_frame;
    b->max_frame = max_frame;
    for (k = 0; k < 256; k++) {
        uint32_t c16 = k, c32 = k;
        for (j = 0; j < 8; j++) {
            c16 = (c16 & 1) ? (c16 >> 1) ^ CRC16_POLY : c16 >> 1;
            c32 = (c32 & 1) ? (c32 >> 1) ^ CRC32_POLY : c32 >> 1;
        }
        b->crc16[k] = (uint16_t) c16;
        b->crc32[k] = c32;
    }
    for (k = 0; k < 256; k++)   /* CRC of octet k followed by a zero octet */
        b->crc16b[k] = (uint16_t) ((b->crc16[k] >> 8) ^ b->crc16[b->crc16[k] & 0xFFu]);
    /* rx buffer (frame + FCS + 2 octets of slack), repeat memory, tx queue */
    per = (slot_size(b) + 2) + max_frame + CTI_HDLC_TXQ * slot_size(b);
    b->link = calloc((size_t) nlinks, sizeof *b->link);
    b->mem = malloc(per * (size_t) nlinks);
    if (!b->link || !b->mem) {
        cti_hdlc_free(b);
        return CTI_HDLC_ENOMEM;
    }
    for (i = 0; i < (size_t) nlinks; i++) {
        cti_hdlc_link_t *L = &b->link[i];
        L->buf = b->mem + i * per;
        L->prev = L->buf + slot_size(b) + 2;
        L->q = L->prev + max_frame;
        L->share_flags = 1;
        cti_hdlc_rx_reset(b, (int32_t) i);
    }
    return CTI_HDLC_OK;
}

void cti_hdlc_free(cti_hdlc_bank_t *b)
{
    free(b->link);
    free(b->mem);
    b->link = NULL;
    b->mem = NULL;
    b->nlinks = 0;
}

void cti_hdlc_rx_reset(cti_hdlc_bank_t *b, int32_t link)
{
    cti_hdlc_link_t *L = &b->link[link];
    L->hunting = 1;
    L->ones = 0;
    L->nbits = 0;
    L->acc = 0;
    L->len = 0;
    L->prev_len = UINT32_MAX;
}

static uint32_t crc_run(const cti_hdlc_bank_t *b, const uint8_t *p, size_t n)
{
    size_t i;
    if (b->fcs_len == 2) {
        uint32_t c = 0xFFFFu;
        for (i = 0; i + 1 < n; i += 2) {
            c ^= (uint32_t) p[i] | (uint32_t) p[i + 1] << 8;
            c = b->crc16b[c & 0xFFu] ^ b->crc16[c >> 8];
        }
        if (i < n)
            c = (c >> 8) ^ b->crc16[(c ^ p[i]) & 0xFFu];
        return c;
    } else {
        uint32_t c = 0xFFFFFFFFu;
        for (i = 0; i < n; i++)
            c = (c >> 8) ^ b->crc32[(c ^ p[i]) & 0xFFu];
        return c;
    }
}

uint32_t cti_hdlc_fcs(const cti_hdlc_bank_t *b, const uint8_t *data, size_t n)
{
    return crc_run(b, data, n) ^ (b->fcs_len == 2 ? 0xFFFFu : 0xFFFFFFFFu);
}

/* ---------------------------------------------------------------- receiver */

static void deliver(cti_hdlc_bank_t *b, cti_hdlc_link_t *L, int32_t link, cti_hdlc_out_t *out)
{
    uint32_t n = L->len - b->fcs_len;
    if (L->filter_repeats) {
        if (L->prev_len == n && memcmp(L->prev, L->buf, n) == 0) {
            L->count[CTI_HDLC_RX_REPEATS]++;
            return;
        }
        memcpy(L->prev, L->buf, n);
        L->prev_len = n;
    }
    if (out->nrec >= out->rec_cap || out->used + n > out->cap)
        return; /* the caller sized out too small: cannot happen through the wrapper */
    memcpy(out->buf + out->used, L->buf, n);
    out->rec_link[out->nrec] = link;
    out->rec_off[out->nrec] = (uint32_t) out->used;
    out->rec_len[out->nrec] = n;
    out->nrec++;
    out->used += n;
    L->count[CTI_HDLC_RX_FRAMES]++;
    L->count[CTI_HDLC_RX_OCTETS] += n;
}

/* A flag ended the bits since the previous flag.  The flag's leading zero
 * and five of its ones were taken as data bits: a frame of whole octets
 * therefore leaves exactly six bits beyond its last octet. */
static void end_frame(cti_hdlc_bank_t *b, cti_hdlc_link_t *L, int32_t link, cti_hdlc_out_t *out)
{
    uint32_t good = b->fcs_len == 2 ? CRC16_GOOD : CRC32_GOOD;
    if (L->len == 0 && L->nbits <= 6)
        ;                                   /* consecutive flags: time fill */
    else if (L->nbits != 6)
        L->count[CTI_HDLC_RX_MISALIGNED]++;
    else if (L->len < b->min_frame + b->fcs_len)
        L->count[CTI_HDLC_RX_TOO_SHORT]++;
    else if (L->len > b->max_frame + b->fcs_len)
        L->count[CTI_HDLC_RX_TOO_LONG]++;
    else if (crc_run(b, L->buf, L->len) != good)
        L->count[CTI_HDLC_RX_BAD_FCS]++;
    else
        deliver(b, L, link, out);
    L->len = 0;
    L->nbits = 0;
    L->acc = 0;
}

static void emit_octet(cti_hdlc_bank_t *b, cti_hdlc_link_t *L)
{
    L->buf[L->len++] = (uint8_t) L->acc;
    L->acc >>= 8;
    L->nbits = (uint8_t) (L->nbits - 8);
    if (L->len > b->max_frame + b->fcs_len + 1) {
        L->count[CTI_HDLC_RX_TOO_LONG]++;
        L->hunting = 1;
    }
}

static void rx_bits(cti_hdlc_bank_t *b, cti_hdlc_link_t *L, int32_t link, unsigned t,
                    cti_hdlc_out_t *out)
{
    int k;
    for (k = 7; k >= 0; k--) {
        if ((t >> k) & 1) {
            if (L->ones < 8)
                L->ones++;
            if (L->hunting)
                continue;
            if (L->ones < 6) {
                L->acc |= 1u << L->nbits;
                if (++L->nbits == 8)
                    emit_octet(b, L);
            } else if (L->ones == 7) {
                /* abort: a frame with at least one octet before the ones */
                if (L->len * 8u + L->nbits >= 8u + 5u)
                    L->count[CTI_HDLC_RX_ABORTS]++;
                L->hunting = 1;
            }
        } else {
            if (L->ones == 6) {
                if (!L->hunting)
                    end_frame(b, L, link, out);
                L->hunting = 0;
                L->len = 0;
                L->nbits = 0;
                L->acc = 0;
            } else if (L->ones != 5 && !L->hunting) {
                if (++L->nbits == 8)
                    emit_octet(b, L);
            }
            L->ones = 0;
        }
    }
}

size_t cti_hdlc_rx(cti_hdlc_bank_t *b, const uint8_t *in, ptrdiff_t stride, int frames,
                   cti_hdlc_out_t *out)
{
    const uint32_t limit = b->max_frame + b->fcs_len + 1;
    int32_t l;
    int i;
    out->nrec = 0;
    out->used = 0;
    for (l = 0; l < b->nlinks; l++) {
        cti_hdlc_link_t *L = &b->link[l];
        const uint8_t *p = in + l * stride;
        /* the fast path works on locals: stores through buf alias the struct */
        uint8_t *buf = L->buf;
        uint32_t acc = L->acc, nbits = L->nbits, ones = L->ones, len = L->len;
        unsigned hunting = L->hunting;
        for (i = 0; i < frames; i++) {
            unsigned t = p[i];
            unsigned e = (hunting || ones > 5) ? 0u : step[ones][t];
            if (e) {
                /* data bits only: no flag or abort in this octet */
                acc |= (e & 0xFFu) << nbits;
                nbits += (e >> 8) & 0xFu;
                ones = e >> 12;
                if (nbits >= 8) {
                    buf[len++] = (uint8_t) acc;
                    acc >>= 8;
                    nbits -= 8;
                    if (len > limit) {
                        L->count[CTI_HDLC_RX_TOO_LONG]++;
                        hunting = 1;
                    }
                }
            } else if (t == FLAG && ones == 0 && (hunting || (len == 0 && nbits == 0))) {
                hunting = 0;                   /* aligned flag: time fill or sync */
            } else {
                if (hunting)
                    L->count[CTI_HDLC_RX_HUNT_OCTETS]++;
                L->acc = acc;
                L->nbits = (uint8_t) nbits;
                L->ones = (uint8_t) ones;
                L->len = len;
                L->hunting = (uint8_t) hunting;
                rx_bits(b, L, l, t, out);
                acc = L->acc;
                nbits = L->nbits;
                ones = L->ones;
                len = L->len;
                hunting = L->hunting;
            }
        }
        L->acc = acc;
        L->nbits = (uint8_t) nbits;
        L->ones = (uint8_t) ones;
        L->len = len;
        L->hunting = (uint8_t) hunting;
    }
    return out->nrec;
}

/* ------------------------------------------------------------- transmitter */

static void push_raw(cti_hdlc_link_t *L, unsigned bits, unsigned n)
{
    L->pend |= (uint64_t) bits << L->npend;
    L->npend += n;
}

static void push_stuffed(cti_hdlc_link_t *L, unsigned octet)
{
    uint32_t e = stuff[L->tx_ones][octet];
    push_raw(L, e & 0x3FFu, (e >> 16) & 0xFu);
    L->tx_ones = (uint8_t) (e >> 20);
}

static void pop_frame(cti_hdlc_link_t *L)
{
    L->qhead = (L->qhead + 1) % CTI_HDLC_TXQ;
    L->qcount--;
    L->in_frame = 0;
}

static void refill(const cti_hdlc_bank_t *b, cti_hdlc_link_t *L)
{
    while (L->npend < 8) {
        if (L->in_frame) {
            const uint8_t *f = L->q + L->qhead * slot_size(b);
            if (L->pos < L->qlen[L->qhead]) {
                push_stuffed(L, f[L->pos++]);
            } else {
                push_raw(L, FLAG, 8);
                L->after_flag = 1;
                L->count[CTI_HDLC_TX_FRAMES]++;
                L->count[CTI_HDLC_TX_OCTETS] += L->qlen[L->qhead] - b->fcs_len;
                pop_frame(L);
            }
        } else if (L->qcount > 0) {
            if (!(L->after_flag && L->share_flags))
                push_raw(L, FLAG, 8);
            L->in_frame = 1;
            L->after_flag = 0;
            L->pos = 0;
            L->tx_ones = 0;
        } else if (L->idle_ones) {
            push_raw(L, 0xFFu, 8);
            L->after_flag = 0;
        } else {
            push_raw(L, FLAG, 8);
            L->after_flag = 1;
        }
    }
}

void cti_hdlc_tx(cti_hdlc_bank_t *b, uint8_t *out, ptrdiff_t stride, int frames)
{
    int32_t l;
    int i;
    for (l = 0; l < b->nlinks; l++) {
        cti_hdlc_link_t *L = &b->link[l];
        uint8_t *p = out + l * stride;
        for (i = 0; i < frames; i++) {
            refill(b, L);
            p[i] = rev8[L->pend & 0xFFu];
            L->pend >>= 8;
            L->npend -= 8;
        }
    }
}

int cti_hdlc_send(cti_hdlc_bank_t *b, int32_t link, const uint8_t *frame, size_t len)
{
    cti_hdlc_link_t *L = &b->link[link];
    uint32_t slot, fcs, k;
    uint8_t *dst;
    if (len < b->min_frame || len > b->max_frame)
        return CTI_HDLC_EINVAL;
    if (L->qcount >= CTI_HDLC_TXQ)
        return CTI_HDLC_EFULL;
    slot = (L->qhead + L->qcount) % CTI_HDLC_TXQ;
    dst = L->q + slot * slot_size(b);
    memcpy(dst, frame, len);
    fcs = cti_hdlc_fcs(b, frame, len);
    for (k = 0; k < b->fcs_len; k++)
        dst[len + k] = (uint8_t) (fcs >> (8 * k));   /* low-order octet first */
    L->qlen[slot] = (uint32_t) (len + b->fcs_len);
    L->qcount++;
    return CTI_HDLC_OK;
}

int cti_hdlc_abort(cti_hdlc_bank_t *b, int32_t link, int flush)
{
    cti_hdlc_link_t *L = &b->link[link];
    int aborted = 0;
    (void) b;
    if (L->in_frame) {
        push_raw(L, 0xFFu, 8);                 /* eight ones: abort */
        L->after_flag = 0;
        L->count[CTI_HDLC_TX_ABORTS]++;
        pop_frame(L);
        aborted = 1;
    }
    if (flush) {
        L->qcount = 0;
        L->in_frame = 0;
    }
    return aborted;
}
