/*
 * main.c - outpostd: the sync server, plus its administration commands.
 *
 *   outpostd --db PATH --listen HOST:PORT --cert FILE --key FILE [--token-ttl S]
 *   outpostd --db PATH --listen HOST:PORT --dev-plain-ws   (development only)
 *   outpostd demo --db PATH [--customers N] [--seed N]
 *   outpostd conflicts --db PATH [--json]
 *   outpostd user|role|device|audit ...                    (see admin.h)
 *
 * The server runs one libwebsockets poll loop; SIGINT/SIGTERM stop it
 * between callbacks, so the transaction in hand is always finished.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libwebsockets.h>

#include "admin.h"
#include "demo.h"
#include "log.h"
#include "out.h"
#include "proto_sync.h"
#include "srv.h"

static volatile sig_atomic_t interrupted;

struct opts {
	const char *db, *listen, *cert, *key, *log_level;
	int customers;
	unsigned seed;
	long token_ttl;
	bool json, plain;
};

static void usage(FILE *f)
{
	fputs("usage: outpostd --db PATH --listen HOST:PORT --cert FILE --key FILE\n"
	      "                [--token-ttl SECONDS] [--log-level LEVEL]\n"
	      "       outpostd --db PATH --listen HOST:PORT --dev-plain-ws   (unencrypted; development only)\n"
	      "       outpostd demo --db PATH [--customers N] [--seed N]\n"
	      "       outpostd conflicts --db PATH [--json]\n"
	      "       outpostd user add NAME --role ROLE [--supervisor NAME] [--full-name TEXT] --db PATH\n"
	      "       outpostd user list|disable|enable|passwd|set-role|set-team ... --db PATH\n"
	      "       outpostd user passwd NAME [--revoke-devices] --db PATH\n"
	      "       outpostd role list|grant|withdraw ... --db PATH\n"
	      "       outpostd device list|revoke ... --db PATH\n"
	      "       outpostd audit --db PATH [--user NAME] [--record ID] [--limit N] [--json]\n", f);
}

static int parse_num(const char *opt, const char *v, long lo, long hi, long *out)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (*v == '\0' || *end || n < lo || n > hi) {
		fprintf(stderr, "outpostd: %s must be a number from %ld to %ld\n", opt, lo, hi);
		return -1;
	}
	*out = n;
	return 0;
}

/* Parses --options after the subcommand; returns 0 or -1 (message printed). */
static int parse_opts(int argc, char **argv, int i, struct opts *o)
{
	long n;

	for (; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--json")) {
			o->json = true;
			continue;
		}
		if (!strcmp(a, "--dev-plain-ws")) {
			o->plain = true;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		}
		if (!v) {
			fprintf(stderr, "outpostd: %s needs a value (or is unknown); see --help\n", a);
			return -1;
		}
		i++;
		if (!strcmp(a, "--db")) o->db = v;
		else if (!strcmp(a, "--listen")) o->listen = v;
		else if (!strcmp(a, "--cert")) o->cert = v;
		else if (!strcmp(a, "--key")) o->key = v;
		else if (!strcmp(a, "--log-level")) o->log_level = v;
		else if (!strcmp(a, "--customers")) {
			if (parse_num(a, v, 0, 1000000, &n))
				return -1;
			o->customers = (int)n;
		} else if (!strcmp(a, "--token-ttl")) {
			if (parse_num(a, v, 1, 10L * 366 * 24 * 3600, &n))
				return -1;
			o->token_ttl = n;
		} else if (!strcmp(a, "--seed")) {
			if (parse_num(a, v, 0, 2147483647, &n))
				return -1;
			o->seed = (unsigned)n;
		} else {
			fprintf(stderr, "outpostd: unknown option %s; see --help\n", a);
			return -1;
		}
	}
	return 0;
}

static int set_log_level(const char *name)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	int i;

	for (i = 0; i < 4; i++) {
		if (!strcmp(name, names[i])) {
			log_set_level((enum log_level)i);
			return 0;
		}
	}
	fprintf(stderr, "outpostd: --log-level must be error, warn, info or debug\n");
	return -1;
}

