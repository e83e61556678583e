/*
 * r2_peer: unmodified openr2 (libopenr2 1.3.x) channels driven in lockstep by a test.
 *
 * libopenr2 1.3.x talks to DAHDI directly (ioctl/read/write on the channel fd, gettimeofday
 * for its timers).  This executable defines those symbols itself, so the library's calls land
 * here: fake DAHDI CAS channels whose ABCD bits and 160-octet A-law blocks are carried one
 * 20 ms tick at a time.  Time is virtual: it advances 20 ms per tick, so openr2's timers are
 * deterministic.
 *
 * Peer mode (one channel, the far end of our stack), over a SOCK_SEQPACKET fd:
 *   per tick the test sends   'T' abcd mf audio[160]
 *   the peer answers          'E' text...   (zero or more events)   then   'R' abcd mf audio[160]
 *   mf is the register signal 1..15 (0 none), used only with --symbolic-mf, where openr2 gets
 *   an MF interface that exchanges signals instead of tones (audio is then silence); without
 *   it openr2 generates and detects real MF-R2 tones in the audio.  'Q' ends the peer.
 *
 * Bench mode (--bench PAIRS, no socket): PAIRS openr2 channels call PAIRS openr2 channels in
 * the same process, back to back, all at once; prints "ticks cpu_seconds answered cycle_ms"
 * (cycle_ms: median time between successive forward signal onsets of the outgoing ends).
 */
#define _GNU_SOURCE
#include <dahdi/user.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <openr2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 160
#define TICK_US 20000
#define MAX_CHANS 1024
#define MAX_FD 8192

/* ---- fake DAHDI channels --------------------------------------------------------------- */
struct fakechan {
	int fd, index;
	int rx_abcd, tx_abcd, pending_event, read_ready, write_budget;
	int rx_mf, tx_mf;                       /* symbolic MF, as 1..15 */
	unsigned char rx_audio[BLOCK], tx_audio[BLOCK];
	openr2_chan_t *r2;
	long answer_tick, hangup_tick;
	int last_tx_mf;                         /* bench: forward signal seen last tick */
};

static struct fakechan chans[MAX_CHANS];
static struct fakechan *by_fd[MAX_FD];
static int nchans = 0;
static long long now_us = 1700000000LL * 1000000LL;
static long tick = 0;
static int sock = -1;                       /* peer mode: link to the test */
static int verbose = 0, bench_pairs = 0;

static struct fakechan *fake(int fd)
{
	return (fd >= 0 && fd < MAX_FD) ? by_fd[fd] : NULL;
}

int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	struct fakechan *c = fake(fd);
	if (!c)
		return (int)syscall(SYS_ioctl, fd, req, arg);
	int *iarg = arg;
	switch (req) {
	case DAHDI_CHANNO:
		*iarg = c->index + 1;
		return 0;
	case DAHDI_GET_PARAMS: {
		struct dahdi_params *p = arg;
		memset(p, 0, sizeof(*p));
		p->channo = c->index + 1;
		p->sigtype = DAHDI_SIG_CAS;
		p->sigcap = DAHDI_SIG_CAS;
		return 0;
	}
	case DAHDI_GET_BUFINFO:
		memset(arg, 0, sizeof(struct dahdi_bufferinfo));
		return 0;
	case DAHDI_SET_BUFINFO: case DAHDI_SETGAINS: case DAHDI_SETLAW: case DAHDI_ECHOCANCEL:
	case DAHDI_FLUSH: case DAHDI_SETLINEAR: case DAHDI_SPECIFY:
		return 0;
	case DAHDI_SETTXBITS:
		c->tx_abcd = *iarg & 0xF;
		return 0;
	case DAHDI_GETRXBITS:
		*iarg = c->rx_abcd;
		return 0;
	case DAHDI_GETEVENT:
		*iarg = c->pending_event;
		c->pending_event = 0;
		return 0;
	case DAHDI_IOMUX: {
		int want = *iarg, got = 0;
		if ((want & DAHDI_IOMUX_SIGEVENT) && c->pending_event)
			got = DAHDI_IOMUX_SIGEVENT;
		else if ((want & DAHDI_IOMUX_READ) && c->read_ready)
			got = DAHDI_IOMUX_READ;
		else if ((want & DAHDI_IOMUX_WRITE) && c->write_budget)
			got = DAHDI_IOMUX_WRITE;
		*iarg = got;
		return 0;
	}
	default:
		errno = EINVAL;
		return -1;
	}
}

