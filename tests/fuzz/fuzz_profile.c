/* libFuzzer: kernel profile JSON (guest-profiles/, dwarf2json ISF). Accepted profiles
 * satisfy the parser's promises; refusals always explain themselves. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vmi/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmi_profile p;
	struct profile_error err;
	if (profile_parse((const char *)data, size, &p, &err) == 0) {
		assert(memchr(p.release, 0, sizeof(p.release)) != NULL);
		assert(p.task_state_size == 4 || p.task_state_size == 8);
		assert((uint64_t)p.task_comm + 16 <= p.task_struct_size);
		assert((uint64_t)p.upid_nr + 4 <= p.upid_size);
	} else {
		assert(memchr(err.message, 0, sizeof(err.message)) != NULL);
		assert(err.message[0] != 0);
	}
	return 0;
}
