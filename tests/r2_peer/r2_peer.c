/*
 * r2_peer: one unmodified openr2 (libopenr2 1.3.x) channel driven in lockstep by a test.
 *
 * libopenr2 1.3.x talks to DAHDI directly (ioctl/read/write on the channel fd, gettimeofday
 * for its timers).  This executable defines those symbols itself, so the library's calls land
 * here: a fake DAHDI CAS channel whose ABCD bits and 160-octet A-law blocks travel over a
 * SOCK_SEQPACKET socket (fd given on the command line) to the test, one 20 ms tick at a time.
 * Time is virtual: it advances 20 ms per tick, so openr2's timers are deterministic.
 *
 * Per tick the test sends   'T' abcd mf audio[160]
 * and the peer answers      'E' text...   (zero or more events)   then   'R' abcd mf audio[160]
 * mf is the register signal 1..15 (0 none); it is used only with --symbolic-mf, where the peer
 * gives openr2 an MF interface that exchanges signals instead of tones (the audio octets are
 * then silence).  Without it openr2 generates and detects real MF-R2 tones in the audio.
 * 'Q' ends the peer.
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
#include <unistd.h>

#define BLOCK 160
#define TICK_US 20000

static int sock = -1;       /* link to the test */
static int chanfd = -1;     /* the fake DAHDI channel */
static int rx_abcd = 0x9, tx_abcd = 0x9;
static int pending_event = 0;
static int read_ready = 0, write_budget = 0;
static unsigned char rx_audio[BLOCK], tx_audio[BLOCK];
static int rx_mf = 0, tx_mf = 0;            /* symbolic MF, as 1..15 */
static long long now_us = 1700000000LL * 1000000LL;
static long tick = 0;
static int verbose = 0;

/* ---- script --------------------------------------------------------------------------- */
static const char *opt_variant = "ITU", *opt_role = "in", *opt_dnis = "", *opt_ani = NULL;
static const char *opt_on_offer = "accept";
static int opt_category = OR2_CALLING_PARTY_CATEGORY_NATIONAL_SUBSCRIBER;
static int opt_max_ani = 10, opt_max_dnis = 4, opt_call_at = 5, opt_answer_after = 5;
static int opt_hangup_after = 0, opt_ani_first = -1, opt_symbolic = 0;
static long answer_tick = -1, hangup_tick = -1;
static openr2_chan_t *chan;

