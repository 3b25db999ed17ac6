/*
 * rid.h - record and replica ids: 128 random bits from OpenSSL's CSPRNG,
 * written as 32 lowercase hex digits.
 */
#ifndef OP_RID_H
#define OP_RID_H

#include <stdbool.h>
#include <stddef.h>

#define RID_LEN 32

/* Writes a new id and its NUL into out[RID_LEN + 1]; OP_OK or OP_EIO. */
int rid_new(char out[RID_LEN + 1]);
/* True if s[0..n) is a well-formed id. */
bool rid_valid(const char *s, size_t n);

#endif
