/* PRBS generator and checker for bit error ratio tests on octet streams.
 *
 * Patterns (ITU-T O.150 family), a shift register of `degree` stages whose
 * stages `degree` and `tap` are added modulo 2 and fed back to stage 1:
 *   O.153 2^9-1   x^9+x^5+1            O.152 2^11-1  x^11+x^9+1
 *   O.151 2^15-1  x^15+x^14+1 inverted O.151 2^20-1  x^20+x^17+1
 *   O.151 2^23-1  x^23+x^18+1 inverted
 * Bits go MSB first within each octet (the first bit of a timeslot octet on the
 * line).  Each bank holds many independent channels; a block is channel-major
 * [channels x octets].  Plain C99, no Python.h. */
#ifndef CTI_PRBS_H
#define CTI_PRBS_H
#include <stdint.h>

typedef struct {
    int degree;  /* shift register length n, sequence length 2^n - 1 */
    int tap;     /* second feedback stage */
    int invert;  /* 1: output inverted (O.151 2^15-1 and 2^23-1) */
} prbs_poly_t;

/* generator of one channel */
typedef struct {
    uint32_t reg;
    uint64_t rate;   /* error insertion ratio in units of 1e-12 (exact for decimal ratios) */
    uint64_t acc;    /* accumulator: an error each time it reaches PRBS_RATE_ONE */
    int single;      /* errors still to insert at the next bit(s) */
    uint64_t bits;
    uint64_t inserted;
} prbs_gen_chan_t;

typedef struct {
    prbs_poly_t poly;
    int channels;
    prbs_gen_chan_t *chan;
} prbs_gen_t;

enum { PRBS_HUNT = 0, PRBS_SYNC = 1 };
#define PRBS_RATE_ONE 1000000000000ull

/* checker of one channel */
typedef struct {
    uint32_t reg;     /* reference register (loaded from the line while hunting) */
    int state;        /* PRBS_HUNT or PRBS_SYNC */
    int loaded;       /* bits shifted in since the hunt began */
    int good;         /* consecutive error-free bits while hunting */
    uint32_t win_bits;
    uint32_t win_errors;
    uint64_t bits;        /* bits compared while in sync */
    uint64_t errors;      /* errored bits while in sync */
    uint64_t sync_losses;
    uint64_t hunt_bits;   /* bits received while out of sync */
} prbs_chk_chan_t;

typedef struct {
    prbs_poly_t poly;
    int channels;
    int sync_bits;        /* error-free bits needed to declare sync */
    uint32_t window;      /* loss-of-sync integration window, bits */
    uint32_t loss_errors; /* errors within one window that mean loss of sync */
    prbs_chk_chan_t *chan;
} prbs_chk_t;

/* 0 on success, -1 on bad polynomial or no memory */
int prbs_gen_init(prbs_gen_t *g, prbs_poly_t poly, int channels);
void prbs_gen_free(prbs_gen_t *g);
/* set the channel's register (phase); a zero seed is replaced by all ones */
void prbs_gen_seed(prbs_gen_t *g, int channel, uint32_t seed);
/* add `errors` single errors; set the insertion ratio (errored bits per bit, 0..1) */
void prbs_gen_inject(prbs_gen_t *g, int channel, int errors, double rate);
/* out: [channels x octets] */
void prbs_gen_process(prbs_gen_t *g, uint8_t *out, int octets);

int prbs_chk_init(prbs_chk_t *c, prbs_poly_t poly, int channels, int sync_bits,
                  uint32_t window, uint32_t loss_errors);
void prbs_chk_free(prbs_chk_t *c);
void prbs_chk_reset(prbs_chk_t *c, int channel);
/* in: [channels x octets] */
void prbs_chk_process(prbs_chk_t *c, const uint8_t *in, int octets);
#endif
