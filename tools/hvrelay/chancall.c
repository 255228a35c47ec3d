/* SPDX-License-Identifier: MIT */
/* The channel's two calls and the names of their answers (hvcall.h): apart from hvcall.c,
 * so that a host test can put a monitor of its own behind hvcall(). */
#include "tools/hvrelay/hvcall.h"

#include "chan/frame.h"
#include "chan/vmcall.h"

int64_t hvcall_chan(unsigned function, uint64_t buf, uint64_t len)
{
	struct hvcall_regs r = {.rax = CHAN_VMCALL_MAGIC | function, .rbx = buf, .rcx = len};

	return hvcall(&r) ? (int64_t)r.rax : HVCALL_UD;
}

const char *hvcall_result_name(int64_t rax)
{
	if (rax == HVCALL_UD)
		return "ud";
	if (rax > 0)
		return "frame";
	if (rax == 0)
		return chan_reason_name(CHAN_OK); /* "taken" */
	/* -(BASE + reason), reason below 256 (vmcall.h) */
	if (rax <= -(int64_t)CHAN_VMCALL_ERR_BASE && rax > -(int64_t)(CHAN_VMCALL_ERR_BASE + 0x100))
		return chan_reason_name((unsigned)(-rax - CHAN_VMCALL_ERR_BASE));
	return "?";
}
