/*
 * demo.h - demo data for a new server: plausible customers with a few
 * contacts each, written as the server's own changes so that every client
 * receives them on its first sync.
 */
#ifndef OP_DEMO_H
#define OP_DEMO_H

#include "srv.h"

/* Writes ncustomers customers and about 2 contacts each, reproducibly from
 * seed, in transactions of 200 customers (safe beside a running server).
 * Returns OP_OK or an error. */
int demo_seed(struct srv *s, int ncustomers, unsigned seed);

#endif
