/* Software E1 line: see e1.h.  Clause references are to ITU-T G.704 (frame
 * structure), G.706 (alignment and CRC procedures), G.732 (CAS multiframe) and
 * G.775 (LOS and AIS defects). */
#include "e1.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint8_t crc4_table[256];
static int crc4_ready;

/* G.704 2.3.3.5.2: remainder of M(x) * x^4 divided by x^4 + x + 1, bits MSB first. */
static void crc4_init(void)
{
    for (int i = 0; i < 256; i++) {
        unsigned r = (unsigned)i;
        for (int b = 0; b < 8; b++)
            r = (r & 0x80) ? ((r << 1) ^ 0x30) & 0xFF : (r << 1) & 0xFF;
        crc4_table[i] = (uint8_t)(r >> 4);
    }
    crc4_ready = 1;
}

#define CRC4_STEP(crc, x) ((crc) = crc4_table[(uint8_t)(((crc) << 4) ^ (x))])

uint8_t e1_crc4(uint8_t crc, const uint8_t *octets, size_t n)
{
    if (!crc4_ready)
        crc4_init();
    for (size_t i = 0; i < n; i++)
        CRC4_STEP(crc, octets[i]);
    return crc;
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* uniform in (0, 1] */
static double rng_unit(uint64_t *s)
{
    return ((double)(rng_next(s) >> 11) + 1.0) / 9007199254740992.0;
}

/* bits before the next independent error: geometric with parameter ber */
static uint64_t ber_gap(e1_link_t *l)
{
    double g = floor(log(rng_unit(&l->rng)) / log1p(-l->ber));
    return g > 1e18 ? (uint64_t)1e18 : (uint64_t)g;
}

void e1_link_set_ber(e1_link_t *l, double ber)
{
    l->ber = ber > 0.0 && ber < 1.0 ? ber : 0.0;
    if (l->ber > 0.0)
        l->next_err = ber_gap(l);
}

void e1_link_set_burst(e1_link_t *l, uint32_t bits, uint64_t period_bits)
{
    l->burst_bits = period_bits ? bits : 0;
    l->burst_period = period_bits;
    l->burst_next = period_bits;
}

static void cas_to_ones(e1_span_t *sp)
{
    memset(sp->cas_rx, 0x0F, sizeof sp->cas_rx);
    memset(sp->cas_cnt, 0, sizeof sp->cas_cnt);
}

void e1_span_reset(e1_span_t *sp)
{
    sp->framed = 0;
    sp->parallel = 0;
    sp->tx_ebits[0] = sp->tx_ebits[1] = 0;
    sp->lof = 1;
    sp->primary = 0;
    sp->crc_state = E1_CRC_SEARCH;
    sp->cas_aligned = 0;
    sp->rai = 0;
    sp->rai_run = 0;
    sp->scount = 0;
    sp->recenter = 1;
    cas_to_ones(sp);
}

static int span_init(e1_span_t *sp, int max_frames)
{
    memset(sp, 0, sizeof *sp);
    sp->rcap = (size_t)(max_frames + 16) * 32;
    sp->rbuf = malloc(sp->rcap);
    sp->raw = malloc(sp->rcap);
    sp->tbuf = malloc(sp->rcap);
    sp->scap = (uint32_t)(2 * max_frames + 16);
    sp->store = malloc((size_t)sp->scap * 32);
    if (!sp->rbuf || !sp->raw || !sp->tbuf || !sp->store)
        return -1;
    sp->crc4 = 1;
    sp->mf_align_frames = E1_MF_ALIGN_FRAMES;
    sp->interwork_frames = E1_INTERWORK_FRAMES;
    sp->sa = 0x1F;
    sp->si = 1;
    sp->mfas_cand = -1;
    memset(sp->tx_cas, 0x0D, sizeof sp->tx_cas);  /* A=1, BCD=101 unused (G.704 5.1.3.2) */
    memset(sp->last, 0xFF, sizeof sp->last);
    e1_span_reset(sp);
    return 0;
}

static void span_free(e1_span_t *sp)
{
    free(sp->rbuf);
    free(sp->raw);
    free(sp->tbuf);
    free(sp->store);
}

int e1_sim_init(e1_sim_t *sim, int nspans, int max_frames)
{
    memset(sim, 0, sizeof *sim);
    if (nspans < 1 || max_frames < 1)
        return -1;
    if (!crc4_ready)
        crc4_init();
    sim->nspans = nspans;
    sim->max_frames = max_frames;
    sim->spans = calloc((size_t)nspans, sizeof *sim->spans);
    sim->links = calloc((size_t)nspans, sizeof *sim->links);
    sim->feeder = malloc((size_t)nspans * sizeof *sim->feeder);
    sim->scratch = malloc((size_t)(max_frames + 16) * 32);
    if (!sim->spans || !sim->links || !sim->feeder || !sim->scratch) {
        e1_sim_free(sim);
        return -1;
    }
    for (int s = 0; s < nspans; s++) {
        if (span_init(&sim->spans[s], max_frames) < 0) {
            sim->nspans = s + 1;
            e1_sim_free(sim);
            return -1;
        }
        sim->links[s].dst = -1;
        sim->links[s].rng = 0x9E3779B97F4A7C15ull * (uint64_t)(s + 1);
        sim->feeder[s] = -1;
    }
    return 0;
}

void e1_sim_free(e1_sim_t *sim)
{
    if (sim->spans)
        for (int s = 0; s < sim->nspans; s++)
            span_free(&sim->spans[s]);
    free(sim->spans);
    free(sim->links);
    free(sim->feeder);
    free(sim->scratch);
    memset(sim, 0, sizeof *sim);
}

int e1_sim_connect(e1_sim_t *sim, int src, int dst)
{
    if (src < 0 || src >= sim->nspans || dst < -1 || dst >= sim->nspans)
        return -1;
    int old = sim->links[src].dst;
    if (old >= 0 && sim->feeder[old] == src)
        sim->feeder[old] = -1;
    if (dst >= 0) {
        int prev = sim->feeder[dst];
        if (prev >= 0 && prev != src)
            sim->links[prev].dst = -1;
        sim->feeder[dst] = src;
    }
    sim->links[src].dst = dst;
    return 0;
}

/* ---------------------------------------------------------------- transmit */

/* bit 1 of the NFAS frames of the CRC-4 multiframe (G.704 table 5b): the MFAS, then
 * E bits - frame 13 for errored sub-multiframes I, frame 15 for II (G.704 2.3.3.4); 0
 * until our receiver has both basic frame and CRC-4 multiframe alignment (which, with a
 * non-CRC-4 far end, is never: G.706 annex B) */
static int tx_nfas_bit1(e1_span_t *sp, int m)
{
    if (m < 12)
        return (E1_MFAS_CRC >> (5 - (m >> 1))) & 1;
    if (!sp->framed || sp->crc_state != E1_CRC_ALIGNED)
        return 0;
    uint8_t *pend = &sp->tx_ebits[m == 15];
    if (*pend) {
        (*pend)--;
        return 0;
    }
    return 1;
}

/* Build n frames of line signal from the payload (32 x stride, channel-major). */
static void tx_frames(e1_span_t *sp, const uint8_t *pay, int stride, int n)
{
    int rai = sp->los || sp->ais || sp->lof;          /* G.732: alarm to the remote end */
    int y = sp->cas && !sp->cas_aligned;               /* remote multiframe alarm */
    const uint8_t *abcd = sp->loopback == E1_LB_PAYLOAD ? sp->cas_rx : sp->tx_cas;
    for (int f = 0; f < n; f++) {
        int col = f < stride ? f : stride - 1;
        int m = sp->tx_frame;
        uint8_t *o = sp->tbuf + (size_t)f * 32;
        for (int ts = 1; ts < 32; ts++)
            o[ts] = pay[(size_t)ts * stride + col];
        if (sp->cas)
            o[16] = m == 0 ? (uint8_t)(E1_MFAS_CRC | (y << 2))
                           : (uint8_t)(((abcd[m] & 15) << 4) | (abcd[m + 16] & 15));
        uint8_t b1;
        if ((m & 1) == 0) {
            b1 = sp->crc4 ? (uint8_t)((sp->tx_crc_prev >> (3 - ((m & 7) >> 1))) & 1) : (sp->si & 1);
            o[0] = (uint8_t)(b1 << 7 | E1_FAS);
        } else {
            b1 = sp->crc4 ? (uint8_t)tx_nfas_bit1(sp, m) : (sp->si & 1);
            o[0] = (uint8_t)(b1 << 7 | 0x40 | rai << 5 | (sp->sa & 0x1F));
        }
        if (sp->crc4) {
            uint8_t crc = sp->tx_crc;
            CRC4_STEP(crc, (m & 1) ? o[0] : (o[0] & 0x7F));  /* C bits count as 0 */
            for (int ts = 1; ts < 32; ts++)
                CRC4_STEP(crc, o[ts]);
            if ((m & 7) == 7) {
                sp->tx_crc_prev = crc;
                crc = 0;
            }
            sp->tx_crc = crc;
        }
        sp->tx_frame = (m + 1) & 15;
    }
    sp->tlen = (size_t)n * 32;
}

/* ---------------------------------------------------------------- cable */

static void link_impair(e1_link_t *l, uint8_t *buf, size_t len)
{
    uint64_t nbits = (uint64_t)len * 8;
    if (l->los) {
        memset(buf, 0, len);
        return;
    }
    if (l->ais) {
        memset(buf, 0xFF, len);
        return;
    }
    if (l->ber > 0.0) {
        uint64_t p = l->next_err;
        while (p < nbits) {
            buf[p >> 3] ^= (uint8_t)(0x80 >> (p & 7));
            l->errors++;
            p += 1 + ber_gap(l);
        }
        l->next_err = p - nbits;
    }
    if (l->burst_bits) {
        uint64_t p = l->burst_next;
        while (p < nbits) {
            for (uint64_t b = p; b < p + l->burst_bits && b < nbits; b++)
                if (rng_next(&l->rng) >> 63) {
                    buf[b >> 3] ^= (uint8_t)(0x80 >> (b & 7));
                    l->errors++;
                }
            p += l->burst_period;
        }
        l->burst_next = p - nbits;
    }
}

/* append with the cable's bit delay; a changed delay inserts or drops bits */
static size_t link_append(e1_link_t *l, e1_span_t *dst, const uint8_t *in, size_t len)
{
    size_t room = dst->rcap - dst->rlen;
    if (len > room)
        len = room;
    uint8_t *out = dst->rbuf + dst->rlen;
    int d = l->delay_bits & 7;
    if (d != l->cur_delay) {
        l->carry = 0;
        l->cur_delay = d;
    }
    if (d == 0) {
        memcpy(out, in, len);
    } else {
        uint8_t c = l->carry;
        for (size_t i = 0; i < len; i++) {
            out[i] = (uint8_t)((c << (8 - d)) | (in[i] >> d));
            c = (uint8_t)(in[i] & ((1u << d) - 1));
        }
        l->carry = c;
    }
    dst->rlen += len;
    return len;
}

/* ---------------------------------------------------------------- receive */

static unsigned pop64(uint64_t v)
{
    v = v - ((v >> 1) & 0x5555555555555555ull);
    v = (v & 0x3333333333333333ull) + ((v >> 2) & 0x3333333333333333ull);
    v = (v + (v >> 4)) & 0x0F0F0F0F0F0F0F0Full;
    return (unsigned)((v * 0x0101010101010101ull) >> 56);
}

/* leading / trailing zero bits of a non-zero octet */
static int clz8(unsigned b) { return __builtin_clz(b) - 24; }
static int ctz8(unsigned b) { return __builtin_ctz(b); }

/* ones in k octets; *zero set when one of them is 0x00 */
static unsigned count_ones(const uint8_t *p, size_t k, int *zero)
{
    unsigned ones = 0;
    uint64_t z = 0;
    size_t i = 0;
    for (; i + 8 <= k; i += 8) {
        uint64_t v;
        memcpy(&v, p + i, 8);
        ones += pop64(v);
        z |= (v - 0x0101010101010101ull) & ~v & 0x8080808080808080ull;
    }
    for (; i < k; i++) {
        ones += pop64(p[i]);
        z |= p[i] == 0;
    }
    *zero = z != 0;
    return ones;
}

/* G.775 LOS and AIS over the raw line octets, a 256-bit LOS window at a time */
static void rx_defects(e1_span_t *sp, const uint8_t *p, size_t n)
{
    while (n) {
        size_t k = 32 - sp->win_octets;
        if (k > n)
            k = n;
        int zero;
        unsigned ones = count_ones(p, k, &zero);
        if (!zero && sp->zero_run < E1_LOS_ZEROS - 8) {
            sp->zero_run = (unsigned)ctz8(p[k - 1]);  /* no run can reach N in here */
        } else {
            for (size_t i = 0; i < k; i++) {
                unsigned b = p[i];
                if (b == 0) {
                    sp->zero_run += 8;
                } else {
                    if (sp->zero_run + (unsigned)clz8(b) >= E1_LOS_ZEROS)
                        sp->los_hit = 1;
                    sp->zero_run = (unsigned)ctz8(b);
                }
                if (sp->zero_run >= E1_LOS_ZEROS) {
                    sp->los_hit = 1;
                    sp->los = 1;
                }
            }
        }
        sp->win_ones += ones;
        sp->win_octets += (uint32_t)k;
        sp->ais_zeros += (uint32_t)(8 * k - ones);
        sp->ais_octets += (uint32_t)k;
        if (sp->win_octets == 32) {
            if (sp->los && !sp->los_hit && sp->win_ones >= E1_LOS_CLEAR_ONES)
                sp->los = 0;
            sp->win_octets = sp->win_ones = 0;
            sp->los_hit = 0;
        }
        if (sp->ais_octets == E1_AIS_WINDOW_OCTETS) {
            if (sp->ais_zeros <= E1_AIS_MAX_ZEROS) {
                sp->ais_ok = 0;
                if (++sp->ais_low >= 2)
                    sp->ais = 1;
            } else {
                sp->ais_low = 0;
                if (++sp->ais_ok >= 2)
                    sp->ais = 0;
            }
            sp->ais_octets = sp->ais_zeros = 0;
        }
        p += k;
        n -= k;
    }
}

static inline uint8_t get8(const uint8_t *b, uint64_t p)
{
    size_t i = (size_t)(p >> 3);
    int s = (int)(p & 7);
    return s ? (uint8_t)((b[i] << s) | (b[i + 1] >> (8 - s))) : b[i];
}

/* frame alignment lost at the frame starting at line bit `at` (rbuf position) */
static void rx_lose(e1_span_t *sp, uint64_t at, int defect)
{
    if (sp->research && sp->primary)
        defect = 0;  /* a re-search alignment in the 400 ms window: search again */
    sp->framed = 0;
    sp->parallel = 0;
    sp->rpos = at + 1;  /* search again from the bit after the assumed FAS */
    sp->cas_aligned = 0;
    cas_to_ones(sp);
    if (defect) {
        sp->lof = 1;
        sp->cnt.lof_events++;
        sp->primary = 0;
        sp->crc_state = E1_CRC_SEARCH;
    }
}

static void rx_aligned_at(e1_span_t *sp, uint64_t now)
{
    sp->framed = 1;
    sp->parallel = 0;
    sp->lof = 0;
    sp->parity = 0;
    sp->fas_bad = sp->nfas_bad = 0;
    sp->align_at = now;
    sp->rai_run = 0;
    sp->mfas_reg = 0;
    sp->mfas_cand = -1;
    sp->crc_prev_valid = 0;
    sp->ts16_zero = 0;
    sp->ts16_prev = 0;
    if (sp->crc4 && sp->crc_state == E1_CRC_SEARCH && !sp->primary) {
        sp->primary = 1;
        sp->primary_at = now;
        sp->research = 0;
    }
}

/* CRC-4 multiframe: returns 0, or 1 when alignment was dropped */
static int rx_crc4(e1_span_t *sp, const uint8_t *o, int nfas, uint64_t now, uint64_t at)
{
    if (sp->crc_state == E1_CRC_SEARCH) {
        if (nfas) {
            sp->mfas_reg = ((sp->mfas_reg << 1) | (uint32_t)(o[0] >> 7)) & 0x3F;
            if (sp->mfas_reg == E1_MFAS_CRC) {
                /* G.706 4.2: two MFAS 2 ms (or a multiple) apart within 8 ms */
                if (sp->mfas_cand >= 0 && ((int64_t)now - sp->mfas_cand) % (16 * 256) == 0) {
                    sp->crc_state = E1_CRC_ALIGNED;
                    sp->primary = 0;
                    sp->parallel = 0;  /* the alignment held is confirmed */
                    sp->mf_frame = 11;
                    sp->crc_acc = 0;
                    sp->c_bits = 0;
                    sp->crc_prev_valid = -1;  /* frames 8..11 were not summed */
                    sp->win_blocks = sp->win_errors = 0;
                    return 0;
                }
                sp->mfas_cand = (int64_t)now;
            }
        }
        if (sp->primary && now - sp->primary_at >= (uint64_t)sp->interwork_frames * 256) {
            sp->crc_state = E1_CRC_INTERWORKING;  /* annex B: far end without CRC-4 */
            sp->primary = 0;
            sp->parallel = 0;
            return 0;
        }
        if (!sp->parallel && now - sp->align_at >= (uint64_t)sp->mf_align_frames * 256) {
            /* spurious FAS assumed: search again (G.706 4.2), in parallel with the
             * alignment held, from the bit after the assumed FAS (annex B) */
            sp->cnt.resyncs++;
            sp->research = 1;
            sp->parallel = 1;
            sp->ppos = at + 1;
        }
        return 0;
    }
    if (sp->crc_state != E1_CRC_ALIGNED)
        return 0;
    int f = sp->mf_frame = (sp->mf_frame + 1) & 15;
    uint8_t crc = sp->crc_acc;
    if ((f & 1) == 0) {
        sp->c_bits |= (uint8_t)((o[0] >> 7) << (3 - ((f & 7) >> 1)));
        CRC4_STEP(crc, o[0] & 0x7F);
    } else {
        CRC4_STEP(crc, o[0]);
        if ((f == 13 || f == 15) && !(o[0] & 0x80))
            sp->cnt.ebit_errors++;
    }
    for (int ts = 1; ts < 32; ts++)
        CRC4_STEP(crc, o[ts]);
    sp->crc_acc = crc;
    if ((f & 7) == 7) {
        if (sp->crc_prev_valid > 0) {
            sp->cnt.crc_blocks++;
            sp->win_blocks++;
            if (sp->c_bits != sp->crc_prev) {
                sp->cnt.crc4_errors++;
                sp->win_errors++;
                uint8_t *pend = &sp->tx_ebits[f == 7];  /* the block checked is the other SMF */
                if (*pend < 255)
                    (*pend)++;
            }
            if (sp->win_blocks == E1_CRC_WINDOW) {
                int false_align = sp->win_errors >= E1_CRC_FALSE_ALIGN;
                sp->win_blocks = sp->win_errors = 0;
                if (false_align) {  /* G.706 4.3.2 */
                    rx_lose(sp, at, 1);
                    return 1;
                }
            }
        }
        sp->crc_prev = crc;
        sp->crc_prev_valid = sp->crc_prev_valid < 0 ? 0 : 1;
        sp->crc_acc = 0;
        sp->c_bits = 0;
    }
    return 0;
}

static void cas_sample(e1_span_t *sp, int ts, uint8_t v)
{
    if (sp->cas_raw[ts] == v) {
        if (sp->cas_cnt[ts] < 255)
            sp->cas_cnt[ts]++;
    } else {
        sp->cas_raw[ts] = v;
        sp->cas_cnt[ts] = 1;
    }
    if (sp->cas_cnt[ts] >= E1_CAS_DEBOUNCE)
        sp->cas_rx[ts] = v;
}

/* TS16 CAS multiframe (G.704 5.1.3.2, G.732 5.2) */
static void rx_cas(e1_span_t *sp, uint8_t t)
{
    if (!sp->cas_aligned) {
        if ((t & 0xF0) == 0 && sp->ts16_prev != 0) {
            sp->cas_aligned = 1;
            sp->cas_frame = 0;
            sp->mfas_bad = 0;
            sp->rmai = (t >> 2) & 1;
        }
    } else {
        int f = sp->cas_frame = (sp->cas_frame + 1) & 15;
        if (f == 0) {
            if ((t & 0xF0) == 0) {
                sp->mfas_bad = 0;
                sp->rmai = (t >> 2) & 1;
            } else if (++sp->mfas_bad >= 2) {
                sp->cas_aligned = 0;
                cas_to_ones(sp);
            }
        } else {
            cas_sample(sp, f, t >> 4);
            cas_sample(sp, f + 16, t & 15);
        }
    }
    sp->ts16_zero = t ? 0 : sp->ts16_zero + 1;
    if (sp->ts16_zero >= E1_MF_FRAMES && sp->cas_aligned) {
        sp->cas_aligned = 0;
        cas_to_ones(sp);
    }
    sp->ts16_prev = t;
}

/* one frame in alignment: returns 0 to keep it, 1 when alignment was dropped */
static int rx_frame(e1_span_t *sp, const uint8_t *o, uint64_t at)
{
    uint64_t now = sp->base_bits + at;
    int nfas = sp->parity;
    sp->parity ^= 1;
    if (!nfas) {
        if ((o[0] & 0x7F) != E1_FAS) {
            sp->cnt.fas_errors++;
            if (++sp->fas_bad >= 3) {  /* G.706 4.1.1 */
                rx_lose(sp, at, 1);
                return 1;
            }
        } else {
            sp->fas_bad = 0;
        }
    } else {
        if (!(o[0] & 0x40)) {
            if (++sp->nfas_bad >= 3 && sp->nfas_loss) {
                rx_lose(sp, at, 1);
                return 1;
            }
        } else {
            sp->nfas_bad = 0;
        }
        sp->rx_sa = o[0] & 0x1F;
        int a = (o[0] >> 5) & 1;
        if (a == sp->rai)
            sp->rai_run = 0;
        else if (++sp->rai_run >= E1_RAI_FRAMES) {
            sp->rai = a;
            sp->rai_run = 0;
        }
    }
    if (sp->crc4 && rx_crc4(sp, o, nfas, now, at))
        return 1;
    if (sp->cas)
        rx_cas(sp, o[16]);
    return 0;
}

static void store_put(e1_span_t *sp, const uint8_t *o)
{
    if (sp->scount == sp->scap) {  /* cannot happen with bounded offsets; keep newest */
        sp->shead = (sp->shead + 1) % sp->scap;
        sp->scount--;
    }
    uint32_t w = (sp->shead + sp->scount) % sp->scap;
    memcpy(sp->store + (size_t)w * 32, o, 32);
    sp->scount++;
}

static int fas_triple(const uint8_t *b, uint64_t p)
{
    return (get8(b, p) & 0x7F) == E1_FAS && (get8(b, p + 256) & 0x40) &&
           (get8(b, p + 512) & 0x7F) == E1_FAS;
}

/* The re-search of an 8 ms multiframe failure, run beside the alignment held: finding
 * that same alignment again restarts the 8 ms window without touching the payload;
 * finding another one moves to it. */
static void rx_parallel(e1_span_t *sp)
{
    uint64_t fas_phase = (sp->rpos + 256u * (uint64_t)sp->parity) & 511;
    while (((sp->ppos + 512) >> 3) + 2 <= sp->rlen) {
        uint64_t p = sp->ppos;
        if (!fas_triple(sp->rbuf, p)) {
            sp->ppos = p + 1;
            continue;
        }
        sp->parallel = 0;
        if ((p & 511) == fas_phase) {
            sp->align_at = sp->base_bits + sp->rpos;
            sp->mfas_reg = 0;
            sp->mfas_cand = -1;
        } else {
            rx_aligned_at(sp, sp->base_bits + p);
            sp->rpos = p;
            sp->scount = 0;
            sp->recenter = 1;
        }
        return;
    }
}

/* framer over all complete frames in rbuf */
static void rx_run(e1_span_t *sp)
{
    uint8_t o[32];
    for (;;) {
        if (sp->framed) {
            size_t i = (size_t)(sp->rpos >> 3);
            if (i + 33 > sp->rlen)
                break;
            int s = (int)(sp->rpos & 7);
            if (s == 0)
                memcpy(o, sp->rbuf + i, 32);
            else
                for (int k = 0; k < 32; k++)
                    o[k] = (uint8_t)((sp->rbuf[i + k] << s) | (sp->rbuf[i + k + 1] >> (8 - s)));
            uint64_t at = sp->rpos;
            sp->rpos += E1_FRAME_BITS;
            if (!rx_frame(sp, o, at))
                store_put(sp, o);
            if (sp->parallel)
                rx_parallel(sp);
        } else {
            /* G.706 4.1.2: FAS, then NFAS bit 2 = 1 in the next frame, then FAS again */
            uint64_t p = sp->rpos;
            if (((p + 512) >> 3) + 2 > sp->rlen)
                break;
            if (sp->primary && !sp->lof &&
                sp->base_bits + p - sp->primary_at >= (uint64_t)sp->interwork_frames * 256) {
                sp->lof = 1;  /* no alignment kept through the 400 ms window */
                sp->cnt.lof_events++;
                sp->primary = 0;
                sp->crc_state = E1_CRC_SEARCH;
            }
            if (fas_triple(sp->rbuf, p))
                rx_aligned_at(sp, sp->base_bits + p);
            else
                sp->rpos = p + 1;
        }
    }
    uint64_t keep = sp->parallel && sp->ppos < sp->rpos ? sp->ppos : sp->rpos;
    size_t drop = (size_t)(keep >> 3);
    if (drop > sp->rlen)
        drop = sp->rlen;
    memmove(sp->rbuf, sp->rbuf + drop, sp->rlen - drop);
    sp->rlen -= drop;
    sp->rpos -= (uint64_t)drop * 8;
    if (sp->parallel)
        sp->ppos -= (uint64_t)drop * 8;
    sp->base_bits += (uint64_t)drop * 8;
}

/* receive elastic store -> `frames` frames of payload, channel-major */
static void rx_deliver(e1_span_t *sp, uint8_t *out, int frames)
{
    if (!sp->framed) {
        memset(out, 0xFF, (size_t)frames * 32);  /* AIS towards the system (G.732) */
        memset(sp->last, 0xFF, 32);
        sp->scount = 0;
        sp->recenter = 1;
        return;
    }
    uint32_t want = (uint32_t)frames, pad = 0;
    const uint8_t *padsrc = sp->last;
    if (sp->recenter) {  /* new alignment: centre the store, not a slip */
        while (sp->scount > want + 1) {
            sp->shead = (sp->shead + 1) % sp->scap;
            sp->scount--;
        }
        if (sp->scount < want) {
            pad = want - sp->scount;
            memset(sp->last, 0xFF, 32);
        }
        sp->recenter = 0;
    } else {
        while (sp->scount > want + 2) {  /* overflow: controlled slip deletes a frame */
            sp->shead = (sp->shead + 1) % sp->scap;
            sp->scount--;
            sp->cnt.slips++;
        }
        if (sp->scount < want) {  /* underflow: controlled slip repeats a frame */
            pad = want - sp->scount;
            sp->cnt.slips += pad;
        }
    }
    for (uint32_t f = 0; f < want; f++) {
        const uint8_t *fr;
        if (f < pad) {
            fr = padsrc;
        } else {
            fr = sp->store + (size_t)sp->shead * 32;
            sp->shead = (sp->shead + 1) % sp->scap;
            sp->scount--;
        }
        for (int ts = 0; ts < 32; ts++)
            out[(size_t)ts * frames + f] = fr[ts];
        if (fr != sp->last)
            memcpy(sp->last, fr, 32);
    }
}

static void rx_input(e1_span_t *sp, size_t from)
{
    size_t n = sp->rlen - from;
    memcpy(sp->raw, sp->rbuf + from, n);  /* what a line loopback sends on the next tick */
    sp->rawlen = n;
    rx_defects(sp, sp->rbuf + from, n);
}

size_t e1_span_transmit(e1_span_t *sp, const uint8_t *pay, int frames, uint8_t *line)
{
    tx_frames(sp, pay, frames, frames);
    memcpy(line, sp->tbuf, sp->tlen);
    return sp->tlen;
}

void e1_span_receive(e1_span_t *sp, const uint8_t *line, size_t n, uint8_t *out, int frames)
{
    while (n) {
        size_t room = sp->rcap - sp->rlen;
        size_t k = n < room ? n : room;
        size_t from = sp->rlen;
        memcpy(sp->rbuf + sp->rlen, line, k);
        sp->rlen += k;
        rx_input(sp, from);
        rx_run(sp);
        line += k;
        n -= k;
    }
    rx_deliver(sp, out, frames);
}

int e1_sim_tick(e1_sim_t *sim, const uint8_t *tx, uint8_t *rx, int frames)
{
    if (frames < 1 || frames > sim->max_frames)
        return -1;
    size_t block = (size_t)frames * 32;
    for (int s = 0; s < sim->nspans; s++) {
        e1_span_t *sp = &sim->spans[s];
        e1_link_t *l = &sim->links[s];
        if (sp->loopback == E1_LB_LINE) {
            memcpy(sp->tbuf, sp->raw, sp->rawlen);
            sp->tlen = sp->rawlen;
            continue;
        }
        int n = frames;
        if (l->dst >= 0 && sp->loopback != E1_LB_LOCAL && l->ppm != 0.0) {
            l->acc += l->ppm * 1e-6 * frames;
            int k = (int)floor(l->acc);
            if (k > 4)
                k = 4;
            if (k < -4)
                k = -4;
            l->acc -= k;
            n += k;
        }
        const uint8_t *pay = sp->loopback == E1_LB_PAYLOAD ? rx + (size_t)s * block : tx + (size_t)s * block;
        tx_frames(sp, pay, frames, n);
    }
    for (int s = 0; s < sim->nspans; s++) {
        e1_span_t *sp = &sim->spans[s];
        size_t from = sp->rlen;
        int f = sim->feeder[s];
        if (sp->loopback == E1_LB_LOCAL) {
            size_t len = sp->tlen < sp->rcap - sp->rlen ? sp->tlen : sp->rcap - sp->rlen;
            memcpy(sp->rbuf + sp->rlen, sp->tbuf, len);
            sp->rlen += len;
        } else if (f >= 0) {
            e1_span_t *src = &sim->spans[f];
            uint64_t errors = sim->links[f].errors;
            memcpy(sim->scratch, src->tbuf, src->tlen);
            link_impair(&sim->links[f], sim->scratch, src->tlen);
            /* HDB3 (G.703 Annex A) alternates mark polarity: a mark lost or added on the line
             * puts two marks of one polarity next to each other, which the receiver counts as
             * a bipolar violation; so each line error is one BPV */
            sp->cnt.bpv += sim->links[f].errors - errors;
            link_append(&sim->links[f], sp, sim->scratch, src->tlen);
        } else {
            size_t len = block < sp->rcap - sp->rlen ? block : sp->rcap - sp->rlen;
            memset(sp->rbuf + sp->rlen, 0, len);  /* nothing connected: no signal */
            sp->rlen += len;
        }
        rx_input(sp, from);
        rx_run(sp);
        rx_deliver(sp, rx + (size_t)s * block, frames);
    }
    return 0;
}

uint32_t e1_span_alarms(const e1_span_t *sp)
{
    uint32_t a = 0;
    if (sp->los)
        a |= E1_ALARM_LOS;
    else if (sp->ais)
        a |= E1_ALARM_AIS;  /* AIS takes precedence over the LOF it causes */
    if (sp->lof && !(a & E1_ALARM_AIS))
        a |= E1_ALARM_LOF;
    if (sp->framed) {
        if (sp->rai)
            a |= E1_ALARM_RAI;
        if (sp->cas && !sp->cas_aligned)
            a |= E1_ALARM_LOMF;
        else if (sp->cas && sp->rmai)
            a |= E1_ALARM_RMAI;
    }
    return a;
}