static int split_listen(const char *listen, char *host, size_t cap, int *port)
{
	const char *colon = strrchr(listen, ':');
	long n;

	if (!colon || colon == listen || (size_t)(colon - listen) >= cap) {
		fprintf(stderr, "outpostd: --listen must be HOST:PORT, like 127.0.0.1:8443\n");
		return -1;
	}
	if (parse_num("the port in --listen", colon + 1, 0, 65535, &n))
		return -1;
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	*port = (int)n;
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static struct lws_context *make_context(struct proto_sync_loop *loop, const struct opts *o,
					const char *host, int port)
{
	struct lws_context_creation_info info;

	memset(&info, 0, sizeof(info));
	info.port = port;
	info.iface = host;
	info.protocols = proto_sync_protocols;
	info.user = loop;
	if (!o->plain) {
		info.ssl_cert_filepath = o->cert;
		info.ssl_private_key_filepath = o->key;
		info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	}
	info.options |= LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
	if (strchr(host, '.') && !strchr(host, ':'))
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	return lws_create_context(&info);
}

static int serve(const struct opts *o)
{
	char host[256], err[OP_ERRLEN];
	struct proto_sync_loop loop = { NULL, NULL, NULL };
	struct worker *w;
	struct lws_context *ctx;
	struct srv *srv;
	int port, n = 0;

	if (!o->db || !o->listen || (!o->plain && (!o->cert || !o->key))) {
		fprintf(stderr, "outpostd: --db, --listen, --cert and --key are all required "
			"(plain ws only with --dev-plain-ws); see --help\n");
		return 2;
	}
	if (o->plain && (o->cert || o->key)) {
		fprintf(stderr, "outpostd: --dev-plain-ws serves without TLS; drop --cert and --key\n");
		return 2;
	}
	if (split_listen(o->listen, host, sizeof(host), &port))
		return 2;
	if (srv_open(o->db, &srv, err)) {
		fprintf(stderr, "outpostd: %s\n", err);
		return 1;
	}
	if (o->token_ttl)
		gate_set_token_ttl(srv_gate(srv), (uint64_t)o->token_ttl * 1000);
	lws_set_log_level(LLL_ERR, NULL);
	install_signals();
	loop.srv = srv;
	ctx = make_context(&loop, o, host, port);
	if (!ctx) {
		fprintf(stderr, "outpostd: cannot listen on %s with %s and %s (port in use, or bad certificate or key?)\n",
			o->listen, o->cert, o->key);
		srv_close(srv);
		return 1;
	}
	/* Password checks leave the event loop for a thread of their own. */
	if (!(loop.worker = worker_new(proto_sync_wake, ctx)))
		log_warn("no worker thread: password checks will stall the loop");
	srv_set_worker(srv, loop.worker);
	if (o->plain)
		fprintf(stderr, "outpostd: WARNING: --dev-plain-ws: passwords, tokens and data travel "
			"unencrypted; never use this outside development\n");
	printf("outpostd: listening on %s://%s:%d (database %s, replica %s)\n",
	       o->plain ? "ws" : "wss", host,
	       lws_get_vhost_listen_port(lws_get_vhost_by_name(ctx, "default")),
	       o->db, srv_replica(srv));
	fflush(stdout);
	while (n >= 0 && !interrupted)
		n = lws_service(ctx, 0);
	srv_set_worker(srv, NULL);
	w = loop.worker;
	loop.worker = NULL;
	worker_free(w, gate_attempt_free); /* before its wake target goes */
	lws_context_destroy(ctx);
	srv_close(srv);
	log_info("outpostd: stopped cleanly");
	return 0;
}

/* Opens the database of an administration command; returns an exit code. */
static int open_for(const struct opts *o, const char *cmd, struct srv **srv)
{
	char err[OP_ERRLEN];

	if (!o->db) {
		fprintf(stderr, "outpostd %s: --db is required\n", cmd);
		return 2;
	}
	if (srv_open(o->db, srv, err)) {
		fprintf(stderr, "outpostd %s: %s\n", cmd, err);
		return 1;
	}
	return 0;
}

static int cmd_demo(const struct opts *o)
{
	struct srv *srv;
	int rc;

	if ((rc = open_for(o, "demo", &srv)))
		return rc;
	rc = demo_seed(srv, o->customers ? o->customers : 300, o->seed ? o->seed : 1);
	if (rc)
		fprintf(stderr, "outpostd demo: cannot write demo data: %s\n", db_errmsg(srv_db(srv)));
	else
		printf("outpostd: wrote %d demo customers with contacts to %s\n",
		       o->customers ? o->customers : 300, o->db);
	srv_close(srv);
	return rc ? 1 : 0;
}

static int cmd_conflicts(const struct opts *o)
{
	const struct tbl_desc *t = tbl_find("conflict", 8);
	struct srv *srv;
	struct out out;
	int rc;

	if ((rc = open_for(o, "conflicts", &srv)))
		return rc;
	out_begin(&out, stdout, o->json, t);
	rc = db_rec_list(srv_db(srv), t, -1, NULL, out_rec, &out);
	out_end(&out);
	srv_close(srv);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	const char *cmd = argc > 1 && argv[1][0] != '-' ? argv[1] : NULL;

	umask(077); /* the database holds password hashes and token digests */
	if (cmd && admin_is_command(cmd))
		return admin_main(argc, argv);
	if (parse_opts(argc, argv, cmd ? 2 : 1, &o))
		return 2;
	if (o.log_level && set_log_level(o.log_level))
		return 2;
	if (!cmd)
		return serve(&o);
	if (!strcmp(cmd, "demo"))
		return cmd_demo(&o);
	if (!strcmp(cmd, "conflicts"))
		return cmd_conflicts(&o);
	fprintf(stderr, "outpostd: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return 2;
}
