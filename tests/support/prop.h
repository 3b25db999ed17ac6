/*
 * prop.h - what the property tests (tests/prop) share: a scratch
 * directory on tmpfs when there is one (fsyncs are free there), and one
 * sync of a client replica with a server core in process, the client's
 * state machine and the server's session exchanging real encoded
 * messages without sockets.
 */
#ifndef OP_PROP_H
#define OP_PROP_H

#include "oc.h"
#include "srv.h"
#include "sync.h"

/* Makes a new scratch directory into out; asserts success. */
void prop_dir(char out[256]);
/* Removes it. */
void prop_rmdir(const char *dir);
/*
 * Syncs c with srv. With cut > 0 the connection drops after that many
 * server replies (the last one is lost). *st (may be NULL) receives the
 * client's counts; who names the client in failure messages.
 */
void prop_sync(struct srv *srv, struct oc *c, int cut, struct sync_stats *st,
	       const char *who);

#endif
