/* A scripted libss7 (2.0, ITU) signalling point for the ctikernel interop tests.
 *
 * usage: ss7_peer OWN_PC ADJ_PC FD [FD ...]   (each FD one end of a SOCK_SEQPACKET link, SLC =
 * position); commands on stdin, one per line; events on stdout, one per line:
 *   call CIC CALLED CALLING PRES   -> IAM            acm CIC / anm CIC / rel CIC CAUSE / rlc CIC
 *   rsc CIC / grs CIC ENDCIC / blo CIC / ubl CIC / cgb CIC ENDCIC / cgu CIC ENDCIC
 *   auto on|off    (answer IAM with ACM+ANM, answer REL with RLC) ; quit
 * events: UP, DOWN, LINKUP n, LINKDOWN n, IAM cic called calling pres, ACM cic, ANM cic, CON cic,
 *   REL cic cause, RLC cic, RSC cic, GRS cic end, GRA cic end, BLO cic, BLA cic, UBL cic, UBA cic,
 *   CGB cic end, CGBA cic end, CGU cic end, CGUA cic end, CPG cic, HANGUP cic cause action,
 *   CQM cic end (answered at once with CQR: idle, or incoming / outgoing busy by our calls)
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <libss7.h>

#define MAXCIC 4096
static struct isup_call *calls[MAXCIC];
static unsigned char outgoing[MAXCIC];  /* the call on the CIC is ours (for CQR) */
static struct ss7 *ss7;
static unsigned int adjpc;
static int autoanswer;

static void msg_cb(struct ss7 *s, char *m) { (void)s; fprintf(stderr, "%s", m); }

static int hangup_cb(struct ss7 *s, int cic, unsigned int dpc, int cause, int do_hangup)
{
	(void)s; (void)dpc;
	printf("HANGUP %d %d %d\n", cic, cause, do_hangup);
	fflush(stdout);
	if (cic >= 0 && cic < MAXCIC) calls[cic] = NULL;
	return SS7_CIC_IDLE;
}

static void call_null_cb(struct ss7 *s, struct isup_call *c, int lock)
{
	int i;
	(void)s; (void)lock;
	for (i = 0; i < MAXCIC; i++)
		if (calls[i] == c) calls[i] = NULL;
}

static struct isup_call *get_call(int cic, int outgoing)
{
	if (cic < 0 || cic >= MAXCIC) return NULL;
	if (!calls[cic]) calls[cic] = isup_new_call(ss7, cic, adjpc, outgoing);
	return calls[cic];
}

static void command(char *line)
{
	char cmd[32], a[64], b[64];
	int cic = 0, n = 0, x = 0;
	unsigned char st[255];
	struct isup_call *c;

	memset(st, 0, sizeof(st));
	a[0] = b[0] = 0;
	if (sscanf(line, "%31s", cmd) != 1) return;
	if (!strcmp(cmd, "quit")) exit(0);
	if (!strcmp(cmd, "auto")) { autoanswer = strstr(line, "on") != NULL; return; }
	if (!strcmp(cmd, "call")) {
		n = sscanf(line, "%*s %d %63s %63s %d", &cic, a, b, &x);
		c = get_call(cic, 1);
		outgoing[cic] = 1;
		isup_set_called(c, a, SS7_NAI_NATIONAL, ss7);
		if (n >= 3 && strcmp(b, "-")) isup_set_calling(c, b, SS7_NAI_NATIONAL, n >= 4 ? x : 0, SS7_SCREENING_USER_PROVIDED);
		isup_iam(ss7, c);
		return;
	}
	n = sscanf(line, "%*s %d %d", &cic, &x);
	if (n < 1) return;
	if (!strcmp(cmd, "acm") && (c = get_call(cic, 0))) isup_acm(ss7, c);
	else if (!strcmp(cmd, "anm") && (c = get_call(cic, 0))) isup_anm(ss7, c);
	else if (!strcmp(cmd, "rel") && (c = get_call(cic, 0))) isup_rel(ss7, c, n >= 2 ? x : 16);
	else if (!strcmp(cmd, "rlc") && (c = get_call(cic, 0))) { isup_rlc(ss7, c); calls[cic] = NULL; }
	else if (!strcmp(cmd, "rsc") && (c = get_call(cic, 0))) isup_rsc(ss7, c);
	else if (!strcmp(cmd, "blo") && (c = get_call(cic, 0))) isup_blo(ss7, c);
	else if (!strcmp(cmd, "ubl") && (c = get_call(cic, 0))) isup_ubl(ss7, c);
	else if (!strcmp(cmd, "grs") && (c = get_call(cic, 0))) isup_grs(ss7, c, x);
	else if ((!strcmp(cmd, "cgb") || !strcmp(cmd, "cgu")) && (c = get_call(cic, 0))) {
		int i;
		for (i = 0; i <= x - cic && i < 255; i++) st[i] = 1;
		if (cmd[2] == 'b') isup_cgb(ss7, c, x, st, 0); else isup_cgu(ss7, c, x, st, 0);
	}
}

