/* SPDX-License-Identifier: MIT */
/*
 * hvctl sign-requests DIR COUNT REQUEST...: COUNT signed request frames for this boot and
 * session, the next numbers the monitor will take (boot id, last number and the last
 * hello's session nonce read with `status --json` over the serial console; they hold until the
 * next hello), written to DIR/frame1.bin ... as raw frames and not sent. For
 * tests that play a hostile relay (replay, reorder, alter): a relay sees such frames pass.
 */
#ifndef HVCTL_SIGN_H
#define HVCTL_SIGN_H

#include "request.h"

/* argv[0] is "sign-requests"; key_path the operator's key. Exit status. */
int hvctl_sign_requests(struct conn *c, struct reader *rd, const char *key_path, int argc,
			char **argv, double timeout_s);

#endif
