/*
 * harness.h - helpers for tests that need real parts: a private temporary
 * directory, a development TLS certificate, a real outpostd process on
 * 127.0.0.1 (with a watchdog so that none outlives its test), users and
 * devices written straight into a server database, and running the real
 * outpost and outpostd command lines.
 *
 * Functions return 0 (or a documented value) on success and -1 on
 * failure; they do not assert, so they also serve fixtures' cleanups.
 */
#ifndef OP_HARNESS_H
#define OP_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct db;

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
/* The same with more outpostd options (NULL-terminated; args may be
 * NULL), such as "--token-ttl", "1". */
int h_server_start_with(struct h_server *s, const char *dir,
			const char *const *args);
/* Sends sig (SIGTERM for a clean stop, SIGKILL for a crash) and reaps it;
 * returns the exit status as from waitpid, or -1. */
int h_server_stop(struct h_server *s, int sig);
/*
 * Runs `outpost --home HOME ARGS...` (args NULL-terminated), capturing
 * stdout into out (NUL-terminated, truncated to cap) when out is non-NULL.
 * Returns the exit code, or -1 if it could not run.
 */
int h_outpost(const char *home, char *out, size_t cap, ...);
/*
 * Starts `outpost --home HOME ARGS...` (NULL-terminated) in the
 * background, its stdout in HOME.bg.out; returns its pid or -1. Collect
 * it with h_outpost_wait(), which returns its exit code or -1.
 */
pid_t h_outpost_start(const char *home, ...);
int h_outpost_wait(pid_t pid);
/*
 * Runs `outpost --home HOME login --user USER` with the password on its
 * standard input (a pipe). Returns the exit code, or -1.
 */
int h_login(const char *home, const char *user, const char *password);
/*
 * Runs the administration command `outpostd ARGS... --db DB` (args
 * NULL-terminated), capturing stdout into out as h_outpost() does.
 * Returns the exit code, or -1.
 */
int h_admin(const char *db, char *out, size_t cap, ...);

/* ---- the server database, written directly ---------------------------- */

#define H_TOKEN_HEX 64

/*
 * Adds user name with role and supervisor (NULL: none) to the server
 * database at db (created and migrated if need be; a running server may
 * hold it). With a password the user can log in; with NULL the stored
 * hash matches no password. The hash is a real PBKDF2-SHA256 one in the
 * stored format of auth.h, but with the fewest iterations that format
 * accepts: auth_pw_hash()'s 600000 cost about half a second per add and
 * per login check, which floods of logins would multiply. Returns 0 or -1.
 */
int h_user_add(const char *db, const char *name, const char *role,
	       const char *supervisor, const char *password);
/* The same on an open server database. */
int h_user_db(struct db *db, const char *name, const char *role,
	      const char *supervisor, const char *password);
/*
 * Registers replica as a device of user with a new token that expires
 * ttl_ms from now (negative: already expired), as a login would; writes
 * the token in lowercase hex into token. Returns 0 or -1.
 */
int h_device_add(const char *db, const char *user, const char *replica,
		 int64_t ttl_ms, char token[H_TOKEN_HEX + 1]);
/* The same on an open server database. */
int h_device_db(struct db *db, const char *user, const char *replica,
		int64_t ttl_ms, char token[H_TOKEN_HEX + 1]);

/* ---- a test's world: directory, server, watchdog ------------------------ */

struct h_world {
	char dir[256];      /* "" until made */
	struct h_server srv;
	pid_t dog;          /* the watchdog process, or 0 */
	int dog_fd;         /* the write end of its pipe */
};

/* Makes the world's temporary directory; the server is not started yet,
 * so its database can be prepared first (w->srv.db names it). */
int h_world_init(struct h_world *w);
/*
 * Starts the server with extra options args (NULL-terminated, or NULL)
 * and a watchdog process that kills it if the test process dies (a crash
 * or a Criterion timeout) before h_world_stop().
 */
int h_world_serve(struct h_world *w, const char *const *args);
/* h_world_init() and h_world_serve(w, NULL). */
int h_world_start(struct h_world *w);
/*
 * Stops the server with SIGTERM and disarms the watchdog once it is
 * reaped. Returns the exit status as from waitpid, 0 when no server was
 * running, or -1.
 */
int h_world_stop(struct h_world *w);
/* Cleanup for a suite's .fini: kills a server still running, disarms the
 * watchdog and removes the directory. */
void h_world_end(struct h_world *w);

#endif