static void event(ss7_event *e)
{
	struct isup_call *c;
	switch (e->e) {
	case SS7_EVENT_UP: printf("UP\n"); break;
	case SS7_EVENT_DOWN: printf("DOWN\n"); break;
	case MTP2_LINK_UP: printf("LINKUP %d\n", e->link.link ? 0 : 0); break;
	case MTP2_LINK_DOWN: printf("LINKDOWN\n"); break;
	case ISUP_EVENT_IAM:
		calls[e->iam.cic] = e->iam.call;
		outgoing[e->iam.cic] = 0;
		printf("IAM %d %s %s %d %d %d\n", e->iam.cic, e->iam.called_party_num,
		       e->iam.calling_party_num[0] ? e->iam.calling_party_num : "-",
		       e->iam.presentation_ind, e->iam.calling_party_cat, e->iam.cot_check_required);
		if (autoanswer) { isup_acm(ss7, e->iam.call); isup_anm(ss7, e->iam.call); }
		break;
	case ISUP_EVENT_ACM: printf("ACM %d\n", e->acm.cic); break;
	case ISUP_EVENT_ANM: printf("ANM %d\n", e->anm.cic); break;
	case ISUP_EVENT_CON: printf("CON %d\n", e->con.cic); break;
	case ISUP_EVENT_CPG: printf("CPG %d\n", e->cpg.cic); break;
	case ISUP_EVENT_REL:
		printf("REL %d %d\n", e->rel.cic, e->rel.cause);
		if (autoanswer) { isup_rlc(ss7, e->rel.call); calls[e->rel.cic] = NULL; }
		break;
	case ISUP_EVENT_RLC: printf("RLC %d\n", e->rlc.cic); calls[e->rlc.cic] = NULL; break;
	case ISUP_EVENT_RSC:
		printf("RSC %d\n", e->rsc.cic);
		c = e->rsc.call;
		isup_rlc(ss7, c);
		calls[e->rsc.cic] = NULL;
		break;
	case ISUP_EVENT_GRS:
		printf("GRS %d %d\n", e->grs.startcic, e->grs.endcic);
		isup_gra(ss7, e->grs.call, e->grs.endcic, e->grs.status);
		break;
	case ISUP_EVENT_GRA: printf("GRA %d %d\n", e->gra.startcic, e->gra.endcic); break;
	case ISUP_EVENT_BLO: printf("BLO %d\n", e->blo.cic); isup_bla(ss7, e->blo.call); break;
	case ISUP_EVENT_BLA: printf("BLA %d\n", e->bla.cic); break;
	case ISUP_EVENT_UBL: printf("UBL %d\n", e->ubl.cic); isup_uba(ss7, e->ubl.call); break;
	case ISUP_EVENT_UBA: printf("UBA %d\n", e->uba.cic); break;
	case ISUP_EVENT_CGB:
		printf("CGB %d %d\n", e->cgb.startcic, e->cgb.endcic);
		isup_cgba(ss7, e->cgb.call, e->cgb.endcic, e->cgb.status);
		break;
	case ISUP_EVENT_CGU:
		printf("CGU %d %d\n", e->cgu.startcic, e->cgu.endcic);
		isup_cgua(ss7, e->cgu.call, e->cgu.endcic, e->cgu.status);
		break;
	case ISUP_EVENT_COT: printf("COT %d %d\n", e->cot.cic, e->cot.passed); break;
	case ISUP_EVENT_CCR:  /* continuity recheck: loop the circuit, acknowledge with LPA */
		printf("CCR %d\n", e->ccr.cic);
		calls[e->ccr.cic] = e->ccr.call;
		isup_lpa(ss7, e->ccr.cic, e->ccr.opc);
		break;
	case ISUP_EVENT_CQM: {  /* Q.763 3.14 octets: 0x0C idle, 0x04 incoming / 0x08 outgoing busy */
		unsigned char st[255];
		int i, n = e->cqm.endcic - e->cqm.startcic + 1;
		printf("CQM %d %d\n", e->cqm.startcic, e->cqm.endcic);
		for (i = 0; i < n && i < 255; i++) {
			int cic = e->cqm.startcic + i;
			st[i] = cic >= MAXCIC || !calls[cic] ? 0x0C : outgoing[cic] ? 0x08 : 0x04;
		}
		isup_cqr(ss7, e->cqm.startcic, e->cqm.endcic, e->cqm.opc, st);
		break;
	}
	case ISUP_EVENT_CGBA: printf("CGBA %d %d\n", e->cgba.startcic, e->cgba.endcic); break;
	case ISUP_EVENT_CGUA: printf("CGUA %d %d\n", e->cgua.startcic, e->cgua.endcic); break;
	default: printf("EVENT %s\n", ss7_event2str(e->e)); break;
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct pollfd pfd[9];
	int nlinks, i;
	char line[512];
	size_t used = 0;
	static char buf[4096];

	if (argc < 4) { fprintf(stderr, "usage: %s PC ADJPC FD...\n", argv[0]); return 2; }
	nlinks = argc - 3 > 8 ? 8 : argc - 3;
	ss7_set_message(msg_cb);
	ss7_set_error(msg_cb);
	ss7_set_hangup(hangup_cb);
	ss7_set_call_null(call_null_cb);
	ss7 = ss7_new(SS7_ITU);
	adjpc = (unsigned)atoi(argv[2]);
	ss7_set_network_ind(ss7, SS7_NI_NAT);
	ss7_set_pc(ss7, (unsigned)atoi(argv[1]));
	ss7_set_mtp3_timer(ss7, "q707_t1", 4000);
	for (i = 0; i < nlinks; i++) {
		pfd[i].fd = atoi(argv[3 + i]);
		ss7_add_link(ss7, SS7_TRANSPORT_DAHDIMTP2, pfd[i].fd, i, adjpc);
	}
	pfd[nlinks].fd = 0;
	pfd[nlinks].events = POLLIN;
	ss7_start(ss7);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		struct timeval *next = ss7_schedule_next(ss7), now;
		int timeout = 1000, res;
		ss7_event *e;
		if (next) {
			gettimeofday(&now, NULL);
			timeout = (int)((next->tv_sec - now.tv_sec) * 1000 + (next->tv_usec - now.tv_usec) / 1000);
			if (timeout < 0) timeout = 0;
		}
		for (i = 0; i < nlinks; i++) pfd[i].events = ss7_pollflags(ss7, pfd[i].fd);
		res = poll(pfd, nlinks + 1, timeout);
		if (res < 0 && errno != EINTR) return 1;
		if (res == 0) ss7_schedule_run(ss7);
		for (i = 0; i < nlinks; i++) {
			if (pfd[i].revents & (POLLIN | POLLPRI)) ss7_read(ss7, pfd[i].fd);
			if (pfd[i].revents & POLLOUT) ss7_write(ss7, pfd[i].fd);
			if (pfd[i].revents & (POLLHUP | POLLERR)) return 0;
		}
		if (pfd[nlinks].revents & POLLIN) {
			ssize_t r = read(0, buf + used, sizeof(buf) - used - 1);
			char *nl;
			if (r <= 0) return 0;
			used += (size_t)r;
			buf[used] = 0;
			while ((nl = strchr(buf, '\n'))) {
				size_t len = (size_t)(nl - buf);
				memcpy(line, buf, len < sizeof(line) - 1 ? len : sizeof(line) - 1);
				line[len < sizeof(line) - 1 ? len : sizeof(line) - 1] = 0;
				memmove(buf, nl + 1, used - len - 1);
				used -= len + 1;
				buf[used] = 0;
				command(line);
			}
		}
		while ((e = ss7_check_event(ss7))) event(e);
	}
}
