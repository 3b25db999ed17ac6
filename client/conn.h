/*
 * conn.h - runs one sync (sync.h) over a wss connection with
 * libwebsockets: parses the server URL, verifies the server's certificate
 * (against a given CA file, or the system's), and reports progress.
 */
#ifndef OP_CONN_H
#define OP_CONN_H

#include <stdbool.h>

#include "err.h"
#include "oc.h"
#include "sync.h"

typedef void (*conn_progress_fn)(void *ctx, const struct sync_stats *st);

enum conn_mode { CONN_SYNC, CONN_LOGIN, CONN_LOGOUT };

struct conn_opts {
	enum conn_mode mode;        /* a sync, a login or a logout */
	const char *user, *password; /* CONN_LOGIN */
	const char *url;            /* wss://HOST[:PORT][/PATH] (ws:// for a
				       development server) */
	const char *ca;             /* CA file, or NULL/"" for the system's */
	int timeout_s;              /* give up after this long without traffic */
	conn_progress_fn progress;  /* called about twice a second; may be NULL */
	void *ctx;
};

/*
 * Syncs c with the server (or logs in or out, by o->mode). *st receives
 * the figures (also on failure). Returns OP_OK or an error with err
 * filled (one sentence).
 */
int conn_sync(struct oc *c, const struct conn_opts *o, struct sync_stats *st,
	      char err[OP_ERRLEN]);

/* Splits a wss:// (or ws://, *tls false) URL; host has room for 256
 * bytes, path for 256. */
int conn_parse_url(const char *url, char host[256], int *port, char path[256],
		   bool *tls, char err[OP_ERRLEN]);

#endif
