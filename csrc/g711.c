/*
 * G.711 A-law / mu-law codec (see g711.h for scaling and bit conventions).
 *
 * Encoding needs the segment (chord) number, i.e. the position of the
 * leading one of the magnitude, and the four bits below it (the step).  A
 * magnitude below 2^15 converts exactly to a float whose biased exponent and
 * top four mantissa bits are exactly (chord + 134, step): bits >> 19 of the
 * IEEE-754 single gives ((e + 127) << 4) | step.  That replaces the search
 * for the leading one with a conversion the compiler vectorises, so the
 * block encoders run many samples per instruction without tables.
 */
#include "g711.h"

#include <string.h>

/* IEEE-754 single: bits >> 19 = (biased exponent << 4) | top 4 mantissa bits. */
static inline uint32_t chord_step(int32_t magnitude)
{
    float f = (float) magnitude;
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits >> 19;
}

/* (127 + 7) << 4: chord 0 of the float exponent scale is 2^7 at this scaling. */
#define CHORD_BIAS 0x860u

/* G.711 clause 3.2 (A-law, Table 1a/1b): magnitude of a negative sample is
 * -x - 1 (one's complement), the first two chords share step size 16. */
static inline uint8_t encode_alaw(int16_t x)
{
    int32_t sign = x >> 15;                 /* 0 or -1 */
    int32_t v = (int32_t) x ^ sign;         /* 0 .. 32767 */
    uint32_t chord0 = (uint32_t) v >> 4;
    uint32_t chords = chord_step(v) - CHORD_BIAS;
    uint32_t small = 0u - (uint32_t) (v < 256); /* all ones in chord 0 */
    uint32_t code = (chord0 & small) | (chords & ~small);
    return (uint8_t) (code ^ (0xD5u ^ ((uint32_t) sign & 0x80u)));
}

/* G.711 clause 3.3 (mu-law, Table 2a/2b): bias of 0x84 (33 at the 13-bit
 * scale) makes the chords start at powers of two; beyond chord 7 clip. */
static inline uint8_t encode_ulaw(int16_t x)
{
    int32_t sign = x >> 15;
    int32_t v = 0x84 + (((int32_t) x ^ sign) - sign); /* 132 .. 32900 */
    uint32_t code = chord_step(v) - CHORD_BIAS;
    code = code > 0x7Fu ? 0x7Fu : code;
    return (uint8_t) (code ^ (0xFFu ^ ((uint32_t) sign & 0x80u)));
}

uint8_t cti_linear_to_alaw(int16_t x) { return encode_alaw(x); }
uint8_t cti_linear_to_ulaw(int16_t x) { return encode_ulaw(x); }

void cti_alaw_encode(const int16_t *in, uint8_t *out, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        out[i] = encode_alaw(in[i]);
}

void cti_ulaw_encode(const int16_t *in, uint8_t *out, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        out[i] = encode_ulaw(in[i]);
}

static void map16(const int16_t *table, const uint8_t *restrict in, int16_t *restrict out, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        out[i] = table[in[i]];
}

static void map8(const uint8_t *table, const uint8_t *restrict in, uint8_t *restrict out, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        out[i] = table[in[i]];
}

void cti_alaw_decode(const uint8_t *in, int16_t *out, size_t n) { map16(cti_alaw_to_linear_table, in, out, n); }
void cti_ulaw_decode(const uint8_t *in, int16_t *out, size_t n) { map16(cti_ulaw_to_linear_table, in, out, n); }
void cti_alaw_to_ulaw(const uint8_t *in, uint8_t *out, size_t n) { map8(cti_alaw_to_ulaw_table, in, out, n); }
void cti_ulaw_to_alaw(const uint8_t *in, uint8_t *out, size_t n) { map8(cti_ulaw_to_alaw_table, in, out, n); }

