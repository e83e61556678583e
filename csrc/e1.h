/* Software E1 line: G.704 framer/deframer, CRC-4, TS16 CAS multiframe, G.706
 * alignment, G.775 defects, controlled slips, and cable impairments.
 *
 * One e1_sim_t holds many spans; e1_sim_tick() advances every span and every
 * cable direction by one block of frames in a single call.  The line signal is a
 * stream of octets, bit 1 of each timeslot in the MSB (first on the wire).  Once
 * aligned the receiver works on whole octets (a shift when the alignment is not on
 * an octet boundary); it scans bit by bit only while searching for the FAS.
 *
 * Each span has at most one outgoing cable direction ("link", indexed by the
 * transmitting span); a loop plug is a link to itself.  Plain C99, no Python.h. */
#ifndef CTI_E1_H
#define CTI_E1_H
#include <stdint.h>
#include <stddef.h>

#define E1_TIMESLOTS 32
#define E1_FRAME_BITS 256
#define E1_MF_FRAMES 16            /* CRC-4 and CAS multiframes are both 16 frames */
#define E1_FAS 0x1B                /* G.704 table 5a: x0011011 */
#define E1_MFAS_CRC 0x0B           /* G.704 table 5b: 001011 in bit 1 of NFAS frames */
#define E1_MF_ALIGN_FRAMES 64      /* default, G.706 4.2: 8 ms to find two CRC-4 MFAS */
#define E1_INTERWORK_FRAMES 3200   /* default, G.706 annex B: 400 ms, then non-CRC-4 end */
#define E1_CRC_WINDOW 1000         /* G.706 4.3.2: blocks per false-alignment window */
#define E1_CRC_FALSE_ALIGN 915     /* errored blocks in the window meaning false alignment */
#define E1_LOS_ZEROS 255           /* G.775: LOS after N consecutive zeros, 10 <= N <= 255 */
#define E1_LOS_CLEAR_ONES 32       /* G.775: cleared at >= 12.5 % ones in a 256-bit window */
#define E1_AIS_WINDOW_OCTETS 64    /* G.775: 512-bit double-frame periods */
#define E1_AIS_MAX_ZEROS 2         /* AIS: fewer than 3 zeros in each of two periods */
#define E1_RAI_FRAMES 3            /* consecutive NFAS with A = 1 (= 0) to set (clear) RAI */
#define E1_CAS_DEBOUNCE 2          /* identical ABCD in this many multiframes to accept */

enum e1_alarm {
    E1_ALARM_LOS = 1,
    E1_ALARM_LOF = 2,
    E1_ALARM_AIS = 4,
    E1_ALARM_RAI = 8,
    E1_ALARM_LOMF = 16,   /* TS16 CAS multiframe alignment lost (G.732 5.2) */
    E1_ALARM_RMAI = 32    /* y bit: remote end has lost CAS multiframe alignment */
};

enum e1_loopback { E1_LB_NONE = 0, E1_LB_LOCAL = 1, E1_LB_LINE = 2, E1_LB_PAYLOAD = 3 };
enum e1_crc_state { E1_CRC_SEARCH = 0, E1_CRC_ALIGNED = 1, E1_CRC_INTERWORKING = 2 };

typedef struct {
    uint64_t crc4_errors;   /* errored sub-multiframes received (CRC-4 mismatch) */
    uint64_t ebit_errors;   /* E bits received as 0: far end saw an errored block */
    uint64_t fas_errors;    /* errored FAS words while in frame alignment */
    uint64_t slips;         /* controlled slips of the receive elastic store */
    uint64_t bpv;           /* bipolar violations: one per line error injected */
    uint64_t lof_events;    /* losses of frame alignment */
    uint64_t crc_blocks;    /* sub-multiframes checked */
    uint64_t resyncs;       /* 8 ms CRC-4 multiframe failures -> frame re-search */
} e1_counters_t;

