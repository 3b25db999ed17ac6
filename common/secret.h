/*
 * secret.h - reading a password: from the terminal with echo off when
 * stdin is a terminal (prompting on it), otherwise one line from stdin.
 * Secrets never come from argv.
 */
#ifndef OP_SECRET_H
#define OP_SECRET_H

#include <stddef.h>

#include "err.h"

/*
 * Reads one secret into buf (cap bytes, NUL-terminated, trailing newline
 * removed). With confirm (a terminal only), asks twice and requires the
 * same answer. Returns the length, or a negative OP_* code with err
 * filled (empty, too long, mismatch, end of input).
 */
int secret_read(const char *prompt, int confirm, char *buf, size_t cap,
		char err[OP_ERRLEN]);
/* Overwrites n bytes of p in a way the compiler keeps. */
void secret_wipe(void *p, size_t n);

#endif
