/*
 * vv.h - version vectors: for each replica, the highest change counter of
 * that replica that has been seen. A per-record vector tells which writes a
 * replica knew of when it wrote; comparing two tells whether one state
 * includes the other or whether they are concurrent.
 */
#ifndef OP_VV_H
#define OP_VV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Replica ids are 32 lowercase hex digits (128 random bits). */
#define VV_REPLEN 32

struct vv; /* opaque */

enum vv_order {
	VV_EQUAL,      /* same knowledge */
	VV_DOMINATES,  /* a has seen everything b has, and more */
	VV_DOMINATED,  /* b has seen everything a has, and more */
	VV_CONCURRENT, /* each has seen something the other has not */
};

/* Empty vector; NULL on allocation failure. Free with vv_free(). */
struct vv *vv_new(void);
/* Deep copy; NULL on allocation failure. Free with vv_free(). */
struct vv *vv_dup(const struct vv *v);
/* Accepts NULL. */
void vv_free(struct vv *v);

/* Counter of rep, 0 when absent. rep is VV_REPLEN characters. */
uint64_t vv_get(const struct vv *v, const char *rep);
/* Raises rep's counter to ctr (never lowers it); OP_OK or OP_ENOMEM. */
int vv_raise(struct vv *v, const char *rep, uint64_t ctr);
/* True when v has seen the write (rep, ctr). */
bool vv_contains(const struct vv *v, const char *rep, uint64_t ctr);
enum vv_order vv_compare(const struct vv *a, const struct vv *b);
/* dst becomes the pointwise maximum of dst and src; OP_OK or OP_ENOMEM. */
int vv_merge(struct vv *dst, const struct vv *src);

/* Number of replicas; entries are sorted by replica id. */
size_t vv_size(const struct vv *v);
/* Entry i: *rep points into v (borrowed until v changes). */
void vv_at(const struct vv *v, size_t i, const char **rep, uint64_t *ctr);

#endif