typedef struct {
    /* configuration */
    int crc4;            /* 1: CRC-4 multiframe in bit 1 of TS0 */
    int cas;             /* 1: TS16 carries the CAS multiframe */
    int nfas_loss;       /* 1: three NFAS bit-2 errors also lose alignment (G.706 4.1.1) */
    int loopback;        /* enum e1_loopback */
    uint32_t mf_align_frames;   /* CRC-4 multiframe search window (default 8 ms) */
    uint32_t interwork_frames;  /* CRC-4 interworking decision (default 400 ms) */
    uint8_t sa;          /* Sa4..Sa8 transmitted (5 bits) */
    uint8_t si;          /* Si bits (bit 1) when CRC-4 is off */
    uint8_t tx_cas[E1_TIMESLOTS];  /* ABCD to send per timeslot (1..15, 17..31) */

    /* transmitter */
    int tx_frame;        /* position 0..15 in the transmitted multiframe */
    uint8_t tx_crc;      /* CRC-4 of the sub-multiframe being sent */
    uint8_t tx_crc_prev; /* CRC-4 of the previous one: the C bits being sent */
    uint8_t tx_ebits[2]; /* errored received SMF I / II still to report in E bits */

    /* receive line buffer */
    uint8_t *rbuf;
    size_t rlen, rcap;
    uint64_t rpos;       /* bit position in rbuf */
    uint8_t *raw;        /* octets received this tick (line loopback source) */
    size_t rawlen;

    /* basic frame alignment (G.706 4.1) */
    int framed;          /* frame alignment held */
    int lof;             /* LOF defect: lost by a loss criterion and not recovered */
    int parity;          /* 0: next frame should hold the FAS */
    int fas_bad, nfas_bad;
    uint64_t base_bits;  /* line bits dropped from rbuf: rbuf bit p is at time base+p */
    uint64_t align_at;   /* line time (bits) of the last basic frame alignment */
    uint64_t primary_at; /* line time of the primary alignment (annex B 400 ms timer) */
    int primary;         /* 1 while the 400 ms interworking timer runs */
    int research;        /* the alignment came from an 8 ms re-search (annex B) */
    int parallel;        /* a re-search is running beside the alignment held */
    uint64_t ppos;       /* its bit position in rbuf */
    int rai, rai_run;
    uint8_t rx_sa;       /* Sa4..Sa8 of the last NFAS frame received */

    /* CRC-4 multiframe (G.706 4.2, 4.3) */
    int crc_state;       /* enum e1_crc_state */
    int mf_frame;        /* 0..15 once aligned */
    uint32_t mfas_reg;   /* bit 1 of the last NFAS frames */
    int64_t mfas_cand;   /* line time of a first MFAS, -1 none */
    uint8_t crc_acc, crc_prev, c_bits;
    int crc_prev_valid;  /* 1: crc_prev is of a whole sub-multiframe */
    int win_blocks, win_errors;

    /* CAS multiframe (G.704 5.1.3.2, G.732 5.2) */
    int cas_aligned, cas_frame, mfas_bad, ts16_zero;
    uint8_t ts16_prev;
    int rmai;
    uint8_t cas_raw[E1_TIMESLOTS], cas_rx[E1_TIMESLOTS], cas_cnt[E1_TIMESLOTS];

    /* G.775 defects on the raw line */
    uint32_t zero_run;
    int los, los_hit;
    uint32_t win_octets, win_ones;
    uint32_t ais_octets, ais_zeros;
    int ais, ais_low, ais_ok;

    /* receive elastic store, whole frames */
    uint8_t *store;
    uint32_t scap, shead, scount;
    int recenter;
    uint8_t last[E1_TIMESLOTS];

    /* transmit line of this tick */
    uint8_t *tbuf;
    size_t tlen;

    e1_counters_t cnt;
} e1_span_t;

typedef struct {
    int dst;             /* receiving span, -1: not connected */
    double ppm;          /* clock offset of arrival relative to the receiver's clock */
    double acc;          /* fractional frames accumulated by the offset */
    double ber;          /* independent bit errors, 0 none */
    uint64_t next_err;   /* bits before the next independent error */
    uint32_t burst_bits; /* error burst length (bits errored with probability 1/2) */
    uint64_t burst_period, burst_next;  /* in bits */
    int los, ais;        /* no signal / all ones */
    int delay_bits;      /* 0..7 bit offset added by the cable */
    int cur_delay;       /* delay the carry was built with (a change slips bits) */
    uint8_t carry;       /* bits shifted out by the delay */
    uint64_t rng;
    uint64_t errors;     /* bits errored so far */
} e1_link_t;

typedef struct {
    int nspans;
    int max_frames;
    e1_span_t *spans;
    e1_link_t *links;    /* links[s]: the outgoing direction of span s */
    int *feeder;         /* feeder[s]: span whose link ends at s, -1 none */
    uint8_t *scratch;
} e1_sim_t;

int e1_sim_init(e1_sim_t *sim, int nspans, int max_frames);  /* 0, or -1 on no memory */
void e1_sim_free(e1_sim_t *sim);
void e1_span_reset(e1_span_t *sp);       /* lose all alignment, keep configuration */
int e1_sim_connect(e1_sim_t *sim, int src, int dst);  /* dst -1 disconnects; -1 if bad */
void e1_link_set_ber(e1_link_t *l, double ber);
void e1_link_set_burst(e1_link_t *l, uint32_t bits, uint64_t period_bits);
/* Advance every span by `frames` frames.  tx and rx are [nspans][32][frames]
 * channel-major; rx receives the payload delivered by each receive elastic store
 * (all ones while out of frame).  Returns 0, or -1 when frames is out of range. */
int e1_sim_tick(e1_sim_t *sim, const uint8_t *tx, uint8_t *rx, int frames);
/* One span on its own (tests, external lines): frame `frames` columns of payload
 * (32 x frames) into line octets, or deframe line octets and deliver `frames` frames.
 * frames <= max_frames. */
size_t e1_span_transmit(e1_span_t *sp, const uint8_t *pay, int frames, uint8_t *line);
void e1_span_receive(e1_span_t *sp, const uint8_t *line, size_t n, uint8_t *out, int frames);
uint32_t e1_span_alarms(const e1_span_t *sp);
uint8_t e1_crc4(uint8_t crc, const uint8_t *octets, size_t n);  /* table CRC-4, MSB first */
#endif
