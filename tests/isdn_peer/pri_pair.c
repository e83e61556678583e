/*
 * pri_pair: N call setups and clearings between two libpri instances (network and CPE,
 * EuroISDN E1) in one process, one thread.  The peer figure of ctikernel's isdn_call bench.
 *
 *   pri_pair [N] [CONCURRENT] [mem|sock]
 *
 * mem (default): pri_new_cb() with read/write callbacks over two in-process frame queues,
 *   no system call per frame; frames are handed over in the order written, and libpri's
 *   scheduler is run only when both queues are empty.  The CPU figure is libpri's own
 *   work (LAPD + Q.931 of both ends) plus the queue copies.
 * sock: pri_new() on a SOCK_SEQPACKET socketpair polled with poll(): the same calls plus
 *   a send, a recv and a poll per frame.
 *
 * Prints "calls N frames F cpu_us_per_call X" (F: frames on the wire both ways; CPU time
 * counted from the CPE's DCHAN_UP to the last clearing).
 */
#include <libpri.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#define QLEN 256   /* frames in flight one way: libpri's window is 7, several calls queue */
#define FRAME_MAX 512

struct queue {
	unsigned head, tail;
	int len[QLEN];
	unsigned char buf[QLEN][FRAME_MAX];
};

static struct queue to_net, to_cpe; /* mem transport: frames waiting for each instance */
static int done, started, active, total, concurrent, up;
static long frames;
static double t0;

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* ---- in-memory transport: the userdata of each instance is the queue it reads ---- */
static int mem_read(struct pri *pri, void *buf, int buflen)
{
	struct queue *q = pri_get_userdata(pri);
	unsigned slot;
	int n;
	if (q->head == q->tail)
		return 0;
	slot = q->head++ % QLEN;
	n = q->len[slot] < buflen ? q->len[slot] : buflen;
	memcpy(buf, q->buf[slot], n);
	return n;
}

static int mem_write(struct pri *pri, void *buf, int buflen)
{
	struct queue *q = pri_get_userdata(pri) == &to_net ? &to_cpe : &to_net;
	unsigned slot;
	if (q->tail - q->head >= QLEN || buflen > FRAME_MAX) {
		fprintf(stderr, "pri_pair: frame queue overflow\n");
		exit(1);
	}
	slot = q->tail++ % QLEN;
	memcpy(q->buf[slot], buf, buflen); /* libpri writes frame + 2 FCS octets, reads them back */
	q->len[slot] = buflen;
	frames++;
	return buflen;
}

/* ---- call traffic: the CPE places calls, the network answers, the CPE clears ---- */
static void place(struct pri *cpe)
{
	q931_call *c = pri_new_call(cpe);
	struct pri_sr *sr = pri_sr_new();
	pri_sr_set_channel(sr, 1 + (started % 15), 0, 0);
	pri_sr_set_bearer(sr, PRI_TRANS_CAP_SPEECH, PRI_LAYER_1_ALAW);
	pri_sr_set_called(sr, "4000", PRI_UNKNOWN, 1);
	pri_sr_set_caller(sr, "0212345678", NULL, PRI_UNKNOWN, PRES_ALLOWED_USER_NUMBER_NOT_SCREENED);
	pri_setup(cpe, c, sr);
	pri_sr_free(sr);
	started++;
	active++;
}

static void fill(struct pri *cpe)
{
	while (active < concurrent && started < total)
		place(cpe);
}

static void network_event(struct pri *net, pri_event *e)
{
	if (!e)
		return;
	switch (e->e) {
	case PRI_EVENT_RING:
		pri_proceeding(net, e->ring.call, e->ring.channel, 0);
		pri_acknowledge(net, e->ring.call, e->ring.channel, 0);
		pri_answer(net, e->ring.call, e->ring.channel, 0);
		break;
	case PRI_EVENT_HANGUP_REQ:
	case PRI_EVENT_HANGUP:
		pri_hangup(net, e->hangup.call, e->hangup.cause);
		break;
	default:
		break;
	}
}

static void cpe_event(struct pri *cpe, pri_event *e)
{
	if (!e)
		return;
	switch (e->e) {
	case PRI_EVENT_DCHAN_UP:
		if (!up++) {
			t0 = cpu_seconds();
			frames = 0;
		}
		fill(cpe);
		break;
	case PRI_EVENT_ANSWER:
		pri_hangup(cpe, e->answer.call, PRI_CAUSE_NORMAL_CLEARING);
		break;
	case PRI_EVENT_HANGUP:
	case PRI_EVENT_HANGUP_ACK:
		if (e->e == PRI_EVENT_HANGUP)
			pri_hangup(cpe, e->hangup.call, e->hangup.cause);
		done++;
		active--;
		fill(cpe);
		break;
	default:
		break;
	}
}

static void run_mem(void)
{
	struct pri *net = pri_new_cb(-1, PRI_NETWORK, PRI_SWITCH_EUROISDN_E1, mem_read, mem_write,
				     &to_net);
	struct pri *cpe = pri_new_cb(-1, PRI_CPE, PRI_SWITCH_EUROISDN_E1, mem_read, mem_write,
				     &to_cpe);
	if (!net || !cpe)
		exit(1);
	while (done < total) {
		if (to_net.head != to_net.tail)
			network_event(net, pri_check_event(net));
		else if (to_cpe.head != to_cpe.tail)
			cpe_event(cpe, pri_check_event(cpe));
		else {
			/* nothing on the wire: libpri's timers (link set-up before the first call) */
			struct timespec ms = {0, 1000000};
			network_event(net, pri_schedule_run(net));
			cpe_event(cpe, pri_schedule_run(cpe));
			if (to_net.head == to_net.tail && to_cpe.head == to_cpe.tail)
				nanosleep(&ms, NULL);
		}
	}
}

static int sock_write(struct pri *pri, void *buf, int buflen)
{
	frames++;
	return (int)send(*(int *)pri_get_userdata(pri), buf, buflen, 0);
}

static int sock_read(struct pri *pri, void *buf, int buflen)
{
	int n = (int)recv(*(int *)pri_get_userdata(pri), buf, buflen, MSG_DONTWAIT);
	return n < 0 ? 0 : n;
}

static void run_sock(void)
{
	int sv[2];
	struct pri *net, *cpe;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv))
		exit(1);
	net = pri_new_cb(sv[0], PRI_NETWORK, PRI_SWITCH_EUROISDN_E1, sock_read, sock_write, &sv[0]);
	cpe = pri_new_cb(sv[1], PRI_CPE, PRI_SWITCH_EUROISDN_E1, sock_read, sock_write, &sv[1]);
	if (!net || !cpe)
		exit(1);
	while (done < total) {
		struct pollfd p[2] = {{sv[0], POLLIN, 0}, {sv[1], POLLIN, 0}};
		int n = poll(p, 2, 5);
		if (n == 0) {
			network_event(net, pri_schedule_run(net));
			cpe_event(cpe, pri_schedule_run(cpe));
			continue;
		}
		if (p[0].revents & POLLIN)
			network_event(net, pri_check_event(net));
		if (p[1].revents & POLLIN)
			cpe_event(cpe, pri_check_event(cpe));
	}
}

int main(int argc, char **argv)
{
	total = argc > 1 ? atoi(argv[1]) : 1000;
	concurrent = argc > 2 ? atoi(argv[2]) : 10;
	if (argc > 3 && !strcmp(argv[3], "sock"))
		run_sock();
	else
		run_mem();
	printf("calls %d frames %ld cpu_us_per_call %.3f\n", done, frames,
	       (cpu_seconds() - t0) * 1e6 / done);
	return 0;
}
