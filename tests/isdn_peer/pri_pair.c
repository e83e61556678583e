/*
 * pri_pair: N call setups and clearings between two libpri instances (network and CPE,
 * EuroISDN E1) over a SOCK_SEQPACKET socketpair, in one process, one thread.
 * Prints "calls N cpu_us_per_call X".  The peer figure of ctikernel's isdn_call bench.
 *
 *   pri_pair [N] [CONCURRENT]
 */
#include <libpri.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

static int done, started, active, total, concurrent;

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

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

static void network_event(struct pri *net, pri_event *e)
{
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
	switch (e->e) {
	case PRI_EVENT_DCHAN_UP:
		while (active < concurrent && started < total)
			place(cpe);
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
		while (active < concurrent && started < total)
			place(cpe);
		break;
	default:
		break;
	}
}

int main(int argc, char **argv)
{
	int sv[2];
	struct pri *net, *cpe;
	double t0 = 0;
	int up = 0;
	total = argc > 1 ? atoi(argv[1]) : 1000;
	concurrent = argc > 2 ? atoi(argv[2]) : 10;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv))
		return 1;
	net = pri_new(sv[0], PRI_NETWORK, PRI_SWITCH_EUROISDN_E1);
	cpe = pri_new(sv[1], PRI_CPE, PRI_SWITCH_EUROISDN_E1);
	if (!net || !cpe)
		return 1;
	while (done < total) {
		struct pollfd p[2] = {{sv[0], POLLIN, 0}, {sv[1], POLLIN, 0}};
		pri_event *e;
		int n = poll(p, 2, 5);
		if (n == 0) {
			if ((e = pri_schedule_run(net)))
				network_event(net, e);
			if ((e = pri_schedule_run(cpe))) {
				if (e->e == PRI_EVENT_DCHAN_UP && !up++)
					t0 = cpu_seconds();
				cpe_event(cpe, e);
			}
			continue;
		}
		if (p[0].revents & POLLIN && (e = pri_check_event(net)))
			network_event(net, e);
		if (p[1].revents & POLLIN && (e = pri_check_event(cpe))) {
			if (e->e == PRI_EVENT_DCHAN_UP && !up++)
				t0 = cpu_seconds();
			cpe_event(cpe, e);
		}
	}
	printf("calls %d cpu_us_per_call %.3f\n", done, (cpu_seconds() - t0) * 1e6 / done);
	return 0;
}
