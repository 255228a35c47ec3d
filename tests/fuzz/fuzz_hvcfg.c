/* libFuzzer: \hv\hv.cfg contents. Accepted files satisfy the parser's promises. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "boot/hvcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hv_config cfg;
	struct hvcfg_error err;
	if (hvcfg_parse((const char *)data, size, &cfg, &err) == 0) {
		assert(cfg.kernel[0] == '\\');
		assert(cfg.core[0] == '\\');
		assert(cfg.initrd[0] == 0 || cfg.initrd[0] == '\\');
		assert(cfg.console_port != 0 && (cfg.console_port & 7) == 0);
		assert(cfg.baud >= 50 && 115200 % cfg.baud == 0);
		assert(memchr(cfg.cmdline, 0, sizeof(cfg.cmdline)) != NULL);
	} else {
		assert(memchr(err.message, 0, sizeof(err.message)) != NULL);
		assert(err.message[0] != 0);
	}
	return 0;
}