/* G.711 Table 1 (A-law) decoder outputs x 8, indexed by transmitted character. */
const int16_t cti_alaw_to_linear_table[256] = {
    -5504, -5248, -6016, -5760, -4480, -4224, -4992, -4736,
    -7552, -7296, -8064, -7808, -6528, -6272, -7040, -6784,
    -2752, -2624, -3008, -2880, -2240, -2112, -2496, -2368,
    -3776, -3648, -4032, -3904, -3264, -3136, -3520, -3392,
    -22016, -20992, -24064, -23040, -17920, -16896, -19968, -18944,
    -30208, -29184, -32256, -31232, -26112, -25088, -28160, -27136,
    -11008, -10496, -12032, -11520, -8960, -8448, -9984, -9472,
    -15104, -14592, -16128, -15616, -13056, -12544, -14080, -13568,
    -344, -328, -376, -360, -280, -264, -312, -296,
    -472, -456, -504, -488, -408, -392, -440, -424,
    -88, -72, -120, -104, -24, -8, -56, -40,
    -216, -200, -248, -232, -152, -136, -184, -168,
    -1376, -1312, -1504, -1440, -1120, -1056, -1248, -1184,
    -1888, -1824, -2016, -1952, -1632, -1568, -1760, -1696,
    -688, -656, -752, -720, -560, -528, -624, -592,
    -944, -912, -1008, -976, -816, -784, -880, -848,
    5504, 5248, 6016, 5760, 4480, 4224, 4992, 4736,
    7552, 7296, 8064, 7808, 6528, 6272, 7040, 6784,
    2752, 2624, 3008, 2880, 2240, 2112, 2496, 2368,
    3776, 3648, 4032, 3904, 3264, 3136, 3520, 3392,
    22016, 20992, 24064, 23040, 17920, 16896, 19968, 18944,
    30208, 29184, 32256, 31232, 26112, 25088, 28160, 27136,
    11008, 10496, 12032, 11520, 8960, 8448, 9984, 9472,
    15104, 14592, 16128, 15616, 13056, 12544, 14080, 13568,
    344, 328, 376, 360, 280, 264, 312, 296,
    472, 456, 504, 488, 408, 392, 440, 424,
    88, 72, 120, 104, 24, 8, 56, 40,
    216, 200, 248, 232, 152, 136, 184, 168,
    1376, 1312, 1504, 1440, 1120, 1056, 1248, 1184,
    1888, 1824, 2016, 1952, 1632, 1568, 1760, 1696,
    688, 656, 752, 720, 560, 528, 624, 592,
    944, 912, 1008, 976, 816, 784, 880, 848,
};

/* G.711 Table 2 (mu-law) decoder outputs x 4, indexed by transmitted character. */
const int16_t cti_ulaw_to_linear_table[256] = {
    -32124, -31100, -30076, -29052, -28028, -27004, -25980, -24956,
    -23932, -22908, -21884, -20860, -19836, -18812, -17788, -16764,
    -15996, -15484, -14972, -14460, -13948, -13436, -12924, -12412,
    -11900, -11388, -10876, -10364, -9852, -9340, -8828, -8316,
    -7932, -7676, -7420, -7164, -6908, -6652, -6396, -6140,
    -5884, -5628, -5372, -5116, -4860, -4604, -4348, -4092,
    -3900, -3772, -3644, -3516, -3388, -3260, -3132, -3004,
    -2876, -2748, -2620, -2492, -2364, -2236, -2108, -1980,
    -1884, -1820, -1756, -1692, -1628, -1564, -1500, -1436,
    -1372, -1308, -1244, -1180, -1116, -1052, -988, -924,
    -876, -844, -812, -780, -748, -716, -684, -652,
    -620, -588, -556, -524, -492, -460, -428, -396,
    -372, -356, -340, -324, -308, -292, -276, -260,
    -244, -228, -212, -196, -180, -164, -148, -132,
    -120, -112, -104, -96, -88, -80, -72, -64,
    -56, -48, -40, -32, -24, -16, -8, 0,
    32124, 31100, 30076, 29052, 28028, 27004, 25980, 24956,
    23932, 22908, 21884, 20860, 19836, 18812, 17788, 16764,
    15996, 15484, 14972, 14460, 13948, 13436, 12924, 12412,
    11900, 11388, 10876, 10364, 9852, 9340, 8828, 8316,
    7932, 7676, 7420, 7164, 6908, 6652, 6396, 6140,
    5884, 5628, 5372, 5116, 4860, 4604, 4348, 4092,
    3900, 3772, 3644, 3516, 3388, 3260, 3132, 3004,
    2876, 2748, 2620, 2492, 2364, 2236, 2108, 1980,
    1884, 1820, 1756, 1692, 1628, 1564, 1500, 1436,
    1372, 1308, 1244, 1180, 1116, 1052, 988, 924,
    876, 844, 812, 780, 748, 716, 684, 652,
    620, 588, 556, 524, 492, 460, 428, 396,
    372, 356, 340, 324, 308, 292, 276, 260,
    244, 228, 212, 196, 180, 164, 148, 132,
    120, 112, 104, 96, 88, 80, 72, 64,
    56, 48, 40, 32, 24, 16, 8, 0,
};

