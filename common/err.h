/*
 * err.h - return codes shared by every Outpost module. Commands return 0
 * (OP_OK) or one of the negative codes; detail goes into a caller-supplied
 * `char err[OP_ERRLEN]` or a module's sticky error string.
 */
#ifndef OP_ERR_H
#define OP_ERR_H

enum op_rc {
	OP_OK = 0,
	OP_ENOMEM = -1,   /* allocation failed */
	OP_EPROTO = -2,   /* malformed or unexpected input */
	OP_EIO = -3,      /* storage or network failure */
	OP_ETOOBIG = -4,  /* a size limit was exceeded */
	OP_ENOTFOUND = -5,/* no such record, key or file */
	OP_EINVAL = -6,   /* a bad argument or value */
	OP_EVERSION = -7, /* incompatible protocol or schema version */
	OP_ESTATE = -8,   /* not allowed in the current state */
	OP_EEXIST = -9,   /* the name or key is already taken */
	OP_EDENIED = -10, /* not permitted, or not authenticated */
};

#define OP_ERRLEN 256

/* Fill err (may be NULL) with a printf-style message; returns rc. */
int op_fail(char *err, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
