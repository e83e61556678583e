/* Tone generator bank, see tonegen.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "g711.h"
#include "level.h"
#include "tonegen.h"

#define SINE_BITS 12
#define SINE_SIZE (1 << SINE_BITS)
#define FRAC_BITS (32 - SINE_BITS)
#define CHUNK 256

static float sine_table[SINE_SIZE + 1];
static int sine_ready;

static void sine_init(void)
{
    int i;
    if (sine_ready)
        return;
    for (i = 0; i <= SINE_SIZE; i++)
        sine_table[i] = (float) sin(2.0 * 3.14159265358979323846 * i / SINE_SIZE);
    sine_ready = 1;
}

static inline float sine_at(uint32_t phase)
{
    uint32_t i = phase >> FRAC_BITS;
    float frac = (float) (phase & ((1u << FRAC_BITS) - 1)) * (1.0f / (float) (1u << FRAC_BITS));
    return sine_table[i] + frac * (sine_table[i + 1] - sine_table[i]);
}

int cti_tonegen_init(cti_tonegen_t *g, int channels, int law)
{
    int i;
    memset(g, 0, sizeof(*g));
    if (channels <= 0 || law < CTI_LAW_ALAW || law > CTI_LAW_LINEAR)
        return -1;
    sine_init();
    g->channels = channels;
    g->law = law;
    g->ch = (cti_tonegen_chan_t *) calloc((size_t) channels, sizeof(cti_tonegen_chan_t));
    if (!g->ch)
        return -1;
    for (i = 0; i < channels; i++)
        g->ch[i].cur = -1;
    return 0;
}

void cti_tonegen_free(cti_tonegen_t *g)
{
    int i;
    if (g->ch)
        for (i = 0; i < g->channels; i++)
            free(g->ch[i].steps);
    free(g->ch);
    g->ch = NULL;
}

static void enter_step(cti_tonegen_chan_t *c, int step)
{
    const cti_tone_step_t *s = &c->steps[step];
    int k;
    c->cur = step;
    c->left = s->samples;
    for (k = 0; k < 2; k++) {
        c->phase[k] = 0;
        c->inc[k] = (uint32_t) (int64_t) floor(s->freq[k] / 8000.0 * 4294967296.0 + 0.5);
        c->amp[k] = s->freq[k] > 0.0 ? (float) s->amp[k] : 0.0f;
    }
}

int cti_tonegen_set(cti_tonegen_t *g, int ch, const cti_tone_step_t *steps, int n, int loop_to)
{
    cti_tonegen_chan_t *c;
    cti_tone_step_t *copy;
    if (ch < 0 || ch >= g->channels || n <= 0 || loop_to >= n)
        return -1;
    copy = (cti_tone_step_t *) malloc((size_t) n * sizeof(cti_tone_step_t));
    if (!copy)
        return -1;
    memcpy(copy, steps, (size_t) n * sizeof(cti_tone_step_t));
    c = &g->ch[ch];
    free(c->steps);
    c->steps = copy;
    c->nsteps = n;
    c->loop_to = loop_to < 0 ? -1 : loop_to;
    enter_step(c, 0);
    return 0;
}

void cti_tonegen_stop(cti_tonegen_t *g, int ch)
{
    if (ch >= 0 && ch < g->channels)
        g->ch[ch].cur = -1;
}

int cti_tonegen_busy(const cti_tonegen_t *g, int ch)
{
    return ch >= 0 && ch < g->channels && g->ch[ch].cur >= 0;
}

/* Advance past finished steps (zero-length steps are skipped); 0 when the program ends. */
static int next_step(cti_tonegen_chan_t *c)
{
    int guard = c->nsteps + 1;
    while (c->cur >= 0 && c->left == 0 && guard-- > 0) {
        int nxt = c->cur + 1;
        if (nxt >= c->nsteps)
            nxt = c->loop_to;
        if (nxt < 0) {
            c->cur = -1;
            return 0;
        }
        enter_step(c, nxt);
    }
    if (c->cur >= 0 && c->left == 0)
        c->cur = -1;   /* a loop of zero-length steps: nothing to play */
    return c->cur >= 0;
}

static void synth(cti_tonegen_chan_t *c, int16_t *out, int n)
{
    int i = 0;
    while (i < n) {
        int m = n - i, j;
        if (c->cur < 0 || !next_step(c)) {
            memset(out + i, 0, (size_t) (n - i) * sizeof(int16_t));
            return;
        }
        if (c->left > 0 && c->left < m)
            m = c->left;
        for (j = 0; j < m; j++) {
            float v = c->amp[0] * sine_at(c->phase[0]) + c->amp[1] * sine_at(c->phase[1]);
            c->phase[0] += c->inc[0];
            c->phase[1] += c->inc[1];
            v += v >= 0.0f ? 0.5f : -0.5f;
            out[i + j] = (int16_t) (v > 32767.0f ? 32767.0f : v < -32768.0f ? -32768.0f : v);
        }
        if (c->left > 0)
            c->left -= m;
        i += m;
    }
}

void cti_tonegen_process(cti_tonegen_t *g, void *out, int frames)
{
    int16_t buf[CHUNK];
    int ch;
    for (ch = 0; ch < g->channels; ch++) {
        cti_tonegen_chan_t *c = &g->ch[ch];
        int off;
        if (g->law == CTI_LAW_LINEAR) {
            synth(c, (int16_t *) out + (size_t) ch * frames, frames);
            continue;
        }
        {
            uint8_t *o = (uint8_t *) out + (size_t) ch * frames;
            if (c->cur < 0) {
                memset(o, g->law == CTI_LAW_ULAW ? CTI_ULAW_SILENCE : CTI_ALAW_SILENCE,
                       (size_t) frames);
                continue;
            }
            for (off = 0; off < frames; off += CHUNK) {
                int n = frames - off < CHUNK ? frames - off : CHUNK;
                synth(c, buf, n);
                if (g->law == CTI_LAW_ULAW)
                    cti_ulaw_encode(buf, o + off, (size_t) n);
                else
                    cti_alaw_encode(buf, o + off, (size_t) n);
            }
        }
    }
}
