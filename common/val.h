/*
 * val.h - a field value: nil, integer, real or text. Values are small and
 * caller-owned; text is copied in and NUL-terminated.
 */
#ifndef OP_VAL_H
#define OP_VAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum val_type { VAL_NIL, VAL_INT, VAL_REAL, VAL_TEXT };

struct val {
	enum val_type t;
	int64_t i;
	double r;
	char *s;     /* owned by the value when t == VAL_TEXT */
	size_t n;    /* length of s */
};

#define VAL_INIT { VAL_NIL, 0, 0.0, NULL, 0 }

/* Frees text and resets to nil. */
void val_release(struct val *v);
void val_set_int(struct val *v, int64_t i);
void val_set_real(struct val *v, double r);
/* Copies n bytes of s; returns OP_OK or OP_ENOMEM. */
int val_set_text(struct val *v, const char *s, size_t n);
/* Deep copy; dst is released first. */
int val_copy(struct val *dst, const struct val *src);
bool val_equal(const struct val *a, const struct val *b);
/* Appends a human-readable form ("" for nil) to out. */
int val_format(const struct val *v, struct buf *out);
/* True if s[0..n) is well-formed UTF-8 without NUL bytes. */
bool utf8_valid(const char *s, size_t n);
/*
 * Copies s[0..n) into out[0..cap) as valid UTF-8 without control bytes,
 * each bad byte becoming '?', cut at a character boundary to fit; always
 * NUL-terminated. For text from the network bound for logs, terminals and
 * error messages.
 */
void utf8_clean(char *out, size_t cap, const char *s, size_t n);

#endif