/*
 * G.711 Table 4 (A -> mu) and Table 3 (mu -> A), indexed by transmitted
 * character.  In magnitude numbers (A: (c ^ 0x55) & 0x7F, mu: ~c & 0x7F,
 * 0 = smallest) the tables are the runs
 *   A -> mu: 0..7 -> 2n+1; 8..23 -> n+8; 24..31 -> 32+(n-24)/2; 32..43 -> n+4;
 *            44..47 -> 48+(n-44)/2; 48..62 -> n+2; 63..79 -> n+1; 80.. -> n
 *   mu -> A: 0..15 -> n/2; 16..31 -> n-8; 32..35 -> 24+2(n-32); 36..47 -> n-4;
 *            48..49 -> 45+2(n-48); 50..63 -> n-2; 64..80 -> n-1; 81.. -> n
 * with the sign bit carried over (both are monotonic in magnitude).
 */
const uint8_t cti_alaw_to_ulaw_table[256] = {
    0x2A, 0x2B, 0x28, 0x29, 0x2E, 0x2F, 0x2C, 0x2D, 0x22, 0x23, 0x20, 0x21, 0x26, 0x27, 0x24, 0x25,
    0x39, 0x3A, 0x37, 0x38, 0x3D, 0x3E, 0x3B, 0x3C, 0x31, 0x32, 0x2F, 0x30, 0x35, 0x36, 0x33, 0x34,
    0x0A, 0x0B, 0x08, 0x09, 0x0E, 0x0F, 0x0C, 0x0D, 0x02, 0x03, 0x00, 0x01, 0x06, 0x07, 0x04, 0x05,
    0x1A, 0x1B, 0x18, 0x19, 0x1E, 0x1F, 0x1C, 0x1D, 0x12, 0x13, 0x10, 0x11, 0x16, 0x17, 0x14, 0x15,
    0x62, 0x63, 0x60, 0x61, 0x66, 0x67, 0x64, 0x65, 0x5D, 0x5D, 0x5C, 0x5C, 0x5F, 0x5F, 0x5E, 0x5E,
    0x74, 0x76, 0x70, 0x72, 0x7C, 0x7E, 0x78, 0x7A, 0x6A, 0x6B, 0x68, 0x69, 0x6E, 0x6F, 0x6C, 0x6D,
    0x48, 0x49, 0x46, 0x47, 0x4C, 0x4D, 0x4A, 0x4B, 0x40, 0x41, 0x3F, 0x3F, 0x44, 0x45, 0x42, 0x43,
    0x56, 0x57, 0x54, 0x55, 0x5A, 0x5B, 0x58, 0x59, 0x4F, 0x4F, 0x4E, 0x4E, 0x52, 0x53, 0x50, 0x51,
    0xAA, 0xAB, 0xA8, 0xA9, 0xAE, 0xAF, 0xAC, 0xAD, 0xA2, 0xA3, 0xA0, 0xA1, 0xA6, 0xA7, 0xA4, 0xA5,
    0xB9, 0xBA, 0xB7, 0xB8, 0xBD, 0xBE, 0xBB, 0xBC, 0xB1, 0xB2, 0xAF, 0xB0, 0xB5, 0xB6, 0xB3, 0xB4,
    0x8A, 0x8B, 0x88, 0x89, 0x8E, 0x8F, 0x8C, 0x8D, 0x82, 0x83, 0x80, 0x81, 0x86, 0x87, 0x84, 0x85,
    0x9A, 0x9B, 0x98, 0x99, 0x9E, 0x9F, 0x9C, 0x9D, 0x92, 0x93, 0x90, 0x91, 0x96, 0x97, 0x94, 0x95,
    0xE2, 0xE3, 0xE0, 0xE1, 0xE6, 0xE7, 0xE4, 0xE5, 0xDD, 0xDD, 0xDC, 0xDC, 0xDF, 0xDF, 0xDE, 0xDE,
    0xF4, 0xF6, 0xF0, 0xF2, 0xFC, 0xFE, 0xF8, 0xFA, 0xEA, 0xEB, 0xE8, 0xE9, 0xEE, 0xEF, 0xEC, 0xED,
    0xC8, 0xC9, 0xC6, 0xC7, 0xCC, 0xCD, 0xCA, 0xCB, 0xC0, 0xC1, 0xBF, 0xBF, 0xC4, 0xC5, 0xC2, 0xC3,
    0xD6, 0xD7, 0xD4, 0xD5, 0xDA, 0xDB, 0xD8, 0xD9, 0xCF, 0xCF, 0xCE, 0xCE, 0xD2, 0xD3, 0xD0, 0xD1,
};

