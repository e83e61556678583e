/* Peer benchmark: two libss7 (2.0, ITU) signalling points in one process, one link between them
 * (a SOCK_SEQPACKET socketpair, DAHDI-MTP2 transport), N ISUP calls IAM/ACM/ANM/REL/RLC.
 * Prints "calls N cpu_us_per_call X user_us_per_call Y": process CPU (user+system, and user
 * alone) of the call phase only, alignment excluded.
 * usage: libss7_pair N
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <libss7.h>

static struct ss7 *sp[2];
static int fds[2], up[2], answered, released;

static void quiet(struct ss7 *s, char *m) { (void)s; if (getenv("PAIR_DEBUG")) fputs(m, stderr); }
static int hangup_cb(struct ss7 *s, int cic, unsigned int dpc, int cause, int h)
{ (void)s; (void)cic; (void)dpc; (void)cause; (void)h; return SS7_CIC_IDLE; }
static void null_cb(struct ss7 *s, struct isup_call *c, int lock) { (void)s; (void)c; (void)lock; }

static double cpu(int user_only)
{
	struct rusage r;
	getrusage(RUSAGE_SELF, &r);
	return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 +
	       (user_only ? 0.0 : r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6);
}

static void handle(int side, ss7_event *e)
{
	struct ss7 *s = sp[side];
	switch (e->e) {
	case SS7_EVENT_UP: up[side] = 1; break;
	case ISUP_EVENT_IAM: isup_acm(s, e->iam.call); isup_anm(s, e->iam.call); break;
	case ISUP_EVENT_ANM: answered++; isup_rel(s, e->anm.call, 16); break;
	case ISUP_EVENT_REL: isup_rlc(s, e->rel.call); break;
	case ISUP_EVENT_RLC: released++; isup_free_call(s, e->rlc.call); break;
	case ISUP_EVENT_GRS: isup_gra(s, e->grs.call, e->grs.endcic, e->grs.status); break;
	default: break;
	}
}

static void step(int wait_ms)
{
	struct pollfd p[2];
	int i;
	ss7_event *e;
	for (i = 0; i < 2; i++) {
		p[i].fd = fds[i];
		p[i].events = ss7_pollflags(sp[i], fds[i]);
	}
	if (poll(p, 2, wait_ms) == 0) {
		ss7_schedule_run(sp[0]);
		ss7_schedule_run(sp[1]);
	}
	for (i = 0; i < 2; i++) {
		if (p[i].revents & POLLIN) ss7_read(sp[i], fds[i]);
		if (p[i].revents & POLLOUT) ss7_write(sp[i], fds[i]);
		while ((e = ss7_check_event(sp[i]))) handle(i, e);
	}
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000, i, cic;
	double t0, t1, u0, u1;
	struct timeval start, now;

	ss7_set_message(quiet);
	ss7_set_error(quiet);
	ss7_set_hangup(hangup_cb);
	ss7_set_call_null(null_cb);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds)) return 1;
	for (i = 0; i < 2; i++) {
		sp[i] = ss7_new(SS7_ITU);
		ss7_set_network_ind(sp[i], SS7_NI_NAT);
		ss7_set_pc(sp[i], (unsigned)(i + 1));
		ss7_add_link(sp[i], SS7_TRANSPORT_DAHDIMTP2, fds[i], 0, (unsigned)(2 - i));
		ss7_start(sp[i]);
	}
	gettimeofday(&start, NULL);
	while (!(up[0] && up[1])) {
		step(5);
		gettimeofday(&now, NULL);
		if (now.tv_sec - start.tv_sec > 20) { fprintf(stderr, "no alignment\n"); return 1; }
	}
	for (i = 0; i < 200; i++) step(5); /* let the restart GRS/GRA settle */
	t0 = cpu(0);
	u0 = cpu(1);
	for (i = 0; i < n; i++) {
		cic = 1 + (i % 30);
		struct isup_call *c = isup_new_call(sp[0], cic, 2, 1);
		isup_set_called(c, "1234567", SS7_NAI_NATIONAL, sp[0]);
		isup_set_calling(c, "7654321", SS7_NAI_NATIONAL, SS7_PRESENTATION_ALLOWED, SS7_SCREENING_USER_PROVIDED);
		isup_iam(sp[0], c);
		while (released <= i) step(100);
	}
	t1 = cpu(0);
	u1 = cpu(1);
	printf("calls %d cpu_us_per_call %.3f user_us_per_call %.3f\n", n, (t1 - t0) * 1e6 / n,
	       (u1 - u0) * 1e6 / n);
	return 0;
}
