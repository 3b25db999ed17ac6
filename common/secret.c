/*
 * secret.c - reading a password for the command-line tools (see
 * secret.h). On a terminal: the prompt goes to /dev/tty, echo is off
 * while the line is typed and restored before returning, errors
 * included. Otherwise one line of standard input, read a byte at a time
 * so that whatever follows the newline is left for the next reader.
 * Nothing here keeps state between calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "secret.h"

void secret_wipe(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}

/* Reads one byte; 1, 0 at end of input, or -1 (errno set). */
static int read_byte(int fd, char *c)
{
	ssize_t r;

	do
		r = read(fd, c, 1);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -1 : (int)r;
}

/*
 * Reads one line from fd into buf[cap] without the newline (nor a CR
 * before it). Returns the length or a negative OP_* with err filled;
 * eof is the message for an input that ended before any byte.
 */
static int read_line(int fd, char *buf, size_t cap, const char *eof, char *err)
{
	size_t n = 0;
	bool any = false;
	char c;
	int r, rc;

	while ((r = read_byte(fd, &c)) == 1) {
		any = true;
		if (c == '\n')
			break;
		if (c == '\0' || n + 1 >= cap) {
			secret_wipe(buf, n);
			return c ? op_fail(err, OP_ETOOBIG, "the password is longer than %zu bytes", cap - 1)
				 : op_fail(err, OP_EINVAL, "the password contains a NUL byte");
		}
		buf[n++] = c;
	}
	if (r < 0) {
		rc = op_fail(err, OP_EIO, "cannot read the password: %s", strerror(errno));
		secret_wipe(buf, n);
		return rc;
	}
	if (!any)
		return op_fail(err, OP_EIO, "%s", eof);
	if (n && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (!n)
		return op_fail(err, OP_EINVAL, "the password is empty");
	return (int)n;
}

static void put(int fd, const char *s)
{
	size_t n = strlen(s);
	ssize_t w;

	while (n) {
		w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* Prompts on out and reads a line from terminal in with echo off. */
static int ask(int in, int out, const char *prompt, char *buf, size_t cap, char *err)
{
	struct termios saved, quiet;
	int rc;

	if (tcgetattr(in, &saved))
		return op_fail(err, OP_EIO, "cannot read the terminal settings: %s",
			       strerror(errno));
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
	if (tcsetattr(in, TCSAFLUSH, &quiet))
		return op_fail(err, OP_EIO, "cannot turn off the terminal echo: %s",
			       strerror(errno));
	put(out, prompt); /* only once echo is off, so nothing typed shows */
	rc = read_line(in, buf, cap, "no password given", err);
	tcsetattr(in, TCSAFLUSH, &saved);
	put(out, "\n");
	return rc;
}

/* Asks again into a scratch buffer and compares with buf[n]. */
static int confirm_same(int in, int out, const char *buf, int n, size_t cap, char *err)
{
	char *again = malloc(cap);
	int rc;

	if (!again)
		return op_fail(err, OP_ENOMEM, "out of memory");
	rc = ask(in, out, "Again, to confirm: ", again, cap, err);
	if (rc >= 0 && (rc != n || memcmp(again, buf, (size_t)n)))
		rc = op_fail(err, OP_EINVAL, "the two passwords differ");
	secret_wipe(again, cap);
	free(again);
	return rc < 0 ? rc : n;
}

static int read_tty(const char *prompt, int confirm, char *buf, size_t cap, char *err)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	int in = fd >= 0 ? fd : STDIN_FILENO, out = fd >= 0 ? fd : STDERR_FILENO;
	int n = ask(in, out, prompt, buf, cap, err);

	if (n >= 0 && confirm) {
		int rc = confirm_same(in, out, buf, n, cap, err);

		if (rc < 0) {
			secret_wipe(buf, cap);
			n = rc;
		}
	}
	if (fd >= 0)
		close(fd);
	return n;
}

int secret_read(const char *prompt, int confirm, char *buf, size_t cap,
		char err[OP_ERRLEN])
{
	if (cap < 2 || cap > (size_t)1 << 30)
		return op_fail(err, OP_EINVAL, "no room for a password");
	buf[0] = '\0';
	if (isatty(STDIN_FILENO))
		return read_tty(prompt, confirm, buf, cap, err);
	return read_line(STDIN_FILENO, buf, cap, "no password on standard input", err);
}
