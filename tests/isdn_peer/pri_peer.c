/*
 * pri_peer: a libpri D-channel driven by line commands, for the ctikernel interop tests.
 *
 *   pri_peer FD network|cpe|cpe-ptmp [switch=euroisdn|qsig|ni2] [law=alaw|ulaw] [facility=1]
 *            [T303=ms ...]
 *
 * switch selects libpri's switch type (default EuroISDN E1); law the bearer capability
 * layer 1 of the calls it places (default A-law; NI-2 on a T1 uses mu-law); facility=1
 * lets libpri send Facility IEs (supplementary service operations such as names).
 * FD is one end of a SOCK_SEQPACKET socketpair (the hdlc-socket transport).  libpri
 * reads and writes it through pri_new_cb() callbacks: it writes frame + 2 octets and
 * drops 2 octets of every read.  cpe-ptmp is a basic access terminal on a point-to-multipoint
 * bus (pri_new_bri_cb: automatic TEI, broadcast SETUP).  Commands on stdin (one per line):
 *   call ID CHANNEL CALLED CALLING [overlap]   proceed ID   alert ID [inband|- [NAME]]
 *   progress ID   answer ID [NAME]   hangup ID CAUSE   info ID DIGITS   needmore ID
 *   reset CHANNEL   auto answer|ignore|reject CAUSE|manual   cut 0|1
 *   name NAME|- [restricted|unavailable]   quit
 * (name: the calling party name of the calls placed afterwards, and the presentation of
 * their number and name; libpri sends it as its switch type does, e.g. a QSIG calling
 * name operation in a Facility IE.)
 * Events go to stdout, one line each (UP, DOWN, RING ID CH CALLED CALLING COMPLETE FLEXIBLE
 * LAYER1 CALLINGNAME NAMEPRES (0 allowed, 32 restricted, 64 not available, -1 no name),
 * CONNECTED_NAME ID NAME after RINGING or ANSWER, ...).  alert ID - NAME
 * and answer ID NAME: NAME is the called / connected name libpri sends with ALERTING /
 * CONNECT.
 */
#include <errno.h>
#include <libpri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>
#include <unistd.h>

#define MAXCALLS 256

static q931_call *calls[MAXCALLS];
static int cut;
static enum { MANUAL, ANSWER, IGNORE, REJECT } automode = MANUAL;
static int reject_cause = 21;
static int layer1 = PRI_LAYER_1_ALAW;
static char caller_name[128];
static int caller_named;  /* the calls placed send a name (possibly empty) */
static int caller_pres = PRES_ALLOWED_USER_NUMBER_NOT_SCREENED;

static const struct { const char *name; int type; } switches[] = {
	{ "euroisdn", PRI_SWITCH_EUROISDN_E1 },
	{ "qsig", PRI_SWITCH_QSIG },
	{ "ni2", PRI_SWITCH_NI2 },
};

static int io_read(struct pri *pri, void *buf, int buflen)
{
	int fd = pri_fd(pri);
	int n = (int)read(fd, buf, (size_t)buflen);
	(void)pri;
	if (n < 0)
		return n;
	if (cut)
		return 0; /* frame lost on a broken link */
	return n;
}

static int io_write(struct pri *pri, void *buf, int buflen)
{
	if (cut)
		return buflen;
	return (int)write(pri_fd(pri), buf, (size_t)buflen);
}

static int id_of(q931_call *c, int create)
{
	int i, free_slot = -1;
	for (i = 1; i < MAXCALLS; i++) {
		if (calls[i] == c)
			return i;
		if (!calls[i] && free_slot < 0)
			free_slot = i;
	}
	if (create && free_slot > 0) {
		calls[free_slot] = c;
		return free_slot;
	}
	return 0;
}

static q931_call *call_of(int id)
{
	return (id > 0 && id < MAXCALLS) ? calls[id] : NULL;
}

/* our party's name for the messages that carry it (calledName, connectedName) */
static void set_local_name(struct pri *pri, q931_call *call, const char *name)
{
	struct pri_party_connected_line line;
	memset(&line, 0, sizeof(line));
	line.id.name.valid = 1;
	line.id.name.presentation = PRI_PRES_ALLOWED;
	line.id.name.char_set = 1;
	snprintf(line.id.name.str, sizeof(line.id.name.str), "%s", name);
	pri_connected_line_update(pri, call, &line);
}

