/*
 * Conference bridges over fabric slots.
 *
 * Each party is a slot.  Contributions are decoded from the party's receive
 * row (G.711, the slot's law), scaled by the party's input gain; each party
 * hears the sum of the others' contributions (not its own), scaled by its
 * output gain, saturated to 16 bits and encoded in its law into its transmit
 * row.  Modes:
 *   NORMAL  contributes to everyone, hears everyone else
 *   LISTEN  hears everyone, contributes nothing
 *   TALK    contributes to everyone, hears nothing (transmits its idle octet)
 *   COACH   heard only by the party in slot `coach_of` (whisper), hears
 *           everyone else like a NORMAL party
 * Gains are Q12 fixed point (4096 = 0 dB): y = (x * g + 2048) >> 12.
 */
#ifndef CTI_CONF_H
#define CTI_CONF_H

#include <stddef.h>
#include <stdint.h>

#define CTI_CONF_MAX_PARTIES 64
#define CTI_CONF_UNITY 4096

enum { CTI_CONF_NORMAL = 0, CTI_CONF_LISTEN = 1, CTI_CONF_TALK = 2, CTI_CONF_COACH = 3 };

typedef struct {
    int32_t slot;
    int32_t mode;
    int32_t coach_of;  /* COACH: slot of the party that hears the coach, else -1 */
    int32_t gain_in;   /* Q12 */
    int32_t gain_out;  /* Q12 */
} cti_conf_party_t;

typedef struct {
    int32_t nparties;
    cti_conf_party_t party[CTI_CONF_MAX_PARTIES];
} cti_conf_t;

void cti_conf_init(cti_conf_t *c);
/* Add or update a party; returns its index, or -1 when the bridge is full. */
int cti_conf_set(cti_conf_t *c, const cti_conf_party_t *p);
/* Remove the party in `slot`; returns 0, or -1 when it is not a party. */
int cti_conf_remove(cti_conf_t *c, int32_t slot);
int cti_conf_find(const cti_conf_t *c, int32_t slot);

/* Mix one block.  law[s] is the law of slot s (0 A-law, 1 mu-law); idle[s]
 * its idle octet (for TALK parties). */
void cti_conf_mix(const cti_conf_t *c, const uint8_t *rx, ptrdiff_t rx_stride,
                  uint8_t *tx, ptrdiff_t tx_stride, int frames,
                  const uint8_t *law, const uint8_t *idle);

#endif
