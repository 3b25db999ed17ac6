/*
 * buf.h - a growable byte buffer owned by its caller (git's strbuf shape).
 * The bytes are always followed by a NUL that is not counted in len.
 */
#ifndef OP_BUF_H
#define OP_BUF_H

#include <stddef.h>

struct buf {
	char *p;     /* NULL until the first append */
	size_t len;
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

/* Frees the storage and resets to empty. */
void buf_release(struct buf *b);
/* Empties without freeing. */
void buf_reset(struct buf *b);
/* Make room for n more bytes; returns OP_OK or OP_ENOMEM. */
int buf_grow(struct buf *b, size_t n);
int buf_add(struct buf *b, const void *p, size_t n);
int buf_adds(struct buf *b, const char *s);
int buf_addc(struct buf *b, char c);
int buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Hands the storage to the caller (free(3) it); b is left empty. */
char *buf_detach(struct buf *b, size_t *len);

#endif