/* CONNECTED_NAME ID NAME for each connected line update carrying a name */
static void print_connected_names(q931_call *call, const struct pri_subcommands *subcmds)
{
	int i;
	for (i = 0; subcmds && i < subcmds->counter_subcmd; i++) {
		const struct pri_subcommand *sub = &subcmds->subcmd[i];
		if (sub->cmd == PRI_SUBCMD_CONNECTED_LINE && sub->u.connected_line.id.name.valid)
			printf("CONNECTED_NAME %d %s\n", id_of(call, 0),
			       sub->u.connected_line.id.name.str[0] ? sub->u.connected_line.id.name.str : "-");
	}
}

static void handle_event(struct pri *pri, pri_event *e)
{
	int id;
	switch (e->e) {
	case PRI_EVENT_DCHAN_UP:
		printf("UP\n");
		break;
	case PRI_EVENT_DCHAN_DOWN:
		printf("DOWN\n");
		break;
	case PRI_EVENT_RING:
		id = id_of(e->ring.call, 1);
		printf("RING %d %d %s %s %d %d %d %s %d\n", id, e->ring.channel & 0xff,
		       e->ring.callednum[0] ? e->ring.callednum : "-",
		       e->ring.callingnum[0] ? e->ring.callingnum : "-", e->ring.complete,
		       e->ring.flexible, e->ring.layer1,
		       e->ring.callingname[0] ? e->ring.callingname : "-",
		       e->ring.calling.name.valid ? e->ring.calling.name.presentation
		       & PRI_PRES_RESTRICTION : -1);
		if (automode == ANSWER) {
			pri_proceeding(pri, e->ring.call, e->ring.channel, 0);
			pri_acknowledge(pri, e->ring.call, e->ring.channel, 0);
			pri_answer(pri, e->ring.call, e->ring.channel, 0);
		} else if (automode == REJECT) {
			pri_hangup(pri, e->ring.call, reject_cause);
			calls[id] = NULL;
		}
		break;
	case PRI_EVENT_PROCEEDING:
		printf("PROCEEDING %d %d\n", id_of(e->proceeding.call, 0), e->proceeding.channel & 0xff);
		break;
	case PRI_EVENT_PROGRESS:
		printf("PROGRESS %d %d\n", id_of(e->proceeding.call, 0), e->proceeding.progressmask);
		break;
	case PRI_EVENT_SETUP_ACK:
		printf("SETUP_ACK %d %d\n", id_of(e->setup_ack.call, 0), e->setup_ack.channel & 0xff);
		break;
	case PRI_EVENT_RINGING:
		printf("RINGING %d %d\n", id_of(e->ringing.call, 0), e->ringing.progressmask);
		print_connected_names(e->ringing.call, e->ringing.subcmds);
		break;
	case PRI_EVENT_ANSWER:
		printf("ANSWER %d %d\n", id_of(e->answer.call, 0), e->answer.channel & 0xff);
		print_connected_names(e->answer.call, e->answer.subcmds);
		break;
	case PRI_EVENT_CONNECT_ACK:
		printf("CONNECT_ACK %d\n", id_of(e->connect_ack.call, 0));
		break;
	case PRI_EVENT_INFO_RECEIVED:
		printf("INFO %d %s\n", id_of(e->ring.call, 0),
		       e->ring.callednum[0] ? e->ring.callednum : "-");
		break;
	case PRI_EVENT_KEYPAD_DIGIT:
		printf("KEYPAD %d %s\n", id_of(e->digit.call, 0), e->digit.digits);
		break;
	case PRI_EVENT_HANGUP_REQ:
		id = id_of(e->hangup.call, 0);
		printf("HANGUP_REQ %d %d\n", id, e->hangup.cause);
		if (automode != MANUAL || id == 0) {
			pri_hangup(pri, e->hangup.call, e->hangup.cause);
		}
		break;
	case PRI_EVENT_HANGUP:
		id = id_of(e->hangup.call, 0);
		printf("HANGUP %d %d\n", id, e->hangup.cause);
		pri_hangup(pri, e->hangup.call, e->hangup.cause);
		if (id)
			calls[id] = NULL;
		break;
	case PRI_EVENT_HANGUP_ACK:
		id = id_of(e->hangup.call, 0);
		printf("HANGUP_ACK %d %d\n", id, e->hangup.cause);
		if (id)
			calls[id] = NULL;
		break;
	case PRI_EVENT_RESTART:
		printf("RESTART %d\n", e->restart.channel & 0xff);
		break;
	case PRI_EVENT_RESTART_ACK:
		printf("RESTART_ACK %d\n", e->restartack.channel & 0xff);
		break;
	case PRI_EVENT_NOTIFY:
		printf("NOTIFY %d\n", e->notify.info);
		break;
	case PRI_EVENT_SERVICE:
		printf("SERVICE %d %d\n", e->service.channel & 0xff, e->service.changestatus);
		break;
	case PRI_EVENT_SERVICE_ACK:
		printf("SERVICE_ACK %d %d\n", e->service_ack.channel & 0xff, e->service_ack.changestatus);
		break;
	case PRI_EVENT_CONFIG_ERR:
		printf("CONFIG_ERR %s\n", e->err.err);
		break;
	default:
		printf("EVENT %d\n", e->e);
		break;
	}
	fflush(stdout);
}