const uint8_t cti_ulaw_to_alaw_table[256] = {
    0x2A, 0x2B, 0x28, 0x29, 0x2E, 0x2F, 0x2C, 0x2D, 0x22, 0x23, 0x20, 0x21, 0x26, 0x27, 0x24, 0x25,
    0x3A, 0x3B, 0x38, 0x39, 0x3E, 0x3F, 0x3C, 0x3D, 0x32, 0x33, 0x30, 0x31, 0x36, 0x37, 0x34, 0x35,
    0x0A, 0x0B, 0x08, 0x09, 0x0E, 0x0F, 0x0C, 0x0D, 0x02, 0x03, 0x00, 0x01, 0x06, 0x07, 0x04, 0x1A,
    0x1B, 0x18, 0x19, 0x1E, 0x1F, 0x1C, 0x1D, 0x12, 0x13, 0x10, 0x11, 0x16, 0x17, 0x14, 0x15, 0x6A,
    0x68, 0x69, 0x6E, 0x6F, 0x6C, 0x6D, 0x62, 0x63, 0x60, 0x61, 0x66, 0x67, 0x64, 0x65, 0x7A, 0x78,
    0x7E, 0x7F, 0x7C, 0x7D, 0x72, 0x73, 0x70, 0x71, 0x76, 0x77, 0x74, 0x75, 0x4B, 0x49, 0x4F, 0x4D,
    0x42, 0x43, 0x40, 0x41, 0x46, 0x47, 0x44, 0x45, 0x5A, 0x5B, 0x58, 0x59, 0x5E, 0x5F, 0x5C, 0x5D,
    0x52, 0x52, 0x53, 0x53, 0x50, 0x50, 0x51, 0x51, 0x56, 0x56, 0x57, 0x57, 0x54, 0x54, 0x55, 0x55,
    0xAA, 0xAB, 0xA8, 0xA9, 0xAE, 0xAF, 0xAC, 0xAD, 0xA2, 0xA3, 0xA0, 0xA1, 0xA6, 0xA7, 0xA4, 0xA5,
    0xBA, 0xBB, 0xB8, 0xB9, 0xBE, 0xBF, 0xBC, 0xBD, 0xB2, 0xB3, 0xB0, 0xB1, 0xB6, 0xB7, 0xB4, 0xB5,
    0x8A, 0x8B, 0x88, 0x89, 0x8E, 0x8F, 0x8C, 0x8D, 0x82, 0x83, 0x80, 0x81, 0x86, 0x87, 0x84, 0x9A,
    0x9B, 0x98, 0x99, 0x9E, 0x9F, 0x9C, 0x9D, 0x92, 0x93, 0x90, 0x91, 0x96, 0x97, 0x94, 0x95, 0xEA,
    0xE8, 0xE9, 0xEE, 0xEF, 0xEC, 0xED, 0xE2, 0xE3, 0xE0, 0xE1, 0xE6, 0xE7, 0xE4, 0xE5, 0xFA, 0xF8,
    0xFE, 0xFF, 0xFC, 0xFD, 0xF2, 0xF3, 0xF0, 0xF1, 0xF6, 0xF7, 0xF4, 0xF5, 0xCB, 0xC9, 0xCF, 0xCD,
    0xC2, 0xC3, 0xC0, 0xC1, 0xC6, 0xC7, 0xC4, 0xC5, 0xDA, 0xDB, 0xD8, 0xD9, 0xDE, 0xDF, 0xDC, 0xDD,
    0xD2, 0xD2, 0xD3, 0xD3, 0xD0, 0xD0, 0xD1, 0xD1, 0xD6, 0xD6, 0xD7, 0xD7, 0xD4, 0xD4, 0xD5, 0xD5,
};
