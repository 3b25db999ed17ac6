/*
 * mp.h - a bounded, allocation-free MessagePack reader over one complete
 * message. Every length read is checked against the bytes that remain
 * before it is returned, so a hostile count can never drive an allocation
 * or a loop past the input. (Writing uses msgpack-c's packer.)
 */
#ifndef OP_MP_H
#define OP_MP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mp_type {
	MP_BAD, MP_NIL, MP_BOOL, MP_UINT, MP_NINT, MP_FLOAT, MP_STR, MP_BIN,
	MP_ARRAY, MP_MAP, MP_EXT,
};

/* Reader results: 0 ok, MP_ETYPE wrong type (nothing consumed), MP_ETRUNC
 * malformed or truncated input, MP_EDEPTH nesting too deep. */
#define MP_ETYPE (-1)
#define MP_ETRUNC (-2)
#define MP_EDEPTH (-3)

#define MP_MAX_DEPTH 16

struct mp {
	const unsigned char *p;
	const unsigned char *end;
};

void mp_init(struct mp *m, const void *buf, size_t len);
bool mp_done(const struct mp *m);
enum mp_type mp_peek(const struct mp *m);
int mp_nil(struct mp *m);
int mp_bool(struct mp *m, bool *b);
/* A non-negative integer in any unsigned or signed format. */
int mp_u64(struct mp *m, uint64_t *u);
/* Any integer that fits in int64_t. */
int mp_i64(struct mp *m, int64_t *i);
/* float 32 or 64. */
int mp_f64(struct mp *m, double *d);
/* *s points into the input (not NUL-terminated). */
int mp_str(struct mp *m, const char **s, size_t *n);
/* *n is at most the number of bytes left. */
int mp_array(struct mp *m, uint32_t *n);
int mp_map(struct mp *m, uint32_t *n);
/* Skips one whole object, nested at most MP_MAX_DEPTH deep. */
int mp_skip(struct mp *m);

#endif