static int command(struct pri *pri, char *line)
{
	char verb[32] = "", a[128] = "", b[128] = "", c[128] = "", d[128] = "", x[32] = "";
	int n = sscanf(line, "%31s %127s %127s %127s %127s %31s", verb, a, b, c, d, x);
	q931_call *call;
	if (n < 1)
		return 0;
	if (!strcmp(verb, "quit"))
		return 1;
	if (!strcmp(verb, "call") && n >= 5) {
		struct pri_sr *sr = pri_sr_new();
		int id;
		call = pri_new_call(pri);
		id = id_of(call, 1);
		pri_sr_set_channel(sr, atoi(b), 1, 0);
		pri_sr_set_bearer(sr, PRI_TRANS_CAP_SPEECH, layer1);
		pri_sr_set_called(sr, c, PRI_UNKNOWN, n >= 6 && !strcmp(x, "overlap") ? 0 : 1);
		pri_sr_set_caller(sr, d, caller_named ? caller_name : NULL, PRI_UNKNOWN, caller_pres);
		if (pri_setup(pri, call, sr))
			printf("ERROR call %d\n", id);
		pri_sr_free(sr);
		printf("CALLID %s %d\n", a, id);
	} else if (!strcmp(verb, "proceed") && (call = call_of(atoi(a)))) {
		pri_proceeding(pri, call, 0, 0);
	} else if (!strcmp(verb, "alert") && (call = call_of(atoi(a)))) {
		if (n >= 4)  /* alert ID inband|- NAME: the called name libpri sends with ALERTING */
			set_local_name(pri, call, c);
		pri_acknowledge(pri, call, 0, n >= 3 && !strcmp(b, "inband"));
	} else if (!strcmp(verb, "progress") && (call = call_of(atoi(a)))) {
		pri_progress(pri, call, 0, 1);
	} else if (!strcmp(verb, "answer") && (call = call_of(atoi(a)))) {
		if (n >= 3)  /* answer ID NAME: our connected name goes with CONNECT */
			set_local_name(pri, call, b);
		pri_answer(pri, call, 0, 0);
	} else if (!strcmp(verb, "needmore") && (call = call_of(atoi(a)))) {
		pri_need_more_info(pri, call, 0, 0);
	} else if (!strcmp(verb, "info") && (call = call_of(atoi(a)))) {
		char *p;
		for (p = b; *p; p++)
			pri_information(pri, call, *p);
	} else if (!strcmp(verb, "hangup") && (call = call_of(atoi(a)))) {
		pri_hangup(pri, call, atoi(b));
	} else if (!strcmp(verb, "reset")) {
		pri_reset(pri, atoi(a));
	} else if (!strcmp(verb, "name") && n >= 2) {
		/* name NAME|- [restricted|unavailable]: the presentation of number and name */
		snprintf(caller_name, sizeof(caller_name), "%s", strcmp(a, "-") ? a : "");
		caller_pres = n < 3 ? PRES_ALLOWED_USER_NUMBER_NOT_SCREENED
			: !strcmp(b, "restricted") ? PRES_PROHIB_USER_NUMBER_NOT_SCREENED
			: PRES_NUMBER_NOT_AVAILABLE;
		caller_named = caller_name[0] || n >= 3;
	} else if (!strcmp(verb, "service") && n >= 3) {
		/* SERVICE for B-channel CH (-1: the interface) with change status STATUS */
		pri_maintenance_service(pri, 0, atoi(a), atoi(b));
	} else if (!strcmp(verb, "cut")) {
		cut = atoi(a);
	} else if (!strcmp(verb, "auto")) {
		automode = !strcmp(a, "answer") ? ANSWER : !strcmp(a, "ignore") ? IGNORE
			 : !strcmp(a, "reject") ? REJECT : MANUAL;
		if (automode == REJECT && n >= 3)
			reject_cause = atoi(b);
	} else {
		printf("ERROR %s", line);
	}
	printf("OK %s\n", verb);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct pri *pri;
	char line[512];
	size_t have = 0;
	int fd, i, switchtype = -1, facility = 0, service = 0;
	if (argc < 3) {
		fprintf(stderr, "usage: pri_peer FD network|cpe|cpe-ptmp [switch=NAME] [law=alaw|ulaw] [TIMER=ms ...]\n");
		return 2;
	}
	fd = atoi(argv[1]);
	/* libpri draws the TEI request's reference number Ri with random(): terminals
	   started together must not all draw the same one */
	srandom((unsigned)getpid());
	for (i = 3; i < argc; i++) {
		char name[32], text[32];
		size_t k;
		if (sscanf(argv[i], "%31[^=]=%31s", name, text) != 2)
			continue;
		if (!strcmp(name, "switch")) {
			for (k = 0; k < sizeof(switches) / sizeof(switches[0]); k++)
				if (!strcmp(text, switches[k].name))
					switchtype = switches[k].type;
			if (switchtype < 0) {
				fprintf(stderr, "bad switch %s\n", text);
				return 2;
			}
		} else if (!strcmp(name, "law")) {
			layer1 = !strcmp(text, "ulaw") ? PRI_LAYER_1_ULAW : PRI_LAYER_1_ALAW;
		} else if (!strcmp(name, "facility")) {
			facility = atoi(text);
		} else if (!strcmp(name, "service")) {
			service = atoi(text);
		}
	}
	if (switchtype < 0)
		switchtype = PRI_SWITCH_EUROISDN_E1;
	if (!strcmp(argv[2], "cpe-ptmp"))
		pri = pri_new_bri_cb(fd, 0, PRI_CPE, switchtype, io_read, io_write, NULL);
	else
		pri = pri_new_cb(fd, strcmp(argv[2], "network") ? PRI_CPE : PRI_NETWORK,
				 switchtype, io_read, io_write, NULL);
	if (!pri) {
		fprintf(stderr, "pri_new_cb failed\n");
		return 1;
	}
	if (facility)
		pri_facility_enable(pri);
	if (service)
		pri_set_service_message_support(pri, 1);
	for (i = 3; i < argc; i++) {
		char name[32];
		int value;
		if (sscanf(argv[i], "%31[^=]=%d", name, &value) == 2 && strcmp(name, "facility")
		    && strcmp(name, "service")) {
			int idx = pri_timer2idx(name);
			if (idx < 0 || pri_set_timer(pri, idx, value)) {
				fprintf(stderr, "bad timer %s\n", argv[i]);
				return 2;
			}
		}
	}
	pri_set_overlapdial(pri, 1);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		fd_set rfds;
		struct timeval *next = pri_schedule_next(pri), tv, now;
		pri_event *e = NULL;
		int res;
		FD_ZERO(&rfds);
		FD_SET(fd, &rfds);
		FD_SET(0, &rfds);
		if (next) {
			gettimeofday(&now, NULL);
			tv.tv_sec = next->tv_sec - now.tv_sec;
			tv.tv_usec = next->tv_usec - now.tv_usec;
			if (tv.tv_usec < 0) {
				tv.tv_usec += 1000000;
				tv.tv_sec -= 1;
			}
			if (tv.tv_sec < 0) {
				tv.tv_sec = 0;
				tv.tv_usec = 0;
			}
		} else {
			tv.tv_sec = 1;
			tv.tv_usec = 0;
		}
		res = select(fd + 1, &rfds, NULL, NULL, &tv);
		if (res < 0 && errno != EINTR)
			break;
		if (res > 0 && FD_ISSET(fd, &rfds))
			e = pri_check_event(pri);
		else if (res == 0)
			e = pri_schedule_run(pri);
		if (e)
			handle_event(pri, e);
		if (res > 0 && FD_ISSET(0, &rfds)) {
			ssize_t got = read(0, line + have, sizeof(line) - 1 - have);
			char *nl;
			if (got <= 0)
				break;
			have += (size_t)got;
			line[have] = 0;
			while ((nl = strchr(line, '\n'))) {
				*nl = 0;
				if (command(pri, line))
					return 0;
				memmove(line, nl + 1, have - (size_t)(nl + 1 - line) + 1);
				have -= (size_t)(nl + 1 - line);
			}
			if (have >= sizeof(line) - 1)
				have = 0;
		}
	}
	return 0;
}