ssize_t read(int fd, void *buf, size_t n)
{
	struct fakechan *c = fake(fd);
	if (!c)
		return syscall(SYS_read, fd, buf, n);
	if (!c->read_ready) {
		errno = EAGAIN;
		return -1;
	}
	c->read_ready = 0;
	if (n > BLOCK)
		n = BLOCK;
	memcpy(buf, c->rx_audio, n);
	return (ssize_t)n;
}

ssize_t write(int fd, const void *buf, size_t n)
{
	struct fakechan *c = fake(fd);
	if (!c)
		return syscall(SYS_write, fd, buf, n);
	if (n > BLOCK)
		n = BLOCK;
	memcpy(c->tx_audio, buf, n);
	c->write_budget = 0;
	return (ssize_t)n;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	(void)tz;
	tv->tv_sec = (time_t)(now_us / 1000000);
	tv->tv_usec = (suseconds_t)(now_us % 1000000);
	return 0;
}

/* one tick's input to a channel: far-end bits, signal and audio */
static void chan_input(struct fakechan *c, int abcd, int mf, const unsigned char *audio)
{
	if ((abcd & 0xF) != c->rx_abcd) {
		c->rx_abcd = abcd & 0xF;
		c->pending_event = DAHDI_EVENT_BITSCHANGED;
	}
	c->rx_mf = mf <= 15 ? mf : 0;
	memcpy(c->rx_audio, audio, BLOCK);
	memset(c->tx_audio, 0xD5, BLOCK);
	c->read_ready = 1;
	c->write_budget = 1;
}

/* ---- symbolic MF interface (signals instead of tones); handles are fakechans ----------- */
static const char tone_chars[] = "1234567890BCDEF";

static int tone_to_signal(int tone)
{
	const char *p = tone ? strchr(tone_chars, tone) : NULL;
	return p ? (int)(p - tone_chars) + 1 : 0;
}

static void *sym_init(void *h, int fwd) { (void)fwd; return h; }
static int sym_detect(void *h, const int16_t b[], int n)
{
	struct fakechan *c = h;
	(void)b; (void)n;
	return c->rx_mf ? tone_chars[c->rx_mf - 1] : 0;
}
static int sym_generate(void *h, int16_t b[], int n) { (void)h; (void)b; (void)n; return 0; }
static int sym_select(void *h, char signal)
{
	struct fakechan *c = h;
	c->tx_mf = tone_to_signal(signal);
	return 0;
}
static int sym_want(void *h, int signal) { (void)h; (void)signal; return 0; }
static openr2_mflib_interface_t sym_mflib = {
	.mf_read_init = sym_init, .mf_write_init = sym_init,
	.mf_detect_tone = sym_detect, .mf_generate_tone = sym_generate,
	.mf_select_tone = sym_select, .mf_want_generate = sym_want,
};

/* ---- script (peer mode) and events ------------------------------------------------------ */
static const char *opt_variant = "ITU", *opt_role = "in", *opt_dnis = "", *opt_ani = NULL;
static const char *opt_on_offer = "accept";
static int opt_category = OR2_CALLING_PARTY_CATEGORY_NATIONAL_SUBSCRIBER;
static int opt_max_ani = 10, opt_max_dnis = 4, opt_call_at = 5, opt_answer_after = 5;
static int opt_hangup_after = 0, opt_ani_first = -1, opt_symbolic = 0;
static long answered_count = 0;
#define MAX_GAPS (MAX_CHANS * 64)
static double gaps_ms[MAX_GAPS];
static long cycle_n = 0;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static struct fakechan *of(openr2_chan_t *r2)
{
	return fake(openr2_chan_get_fd(r2));
}

