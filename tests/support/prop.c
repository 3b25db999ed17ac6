/*
 * prop.c - helpers of the property tests (see prop.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "prop.h"
#include "sess.h"

#define SHM_PREFIX "/dev/shm/outpost-test-"

void prop_dir(char out[256])
{
	struct stat sb;

	if (stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode)) {
		snprintf(out, 256, SHM_PREFIX "XXXXXX");
		if (mkdtemp(out))
			return;
	}
	cr_assert_eq(h_tmpdir(out), 0);
}

void prop_rmdir(const char *dir)
{
	char cmd[320];

	if (strncmp(dir, SHM_PREFIX, strlen(SHM_PREFIX))) {
		h_rmtree(dir);
		return;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

void prop_sync(struct srv *srv, struct oc *c, int cut, struct sync_stats *st,
	       const char *who)
{
	struct sess *ss = sess_new(srv, "prop", 0);
	struct sync *sy = sync_new(c);
	struct buf out = BUF_INIT;
	unsigned char *frame;
	size_t len;
	int rc, replies = 0;

	cr_assert(ss && sy);
	cr_assert_eq(sync_start(sy, &out), SYNC_CONTINUE, "%s: %s", who, sync_error(sy));
	do {
		cr_assert(sess_on_rx(ss, out.p, out.len, true), "server: %s", sess_reason(ss));
		buf_reset(&out);
		frame = sess_frame(ss, &len);
		cr_assert(frame);
		if (cut && ++replies > cut)
			break; /* the reply is lost with the connection */
		rc = sync_on_message(sy, frame, len, &out);
		cr_assert_geq(rc, 0, "client %s: %s", who, sync_error(sy));
		sess_frame_sent(ss);
	} while (rc == SYNC_CONTINUE);
	if (st)
		*st = *sync_stats(sy);
	buf_release(&out);
	sync_free(sy);
	sess_free(ss);
}