static void send_event(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
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

/* ---- the fake DAHDI channel: symbols libopenr2 resolves to ------------------------------ */
int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	if (fd != chanfd)
		return (int)syscall(SYS_ioctl, fd, req, arg);
	int *iarg = arg;
	switch (req) {
	case DAHDI_CHANNO:
		*iarg = 1;
		return 0;
	case DAHDI_GET_PARAMS: {
		struct dahdi_params *p = arg;
		memset(p, 0, sizeof(*p));
		p->channo = 1;
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
		tx_abcd = *iarg & 0xF;
		return 0;
	case DAHDI_GETRXBITS:
		*iarg = rx_abcd;
		return 0;
	case DAHDI_GETEVENT:
		*iarg = pending_event;
		pending_event = 0;
		return 0;
	case DAHDI_IOMUX: {
		int want = *iarg, got = 0;
		if ((want & DAHDI_IOMUX_SIGEVENT) && pending_event)
			got = DAHDI_IOMUX_SIGEVENT;
		else if ((want & DAHDI_IOMUX_READ) && read_ready)
			got = DAHDI_IOMUX_READ;
		else if ((want & DAHDI_IOMUX_WRITE) && write_budget)
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
	if (fd != chanfd)
		return syscall(SYS_read, fd, buf, n);
	if (!read_ready) {
		errno = EAGAIN;
		return -1;
	}
	read_ready = 0;
	if (n > BLOCK)
		n = BLOCK;
	memcpy(buf, rx_audio, n);
	return (ssize_t)n;
}

ssize_t write(int fd, const void *buf, size_t n)
{
	if (fd != chanfd)
		return syscall(SYS_write, fd, buf, n);
	if (n > BLOCK)
		n = BLOCK;
	memcpy(tx_audio, buf, n);
	write_budget = 0;
	return (ssize_t)n;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	(void)tz;
	tv->tv_sec = (time_t)(now_us / 1000000);
	tv->tv_usec = (suseconds_t)(now_us % 1000000);
	return 0;
}

/* ---- symbolic MF interface (signals instead of tones) ----------------------------------- */
static const char tone_chars[] = "1234567890BCDEF";

static int tone_to_signal(int tone)
{
	const char *p = tone ? strchr(tone_chars, tone) : NULL;
	return p ? (int)(p - tone_chars) + 1 : 0;
}

static int sym_rx_state, sym_tx_state;
static void *sym_read_init(void *h, int fwd) { (void)fwd; return h; }
static void *sym_write_init(void *h, int fwd) { (void)fwd; return h; }
static int sym_detect(void *h, const int16_t b[], int n)
{
	(void)h; (void)b; (void)n;
	return rx_mf ? tone_chars[rx_mf - 1] : 0;
}
static int sym_generate(void *h, int16_t b[], int n) { (void)h; (void)b; (void)n; return 0; }
static int sym_select(void *h, char signal) { (void)h; tx_mf = tone_to_signal(signal); return 0; }
static int sym_want(void *h, int signal) { (void)h; (void)signal; return 0; }
static openr2_mflib_interface_t sym_mflib = {
	.mf_read_init = sym_read_init, .mf_write_init = sym_write_init,
	.mf_detect_tone = sym_detect, .mf_generate_tone = sym_generate,
	.mf_select_tone = sym_select, .mf_want_generate = sym_want,
};

/* ---- openr2 events ------------------------------------------------------------------------ */
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
	(void)c;
	send_event("accepted mode=%d", (int)mode);
	if (!strcmp(opt_role, "in"))
		answer_tick = tick + opt_answer_after;
}

static void on_call_answered(openr2_chan_t *c)
{
	(void)c;
	send_event("answered");
	if (opt_hangup_after > 0)
		hangup_tick = tick + opt_hangup_after;
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
		"[--symbolic-mf] [--verbose]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	sock = atoi(argv[1]);
	for (int i = 2; i < argc; i++) {
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
		else usage();
	}
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
	chanfd = (int)syscall(SYS_dup, sock);  /* any valid fd number stands for the channel */
	chan = openr2_chan_new_from_fd(ctx, chanfd, opt_symbolic ? &sym_tx_state : NULL,
				       opt_symbolic ? &sym_rx_state : NULL);
	if (!chan) {
		fprintf(stderr, "r2_peer: openr2_chan_new_from_fd failed\n");
		return 1;
	}
	openr2_chan_set_logging_func(chan, on_chan_log);
	openr2_chan_set_log_level(chan, verbose ? OR2_LOG_ALL : OR2_LOG_NOTHING);
	openr2_chan_set_idle(chan);
	openr2_chan_handle_cas(chan);
	memset(tx_audio, 0xD5, BLOCK);

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
		if (!strcmp(opt_role, "out") && tick == opt_call_at) {
			if (openr2_chan_make_call(chan, opt_ani, opt_dnis,
						  (openr2_calling_party_category_t)opt_category))
				send_event("make_call_failed");
			else
				send_event("calling");
		}
		if ((pkt[1] & 0xF) != rx_abcd) {
			rx_abcd = pkt[1] & 0xF;
			pending_event = DAHDI_EVENT_BITSCHANGED;
		}
		rx_mf = pkt[2] <= 15 ? pkt[2] : 0;
		memcpy(rx_audio, pkt + 3, BLOCK);
		memset(tx_audio, 0xD5, BLOCK);
		read_ready = 1;
		write_budget = 1;
		if (tick == answer_tick) {
			openr2_chan_answer_call(chan);
			send_event("answering");
			if (opt_hangup_after > 0)  /* openr2 reports no answered event to the callee */
				hangup_tick = tick + opt_hangup_after;
		}
		if (tick == hangup_tick) {
			openr2_chan_disconnect_call(chan, OR2_CAUSE_NORMAL_CLEARING);
			send_event("hanging_up");
		}
		openr2_chan_process_event(chan);
		unsigned char out[3 + BLOCK];
		out[0] = 'R';
		out[1] = (unsigned char)tx_abcd;
		out[2] = (unsigned char)tx_mf;
		memcpy(out + 3, tx_audio, BLOCK);
		send(sock, out, sizeof(out), 0);
	}
	openr2_chan_delete(chan);
	openr2_context_delete(ctx);
	return 0;
}