static void send_event(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	if (sock < 0)
		return;
	buf[0] = 'E';
	va_start(ap, fmt);
	int n = vsnprintf(buf + 1, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	send(sock, buf, (size_t)n + 1, 0);
}

static void on_call_init(openr2_chan_t *c) { (void)c; send_event("init"); }

static void on_call_offered(openr2_chan_t *c, const char *ani, const char *dnis,
			    openr2_calling_party_category_t cat)
{
	send_event("offered ani=%s dnis=%s category=%d", ani ? ani : "-", dnis ? dnis : "-", (int)cat);
	if (!strcmp(opt_on_offer, "accept"))
		openr2_chan_accept_call(c, OR2_CALL_WITH_CHARGE);
	else if (!strcmp(opt_on_offer, "busy"))
		openr2_chan_disconnect_call(c, OR2_CAUSE_BUSY_NUMBER);
	else if (!strcmp(opt_on_offer, "unallocated"))
		openr2_chan_disconnect_call(c, OR2_CAUSE_UNALLOCATED_NUMBER);
	else
		openr2_chan_disconnect_call(c, OR2_CAUSE_NETWORK_CONGESTION);
}

static void on_call_accepted(openr2_chan_t *c, openr2_call_mode_t mode)
{
	struct fakechan *f = of(c);
	send_event("accepted mode=%d", (int)mode);
	if (openr2_chan_get_direction(c) == OR2_DIR_BACKWARD)
		f->answer_tick = tick + (bench_pairs ? 1 : opt_answer_after);
}

static void on_call_answered(openr2_chan_t *c)
{
	struct fakechan *f = of(c);
	send_event("answered");
	answered_count++;
	if (opt_hangup_after > 0)
		f->hangup_tick = tick + opt_hangup_after;
}

static void on_call_disconnect(openr2_chan_t *c, openr2_call_disconnect_cause_t cause)
{
	char text[64];
	snprintf(text, sizeof(text), "%s", openr2_proto_get_disconnect_string(cause));
	for (char *p = text; *p; p++)
		if (*p == ' ')
			*p = '_';
	send_event("disconnect cause=%s", text);
	openr2_chan_disconnect_call(c, OR2_CAUSE_NORMAL_CLEARING);
}

static void on_call_end(openr2_chan_t *c) { (void)c; send_event("end"); }
static void on_call_read(openr2_chan_t *c, const unsigned char *b, int n) { (void)c; (void)b; (void)n; }
static void on_os_error(openr2_chan_t *c, int e) { (void)c; send_event("os_error %d", e); }
static void on_hardware_alarm(openr2_chan_t *c, int a) { (void)c; (void)a; }

static void on_protocol_error(openr2_chan_t *c, openr2_protocol_error_t e)
{
	(void)c;
	send_event("protocol_error %s", openr2_proto_get_error(e));
}

static void on_line_blocked(openr2_chan_t *c) { (void)c; send_event("blocked"); }
static void on_line_idle(openr2_chan_t *c) { (void)c; send_event("idle"); }
static void on_billing(openr2_chan_t *c) { (void)c; send_event("meter"); }
static int on_dnis_digit(openr2_chan_t *c, char d) { (void)c; send_event("dnis_digit %c", d); return 1; }
static void on_ani_digit(openr2_chan_t *c, char d) { (void)c; send_event("ani_digit %c", d); }

static void on_context_log(openr2_context_t *ctx, openr2_log_level_t l, const char *fmt, va_list ap)
{
	(void)ctx; (void)l; (void)fmt; (void)ap;
}

static void on_chan_log(openr2_chan_t *c, openr2_log_level_t l, const char *fmt, va_list ap)
{
	char buf[400];
	(void)c; (void)l;
	if (!verbose)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = 0;
	send_event("log %s", buf);
}

static openr2_event_interface_t events = {
	.on_call_init = on_call_init, .on_call_offered = on_call_offered,
	.on_call_accepted = on_call_accepted, .on_call_answered = on_call_answered,
	.on_call_disconnect = on_call_disconnect, .on_call_end = on_call_end,
	.on_call_read = on_call_read, .on_hardware_alarm = on_hardware_alarm,
	.on_os_error = on_os_error, .on_protocol_error = on_protocol_error,
	.on_line_blocked = on_line_blocked, .on_line_idle = on_line_idle,
	.on_context_log = on_context_log, .on_dnis_digit_received = on_dnis_digit,
	.on_ani_digit_received = on_ani_digit, .on_billing_pulse_received = on_billing,
};

static void usage(void)
{
	fprintf(stderr, "usage: r2_peer SOCKFD [--variant V] [--role in|out] [--dnis D] [--ani A] "
		"[--category N] [--max-ani N] [--max-dnis N] [--on-offer accept|busy|unallocated|congestion] "
		"[--call-at TICK] [--answer-after TICKS] [--hangup-after TICKS] [--ani-first 0|1] "
		"[--symbolic-mf] [--verbose]\n"
		"       r2_peer --bench PAIRS [--variant V] [--dnis D] [--ani A] [--symbolic-mf]\n");
	exit(2);
}

static struct fakechan *new_chan(openr2_context_t *ctx)
{
	if (nchans == MAX_CHANS) {
		fprintf(stderr, "r2_peer: too many channels\n");
		exit(1);
	}
	struct fakechan *c = &chans[nchans];
	memset(c, 0, sizeof(*c));
	c->index = nchans++;
	c->fd = (int)syscall(SYS_dup, 2);  /* any valid fd number stands for a channel */
	if (c->fd < 0 || c->fd >= MAX_FD) {
		fprintf(stderr, "r2_peer: no fd for a channel\n");
		exit(1);
	}
	c->rx_abcd = c->tx_abcd = 0x9;
	c->answer_tick = c->hangup_tick = -1;
	by_fd[c->fd] = c;
	c->r2 = openr2_chan_new_from_fd(ctx, c->fd, opt_symbolic ? c : NULL, opt_symbolic ? c : NULL);
	if (!c->r2) {
		fprintf(stderr, "r2_peer: openr2_chan_new_from_fd failed\n");
		exit(1);
	}
	openr2_chan_set_logging_func(c->r2, on_chan_log);
	openr2_chan_set_log_level(c->r2, verbose ? OR2_LOG_ALL : OR2_LOG_NOTHING);
	openr2_chan_set_idle(c->r2);
	openr2_chan_handle_cas(c->r2);
	memset(c->tx_audio, 0xD5, BLOCK);
	return c;
}

static void scheduled(struct fakechan *c)
{
	if (tick == c->answer_tick) {
		openr2_chan_answer_call(c->r2);
		send_event("answering");
		if (opt_hangup_after > 0)  /* openr2 reports no answered event to the callee */
			c->hangup_tick = tick + opt_hangup_after;
	}
	if (tick == c->hangup_tick) {
		openr2_chan_disconnect_call(c->r2, OR2_CAUSE_NORMAL_CLEARING);
		send_event("hanging_up");
	}
}

static void make_call(struct fakechan *c)
{
	if (openr2_chan_make_call(c->r2, opt_ani, opt_dnis,
				  (openr2_calling_party_category_t)opt_category))
		send_event("make_call_failed");
	else
		send_event("calling");
}

static int run_peer(void)
{
	struct fakechan *c = &chans[0];
	unsigned char pkt[3 + BLOCK];
	for (;;) {
		ssize_t n = recv(sock, pkt, sizeof(pkt), 0);
		if (n <= 0 || pkt[0] == 'Q')
			break;
		if (pkt[0] != 'T' || n != (ssize_t)sizeof(pkt))
			continue;
		tick++;
		now_us += TICK_US;
		/* an outgoing call starts before this tick's bits are read: a seize from both ends
		   in the same tick is a real dual seizure */
		if (!strcmp(opt_role, "out") && tick == opt_call_at)
			make_call(c);
		chan_input(c, pkt[1], pkt[2], pkt + 3);
		scheduled(c);
		openr2_chan_process_event(c->r2);
		unsigned char out[3 + BLOCK];
		out[0] = 'R';
		out[1] = (unsigned char)c->tx_abcd;
		out[2] = (unsigned char)c->tx_mf;
		memcpy(out + 3, c->tx_audio, BLOCK);
		send(sock, out, sizeof(out), 0);
	}
	return 0;
}

static int run_bench(void)
{
	static unsigned char audio[MAX_CHANS][BLOCK];
	static int abcd[MAX_CHANS], mf[MAX_CHANS];
	long prev_onset[MAX_CHANS];
	int n = nchans, pairs = bench_pairs;
	for (int i = 0; i < n; i++)
		prev_onset[i] = -1;
	for (int i = 0; i < pairs; i++)
		make_call(&chans[i]);
	struct timespec t0, t1;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	while (answered_count < pairs && tick < 1500) {
		tick++;
		now_us += TICK_US;
		for (int i = 0; i < n; i++) {  /* what each end sent last tick */
			abcd[i] = chans[i].tx_abcd;
			mf[i] = chans[i].tx_mf;
			memcpy(audio[i], chans[i].tx_audio, BLOCK);
		}
		for (int i = 0; i < n; i++) {
			int peer = i < pairs ? i + pairs : i - pairs;
			chan_input(&chans[i], abcd[peer], mf[peer], audio[peer]);
			scheduled(&chans[i]);
			openr2_chan_process_event(chans[i].r2);
			/* the outgoing ends' forward signal onsets measure the compelled cycle */
			int sig = i < pairs ? openr2_chan_get_tx_mf_signal(chans[i].r2) : 0;
			if (sig > 0 && sig != chans[i].last_tx_mf) {
				if (prev_onset[i] >= 0 && cycle_n < MAX_GAPS)
					gaps_ms[cycle_n++] = (double)(tick - prev_onset[i]) * TICK_US / 1000.0;
				prev_onset[i] = tick;
			}
			if (i < pairs)
				chans[i].last_tx_mf = sig > 0 ? sig : 0;
		}
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	double cpu = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	qsort(gaps_ms, (size_t)cycle_n, sizeof(gaps_ms[0]), cmp_double);
	printf("%ld %.6f %ld %.3f\n", tick, cpu, answered_count,
	       cycle_n ? gaps_ms[cycle_n / 2] : -1.0);  /* median compelled cycle */
	return answered_count == pairs ? 0 : 1;
}

int main(int argc, char **argv)
{
	int first = 1;
	if (argc >= 2 && strcmp(argv[1], "--bench")) {
		sock = atoi(argv[1]);
		first = 2;
	}
	for (int i = first; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--symbolic-mf")) { opt_symbolic = 1; continue; }
		if (!strcmp(a, "--verbose")) { verbose = 1; continue; }
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--variant")) opt_variant = v;
		else if (!strcmp(a, "--role")) opt_role = v;
		else if (!strcmp(a, "--dnis")) opt_dnis = v;
		else if (!strcmp(a, "--ani")) opt_ani = v;
		else if (!strcmp(a, "--category")) opt_category = atoi(v);
		else if (!strcmp(a, "--max-ani")) opt_max_ani = atoi(v);
		else if (!strcmp(a, "--max-dnis")) opt_max_dnis = atoi(v);
		else if (!strcmp(a, "--on-offer")) opt_on_offer = v;
		else if (!strcmp(a, "--call-at")) opt_call_at = atoi(v);
		else if (!strcmp(a, "--answer-after")) opt_answer_after = atoi(v);
		else if (!strcmp(a, "--hangup-after")) opt_hangup_after = atoi(v);
		else if (!strcmp(a, "--ani-first")) opt_ani_first = atoi(v);
		else if (!strcmp(a, "--bench")) bench_pairs = atoi(v);
		else usage();
	}
	if (sock < 0 && (bench_pairs <= 0 || 2 * bench_pairs > MAX_CHANS))
		usage();
	openr2_variant_t variant = openr2_proto_get_variant(opt_variant);
	if (variant == OR2_VAR_UNKNOWN) {
		fprintf(stderr, "r2_peer: unknown variant %s\n", opt_variant);
		return 2;
	}
	openr2_context_t *ctx = openr2_context_new(opt_symbolic ? &sym_mflib : NULL, &events, NULL,
						   variant, opt_max_ani, opt_max_dnis);
	if (!ctx) {
		fprintf(stderr, "r2_peer: openr2_context_new failed\n");
		return 1;
	}
	if (opt_ani_first >= 0)
		openr2_context_set_ani_first(ctx, opt_ani_first);
	int count = sock >= 0 ? 1 : 2 * bench_pairs;
	for (int i = 0; i < count; i++)
		new_chan(ctx);
	int rc = sock >= 0 ? run_peer() : run_bench();
	openr2_context_delete(ctx);  /* deletes its channels too */
	return rc;
}
