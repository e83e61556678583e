/*
 * G.711 (11/88) A-law and mu-law PCM: encode, decode and direct transcoding.
 *
 * Linear samples are 16-bit two's complement, scaled as spandsp scales them:
 * A-law decode gives the G.711 Table 1 decoder output x 8 (13-bit range
 * in the top bits), mu-law decode gives the Table 2 decoder output x 4
 * (14-bit range).  Encoding quantises with the G.711 decision values at the
 * same scale; transcoding follows G.711 Tables 3 (mu -> A) and 4 (A -> mu),
 * not decode-then-encode.  Codes are the transmitted characters: A-law with
 * even bits inverted (the 0x55 mask, clause 3.2), mu-law with all magnitude
 * bits inverted (clause 3.3).
 */
#ifndef CTI_G711_H
#define CTI_G711_H

#include <stddef.h>
#include <stdint.h>

#define CTI_ALAW_SILENCE 0xD5u /* A-law character for +0 */
#define CTI_ULAW_SILENCE 0xFFu /* mu-law character for +0 */

extern const int16_t cti_alaw_to_linear_table[256];
extern const int16_t cti_ulaw_to_linear_table[256];
extern const uint8_t cti_alaw_to_ulaw_table[256];
extern const uint8_t cti_ulaw_to_alaw_table[256];

uint8_t cti_linear_to_alaw(int16_t x);
uint8_t cti_linear_to_ulaw(int16_t x);

static inline int16_t cti_alaw_to_linear(uint8_t a) { return cti_alaw_to_linear_table[a]; }
static inline int16_t cti_ulaw_to_linear(uint8_t u) { return cti_ulaw_to_linear_table[u]; }

void cti_alaw_encode(const int16_t *in, uint8_t *out, size_t n);
void cti_alaw_decode(const uint8_t *in, int16_t *out, size_t n);
void cti_ulaw_encode(const int16_t *in, uint8_t *out, size_t n);
void cti_ulaw_decode(const uint8_t *in, int16_t *out, size_t n);
void cti_alaw_to_ulaw(const uint8_t *in, uint8_t *out, size_t n);
void cti_ulaw_to_alaw(const uint8_t *in, uint8_t *out, size_t n);

#endif
