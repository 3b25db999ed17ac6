/*
 * harness.h - helpers for tests that need real parts: a private temporary
 * directory, a development TLS certificate, a real outpostd process on
 * 127.0.0.1, and running the real outpost CLI.
 */
#ifndef OP_HARNESS_H
#define OP_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct h_server {
	pid_t pid;
	int port;
	char dir[256];
	char db[320];
	char cert[320];
	char key[320];
	char url[64];     /* wss://127.0.0.1:PORT */
	char log[320];    /* the server's stdout and stderr */
};

/* Makes a new directory /tmp/outpost-test-XXXXXX; returns 0 or -1. */
int h_tmpdir(char out[256]);
/* Removes a directory tree (rm -rf). */
void h_rmtree(const char *dir);
/* Writes dir/cert.pem and dir/key.pem (self-signed, SAN localhost and
 * 127.0.0.1) with the openssl CLI; returns 0 or -1. */
int h_cert(const char *dir);
/*
 * Starts outpostd on 127.0.0.1 with an ephemeral port, database dir/server.db
 * and dir's certificate (made if missing); waits for it to listen.
 * Returns 0 or -1.
 */
int h_server_start(struct h_server *s, const char *dir);
/* Sends sig (SIGTERM for a clean stop, SIGKILL for a crash) and reaps it;
 * returns the exit status as from waitpid, or -1. */
int h_server_stop(struct h_server *s, int sig);
/*
 * Runs `outpost --home HOME ARGS...` (args NULL-terminated), capturing
 * stdout into out (NUL-terminated, truncated to cap) when out is non-NULL.
 * Returns the exit code, or -1 if it could not run.
 */
int h_outpost(const char *home, char *out, size_t cap, ...);

#endif
