/*
 * harness.c - real-process test helpers (see harness.h).
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

int h_tmpdir(char out[256])
{
	snprintf(out, 256, "/tmp/outpost-test-XXXXXX");
	return mkdtemp(out) ? 0 : -1;
}

static int run_argv(char *const argv[], const char *out_path)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (out_path && !freopen(out_path, "w", stdout))
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
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

int h_server_start(struct h_server *s, const char *dir)
{
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	snprintf(s->db, sizeof(s->db), "%s/server.db", dir);
	snprintf(s->cert, sizeof(s->cert), "%s/cert.pem", dir);
	snprintf(s->key, sizeof(s->key), "%s/key.pem", dir);
	snprintf(s->log, sizeof(s->log), "%s/outpostd.log", dir);
	if (h_cert(dir))
		return -1;
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (s->pid == 0) {
		if (!freopen(s->log, "a", stdout) || !freopen(s->log, "a", stderr))
			_exit(127);
		setvbuf(stdout, NULL, _IOLBF, 0);
		execl(OUTPOSTD_BIN, "outpostd", "--db", s->db, "--listen", "127.0.0.1:0",
		      "--cert", s->cert, "--key", s->key, (char *)NULL);
		_exit(127);
	}
	if (wait_listening(s)) {
		h_server_stop(s, SIGKILL);
		return -1;
	}
	return 0;
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

int h_outpost(const char *home, char *out, size_t cap, ...)
{
	char *argv[64], path[300];
	int argc = 0, rc;
	va_list ap;
	FILE *f;
	size_t n;

	argv[argc++] = OUTPOST_BIN;
	argv[argc++] = "--home";
	argv[argc++] = (char *)home;
	va_start(ap, cap);
	while (argc < 63 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	snprintf(path, sizeof(path), "%s.out", home);
	rc = run_argv(argv, path);
	if (out && (f = fopen(path, "r"))) {
		n = fread(out, 1, cap - 1, f);
		out[n] = '\0';
		fclose(f);
	}
	return rc;
}
