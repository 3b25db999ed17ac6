/*
 * harness.c - real-process test helpers (see harness.h).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "auth.h"
#include "db.h"
#include "harness.h"
#include "hlc.h"
#include "users.h"

#define MAX_ARGS 64

/* Test passwords are hashed with the fewest PBKDF2 iterations the stored
 * format accepts (server/auth.c), in the format auth.h documents. */
#define PW_ITER 1000
#define PW_SALT 16
#define PW_HASH 32

/* A stored hash that no password matches (well formed and as cheap to
 * check as the test passwords). */
#define NO_PASSWORD "pbkdf2-sha256$1000$00000000000000000000000000000000$" \
	"0000000000000000000000000000000000000000000000000000000000000000"

int h_tmpdir(char out[256])
{
	snprintf(out, 256, "/tmp/outpost-test-XXXXXX");
	return mkdtemp(out) ? 0 : -1;
}

/* ---- child processes ---------------------------------------------------- */

/* Starts argv with stdout into out_path (when not NULL) and, when in_fd
 * is not NULL, stdin from a new pipe whose write end is left in *in_fd. */
static pid_t spawn(char *const argv[], const char *out_path, int *in_fd)
{
	int fds[2] = { -1, -1 };
	pid_t pid;

	if (in_fd && pipe(fds))
		return -1;
	pid = fork();
	if (pid == 0) {
		if (in_fd && (dup2(fds[0], STDIN_FILENO) < 0 || close(fds[1])))
			_exit(127);
		if (out_path && !freopen(out_path, "w", stdout))
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (in_fd) {
		close(fds[0]);
		if (pid < 0)
			close(fds[1]);
		else
			*in_fd = fds[1];
	}
	return pid;
}

/* Waits for pid; its exit code, or -1 if it did not exit normally. */
static int reap(pid_t pid)
{
	int st;

	if (pid <= 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs argv to its end, with text (when not NULL) on its stdin. */
static int run_argv_in(char *const argv[], const char *out_path, const char *text)
{
	size_t n = text ? strlen(text) : 0;
	ssize_t w = 0;
	int fd = -1, rc;
	pid_t pid = spawn(argv, out_path, text ? &fd : NULL);

	if (pid < 0)
		return -1;
	if (text) {
		signal(SIGPIPE, SIG_IGN);
		w = write(fd, text, n);
		close(fd);
	}
	rc = reap(pid);
	return rc == 0 && (size_t)w != n ? -1 : rc;
}

static int run_argv(char *const argv[], const char *out_path)
{
	return run_argv_in(argv, out_path, NULL);
}

/* Appends the NULL-terminated arguments of ap to argv from argc. */
static int add_args(char *argv[MAX_ARGS], int argc, va_list ap)
{
	while (argc < MAX_ARGS - 1 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	argv[argc] = NULL;
	return argc;
}

/* Copies the file at path into out (NUL-terminated, at most cap - 1). */
static void slurp(const char *path, char *out, size_t cap)
{
	FILE *f;
	size_t n;

	if (!out || !cap)
		return;
	out[0] = '\0';
	if (!(f = fopen(path, "r")))
		return;
	n = fread(out, 1, cap - 1, f);
	out[n] = '\0';
	fclose(f);
}

void h_rmtree(const char *dir)
{
	char *const argv[] = { "rm", "-rf", (char *)dir, NULL };

	if (strncmp(dir, "/tmp/outpost-test-", 18) == 0)
		run_argv(argv, NULL);
}

int h_cert(const char *dir)
{
	char cert[320], key[320];
	char *const argv[] = {
		"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
		"ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
		"-days", "30", "-subj", "/CN=localhost", "-addext",
		"subjectAltName=DNS:localhost,IP:127.0.0.1", NULL
	};
	struct stat sb;

	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	if (stat(cert, &sb) == 0)
		return 0;
	return run_argv(argv, "/dev/null") == 0 ? 0 : -1;
}

/* ---- the server ----------------------------------------------------------- */

/* Reads the port from the server's "listening on wss://HOST:PORT" line. */
static int wait_listening(struct h_server *s)
{
	char line[512];
	int i;

	for (i = 0; i < 200; i++) {
		FILE *f = fopen(s->log, "r");

		while (f && fgets(line, sizeof(line), f)) {
			char *p = strstr(line, "listening on wss://");

			if (p && (p = strrchr(strtok(p + 19, " "), ':'))) {
				s->port = atoi(p + 1);
				fclose(f);
				snprintf(s->url, sizeof(s->url), "wss://127.0.0.1:%d", s->port);
				return 0;
			}
		}
		if (f)
			fclose(f);
		if (waitpid(s->pid, NULL, WNOHANG) == s->pid)
			return -1;
		nanosleep(&(struct timespec){ 0, 25000000 }, NULL);
	}
	return -1;
}

static void server_paths(struct h_server *s, const char *dir)
{
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	snprintf(s->db, sizeof(s->db), "%s/server.db", dir);
	snprintf(s->cert, sizeof(s->cert), "%s/cert.pem", dir);
	snprintf(s->key, sizeof(s->key), "%s/key.pem", dir);
	snprintf(s->log, sizeof(s->log), "%s/outpostd.log", dir);
}

int h_server_start_with(struct h_server *s, const char *dir, const char *const *args)
{
	char *argv[MAX_ARGS];
	int argc = 0;

	server_paths(s, dir);
	if (h_cert(dir))
		return -1;
	argv[argc++] = "outpostd";
	argv[argc++] = "--db";
	argv[argc++] = s->db;
	argv[argc++] = "--listen";
	argv[argc++] = "127.0.0.1:0";
	argv[argc++] = "--cert";
	argv[argc++] = s->cert;
	argv[argc++] = "--key";
	argv[argc++] = s->key;
	while (args && *args && argc < MAX_ARGS - 1)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (s->pid == 0) {
		if (!freopen(s->log, "a", stdout) || !freopen(s->log, "a", stderr))
			_exit(127);
		setvbuf(stdout, NULL, _IOLBF, 0);
		execv(OUTPOSTD_BIN, argv);
		_exit(127);
	}
	if (wait_listening(s)) {
		h_server_stop(s, SIGKILL);
		return -1;
	}
	return 0;
}

int h_server_start(struct h_server *s, const char *dir)
{
	return h_server_start_with(s, dir, NULL);
}

int h_server_stop(struct h_server *s, int sig)
{
	int st;

	if (s->pid <= 0)
		return -1;
	kill(s->pid, sig);
	if (waitpid(s->pid, &st, 0) < 0)
		st = -1;
	s->pid = 0;
	return st;
}

/* ---- the command lines ----------------------------------------------------- */

int h_outpost(const char *home, char *out, size_t cap, ...)
{
	char *argv[MAX_ARGS], path[300];
	va_list ap;
	int rc;

	argv[0] = OUTPOST_BIN;
	argv[1] = "--home";
	argv[2] = (char *)home;
	va_start(ap, cap);
	add_args(argv, 3, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s.out", home);
	rc = run_argv(argv, path);
	slurp(path, out, cap);
	return rc;
}

pid_t h_outpost_start(const char *home, ...)
{
	char *argv[MAX_ARGS], path[300];
	va_list ap;

	argv[0] = OUTPOST_BIN;
	argv[1] = "--home";
	argv[2] = (char *)home;
	va_start(ap, home);
	add_args(argv, 3, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s.bg.out", home);
	return spawn(argv, path, NULL);
}

int h_outpost_wait(pid_t pid)
{
	return reap(pid);
}

int h_login(const char *home, const char *user, const char *password)
{
	char *const argv[] = { OUTPOST_BIN, "--home", (char *)home, "login", "--user",
			       (char *)user, NULL };
	char path[300], line[300];

	snprintf(path, sizeof(path), "%s.out", home);
	snprintf(line, sizeof(line), "%s\n", password);
	return run_argv_in(argv, path, line);
}

int h_admin(const char *db, char *out, size_t cap, ...)
{
	char *argv[MAX_ARGS], path[400];
	va_list ap;
	int argc, rc;

	argv[0] = OUTPOSTD_BIN;
	va_start(ap, cap);
	argc = add_args(argv, 1, ap);
	va_end(ap);
	if (argc > MAX_ARGS - 3)
		return -1;
	argv[argc++] = "--db";
	argv[argc++] = (char *)db;
	argv[argc] = NULL;
	snprintf(path, sizeof(path), "%s.admin.out", db);
	rc = run_argv(argv, path);
	slurp(path, out, cap);
	return rc;
}

/* ---- the server database, written directly ---------------------------- */

/*
 * Hashes pw as auth_pw_hash() does but with PW_ITER iterations; falls
 * back to auth_pw_hash() itself should the server no longer accept so
 * few (auth_pw_check() tells).
 */
static int hash_pw(const char *pw, char out[AUTH_HASH_TEXT])
{
	unsigned char salt[PW_SALT], hash[PW_HASH];
	char salt_hex[2 * PW_SALT + 1], hash_hex[2 * PW_HASH + 1];
	size_t n = strlen(pw);

	if (RAND_bytes(salt, sizeof(salt)) != 1 ||
	    PKCS5_PBKDF2_HMAC(pw, (int)n, salt, sizeof(salt), PW_ITER, EVP_sha256(),
			      sizeof(hash), hash) != 1)
		return -1;
	auth_hex(salt, sizeof(salt), salt_hex);
	auth_hex(hash, sizeof(hash), hash_hex);
	OPENSSL_cleanse(hash, sizeof(hash));
	snprintf(out, AUTH_HASH_TEXT, "pbkdf2-sha256$%d$%s$%s", PW_ITER, salt_hex, hash_hex);
	if (auth_pw_check(pw, n, out))
		return 0;
	return auth_pw_hash(pw, n, out) ? -1 : 0;
}

int h_user_db(struct db *db, const char *name, const char *role,
	      const char *supervisor, const char *password)
{
	struct user u;

	memset(&u, 0, sizeof(u));
	snprintf(u.name, sizeof(u.name), "%s", name);
	snprintf(u.full_name, sizeof(u.full_name), "Test user %s", name);
	snprintf(u.role, sizeof(u.role), "%s", role);
	snprintf(u.supervisor, sizeof(u.supervisor), "%s", supervisor ? supervisor : "");
	snprintf(u.pw, sizeof(u.pw), "%s", NO_PASSWORD);
	if (password && hash_pw(password, u.pw))
		return -1;
	return users_add(db, &u) ? -1 : 0;
}

int h_user_add(const char *db, const char *name, const char *role,
	       const char *supervisor, const char *password)
{
	char err[OP_ERRLEN];
	struct db *h;
	int rc;

	if (db_open(db, SCHEMA_SERVER, &h, err)) {
		fprintf(stderr, "h_user_add: %s\n", err);
		return -1;
	}
	rc = h_user_db(h, name, role, supervisor, password);
	db_close(h);
	return rc;
}

int h_device_db(struct db *db, const char *user, const char *replica,
		int64_t ttl_ms, char token[H_TOKEN_HEX + 1])
{
	unsigned char tok[AUTH_TOKEN_LEN], dig[AUTH_TOKEN_HASH];
	struct device d;

	memset(&d, 0, sizeof(d));
	snprintf(d.replica, sizeof(d.replica), "%s", replica);
	snprintf(d.user, sizeof(d.user), "%s", user);
	snprintf(d.agent, sizeof(d.agent), "harness");
	d.created = hlc_wall_ms();
	d.expires = (uint64_t)((int64_t)d.created + ttl_ms);
	if (auth_token_new(tok))
		return -1;
	auth_token_digest(tok, sizeof(tok), dig);
	auth_hex(tok, sizeof(tok), token);
	return users_device_login(db, &d, dig) ? -1 : 0;
}

int h_device_add(const char *db, const char *user, const char *replica,
		 int64_t ttl_ms, char token[H_TOKEN_HEX + 1])
{
	char err[OP_ERRLEN];
	struct db *h;
	int rc;

	if (db_open(db, SCHEMA_SERVER, &h, err)) {
		fprintf(stderr, "h_device_add: %s\n", err);
		return -1;
	}
	rc = h_device_db(h, user, replica, ttl_ms, token);
	db_close(h);
	return rc;
}

/* ---- a test's world ------------------------------------------------------- */

int h_world_init(struct h_world *w)
{
	memset(w, 0, sizeof(*w));
	if (h_tmpdir(w->dir))
		return -1;
	server_paths(&w->srv, w->dir);
	return 0;
}

/* Forks a process that kills the server unless the test disarms it. */
static int watchdog_arm(struct h_world *w)
{
	int fds[2], fd;
	char c;

	if (pipe(fds))
		return -1;
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	w->dog = fork();
	if (w->dog < 0) {
		w->dog = 0;
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (w->dog == 0) {
		for (fd = 3; fd < 1024; fd++)
			if (fd != fds[0])
				close(fd);
		if (read(fds[0], &c, 1) != 1)
			kill(w->srv.pid, SIGKILL);
		_exit(0);
	}
	close(fds[0]);
	w->dog_fd = fds[1];
	return 0;
}

static void watchdog_disarm(struct h_world *w)
{
	if (w->dog <= 0)
		return;
	if (write(w->dog_fd, "x", 1) != 1)
		kill(w->dog, SIGKILL);
	close(w->dog_fd);
	waitpid(w->dog, NULL, 0);
	w->dog = 0;
}

int h_world_serve(struct h_world *w, const char *const *args)
{
	if (h_server_start_with(&w->srv, w->dir, args))
		return -1;
	if (watchdog_arm(w)) {
		h_server_stop(&w->srv, SIGKILL);
		return -1;
	}
	return 0;
}

int h_world_start(struct h_world *w)
{
	return h_world_init(w) ? -1 : h_world_serve(w, NULL);
}

/* The watchdog stays armed until the server is reaped, in case the stop
 * hangs until Criterion's timeout kills the test. */
int h_world_stop(struct h_world *w)
{
	int st;

	if (w->srv.pid <= 0)
		return 0;
	st = h_server_stop(&w->srv, SIGTERM);
	watchdog_disarm(w);
	return st;
}

void h_world_end(struct h_world *w)
{
	if (w->srv.pid > 0)
		h_server_stop(&w->srv, SIGKILL);
	watchdog_disarm(w);
	if (w->dir[0])
		h_rmtree(w->dir);
}
