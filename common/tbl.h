/*
 * tbl.h - descriptions of the synced entities. The sync engine, the
 * storage layer, the codec and the CLI are all driven by these tables:
 * adding an entity means adding its SQL view in schema/ and one entry in
 * tbl.c, not new sync code.
 */
#ifndef OP_TBL_H
#define OP_TBL_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "val.h"

#define TBL_MAX_FIELDS 32

enum fld_type {
	FLD_TEXT,  /* UTF-8 text up to max_len bytes */
	FLD_INT,   /* 64-bit integer in [min, max] */
	FLD_REAL,  /* finite double in [min, max] */
	FLD_REF,   /* the id of a record of table `ref` */
	FLD_DATE,  /* YYYY-MM-DD */
	FLD_EMAIL, /* local@domain */
};

struct fld_desc {
	const char *name;
	enum fld_type type;
	bool required;    /* must be set on create and never cleared */
	size_t max_len;   /* text types */
	double min, max;  /* number types */
	const char *ref;  /* FLD_REF: the referenced table */
	const char *help; /* one line for the CLI's usage */
};

struct tbl_desc {
	const char *name;
	const struct fld_desc *fields;
	int nfields;
	bool server_only;  /* written by the server alone (conflict records) */
	int label;         /* index of the field that names a record */
	/* Scope (who may see a record), as field indexes or -1: `owner` holds
	 * the owning user's name; otherwise the record hangs off the record
	 * whose id is in `parent` (of the table named by `parent_tbl`, or of
	 * the REF field's table) and shares its owner. */
	int owner, parent, parent_tbl;
};

int tbl_count(void);
const struct tbl_desc *tbl_at(int i);
/* Table by name (n bytes), or NULL. */
const struct tbl_desc *tbl_find(const char *name, size_t n);
/* Field index by name (n bytes), or -1. */
int tbl_field(const struct tbl_desc *t, const char *name, size_t n);

/*
 * Checks that v is an acceptable value of field f (nil is acceptable unless
 * the field is required). Coerces an integer given for a real field.
 * Returns OP_OK or OP_EINVAL with a sentence in err.
 */
int tbl_check(const struct fld_desc *f, struct val *v, char err[OP_ERRLEN]);
/*
 * Parses text typed by a person into *out ("" clears the field) and checks
 * it; out is released first. Returns OP_OK, OP_EINVAL or OP_ENOMEM.
 */
int tbl_parse(const struct fld_desc *f, const char *text, struct val *out,
	      char err[OP_ERRLEN]);

#endif
