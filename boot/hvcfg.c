/* SPDX-License-Identifier: MIT */
#include "boot/hvcfg.h"

#include <stdarg.h>

#include "lib/ctype.h"
#include "lib/hex.h"
#include "lib/fmt.h"

#define DEFAULT_CORE             "\\hv\\hv.elf"
#define DEFAULT_BAUD             115200u
#define DEFAULT_MEMORY_MB        48u
#define MEMORY_MB_MIN            4u
#define MEMORY_MB_MAX            1024u
#define DEFAULT_INTEGRITY_PERIOD 5u
#define INTEGRITY_PERIOD_MAX     3600u

enum key_id {
	KEY_CORE,
	KEY_KERNEL,
	KEY_INITRD,
	KEY_CMDLINE,
	KEY_CONSOLE,
	KEY_BAUD,
	KEY_MEMORY_MB,
	KEY_ALLOW_UNPROTECTED,
	KEY_PROFILE,
	KEY_PROTECT,
	KEY_ALLOW_TRACING,
	KEY_INTEGRITY_PERIOD,
	KEY_HELPER,
	KEY_OPERATOR_KEY,
	KEY_COUNT
};

static const char *const key_names[KEY_COUNT] = {
	"core",    "kernel",       "initrd",        "cmdline",
	"console", "baud",         "memory_mb",     "allow_unprotected",
	"profile", "protect",      "allow_tracing", "integrity_period",
	"helper",  "operator_key",
};

static int fail(struct hvcfg_error *err, unsigned int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err->line = line;
	fmt_vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool same(const char *a, size_t alen, const char *b)
{
	size_t i = 0;
	for (; i < alen; i++) {
		if (b[i] == 0 || a[i] != b[i])
			return false;
	}
	return b[i] == 0;
}

/* The index of the value among `count` names, or -1. */
static int choice(const char *v, size_t n, const char *const *names, int count)
{
	for (int i = 0; i < count; i++)
		if (same(v, n, names[i]))
			return i;
	return -1;
}

static int copy_value(char *dst, size_t cap, const char *v, size_t n)
{
	if (n + 1 > cap)
		return -1;
	for (size_t i = 0; i < n; i++)
		dst[i] = v[i];
	dst[n] = 0;
	return 0;
}

/* Unsigned number, decimal or 0x-hex, no sign, no overflow. */
static bool parse_uint(const char *v, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t x = 0;
	unsigned int base = 10;
	size_t i = 0;
	if (n > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == n)
		return false;
	for (; i < n; i++) {
		int d = hex_digit_value(v[i]);
		if (d < 0 || (unsigned int)d >= base)
			return false;
		if (x > (max - d) / base)
			return false;
		x = x * base + d;
	}
	*out = x;
	return true;
}

static int parse_path(char *dst, const char *v, size_t n, unsigned int line, const char *key,
		      struct hvcfg_error *err)
{
	if (n == 0 || v[0] != '\\')
		return fail(err, line,
			    "%s: a path on the boot volume must start with '\\' "
			    "(like \\boot\\vmlinuz)",
			    key);
	for (size_t i = 0; i < n; i++) {
		if (v[i] < 0x21 || v[i] > 0x7e || v[i] == '/')
			return fail(err, line,
				    "%s: paths use '\\' and printable characters, no "
				    "spaces",
				    key);
	}
	if (copy_value(dst, HVCFG_PATH_MAX, v, n) < 0)
		return fail(err, line, "%s: path longer than %u characters", key,
			    HVCFG_PATH_MAX - 1);
	return 0;
}

static int parse_console(struct hv_config *cfg, const char *v, size_t n, unsigned int line,
			 struct hvcfg_error *err)
{
	static const struct {
		const char *name;
		uint16_t port;
	} coms[] = {{"COM1", 0x3f8}, {"COM2", 0x2f8}, {"COM3", 0x3e8}, {"COM4", 0x2e8}};
	for (unsigned int i = 0; i < 4; i++) {
		if (same(v, n, coms[i].name)) {
			cfg->console_port = coms[i].port;
			return 0;
		}
	}
	uint64_t port;
	/* A 16550 occupies 8 ports; the whole block must fit below 0x10000. */
	if (!parse_uint(v, n, 0xFFF8, &port) || port == 0 || (port & 7))
		return fail(err, line,
			    "console: expected the UART's I/O port (like 0x2f8, "
			    "8-aligned) or COM1-COM4");
	cfg->console_port = (uint16_t)port;
	return 0;
}

static int parse_bool(bool *out, const char *v, size_t n, unsigned int line, const char *name,
		      struct hvcfg_error *err)
{
	if (same(v, n, "yes") || same(v, n, "true") || same(v, n, "1"))
		*out = true;
	else if (same(v, n, "no") || same(v, n, "false") || same(v, n, "0"))
		*out = false;
	else
		return fail(err, line, "%s: expected yes or no", name);
	return 0;
}

/* 130 hex digits: an uncompressed P-256 point (SEC 1 §2.3.3), as `hvctl keygen` writes it.
 * Whether it is on the curve the core's first signature check tells. */
static int parse_operator_key(struct hv_config *cfg, const char *v, size_t n, unsigned int line,
			      struct hvcfg_error *err)
{
	if (n != 2 * HVCFG_OPERATOR_KEY_LEN)
		return fail(err, line,
			    "operator_key: expected %u hex digits (hvctl keygen makes it)",
			    2 * HVCFG_OPERATOR_KEY_LEN);
	size_t bad_at;
	if (hex_decode(v, n, cfg->operator_key, HVCFG_OPERATOR_KEY_LEN, &bad_at) != 0)
		return fail(err, line, "operator_key: not a hex digit at %u", (unsigned)bad_at);
	if (cfg->operator_key[0] != 0x04)
		return fail(err, line,
			    "operator_key: not an uncompressed point (it must begin with 04)");
	cfg->operator_key_set = true;
	return 0;
}

static int parse_value(struct hv_config *cfg, enum key_id key, const char *v, size_t n,
		       unsigned int line, struct hvcfg_error *err)
{
	uint64_t x;
	switch (key) {
	case KEY_CORE:
		return parse_path(cfg->core, v, n, line, "core", err);
	case KEY_KERNEL:
		return parse_path(cfg->kernel, v, n, line, "kernel", err);
	case KEY_INITRD:
		return parse_path(cfg->initrd, v, n, line, "initrd", err);
	case KEY_PROFILE:
		return parse_path(cfg->profile, v, n, line, "profile", err);
	case KEY_CMDLINE:
		for (size_t i = 0; i < n; i++) {
			if (v[i] < 0x20 || v[i] > 0x7e)
				return fail(err, line, "cmdline: only printable ASCII is allowed");
		}
		if (copy_value(cfg->cmdline, sizeof(cfg->cmdline), v, n) < 0)
			return fail(err, line, "cmdline: longer than %u characters",
				    HVCFG_CMDLINE_MAX - 1);
		return 0;
	case KEY_CONSOLE:
		return parse_console(cfg, v, n, line, err);
	case KEY_BAUD:
		if (!parse_uint(v, n, 115200, &x) || x < 50 || 115200 % x != 0)
			return fail(err, line,
				    "baud: expected a rate that divides 115200 (like "
				    "115200, 57600, 38400, 9600)");
		cfg->baud = (uint32_t)x;
		return 0;
	case KEY_MEMORY_MB:
		if (!parse_uint(v, n, MEMORY_MB_MAX, &x) || x < MEMORY_MB_MIN)
			return fail(err, line, "memory_mb: expected %u to %u", MEMORY_MB_MIN,
				    MEMORY_MB_MAX);
		cfg->memory_mb = (uint32_t)x;
		return 0;
	case KEY_ALLOW_UNPROTECTED:
		return parse_bool(&cfg->allow_unprotected, v, n, line, "allow_unprotected", err);
	case KEY_ALLOW_TRACING:
		return parse_bool(&cfg->allow_tracing, v, n, line, "allow_tracing", err);
	case KEY_PROTECT: {
		static const char *const modes[] = {[HVCFG_PROTECT_ENFORCE] = "enforce",
						    [HVCFG_PROTECT_DETECT] = "detect",
						    [HVCFG_PROTECT_OFF] = "off"};
		int m = choice(v, n, modes, 3);
		if (m < 0)
			return fail(err, line, "protect: expected enforce, detect or off");
		cfg->protect = (uint8_t)m;
		return 0;
	}
	case KEY_INTEGRITY_PERIOD:
		if (!parse_uint(v, n, INTEGRITY_PERIOD_MAX, &x))
			return fail(err, line, "integrity_period: expected 0 to %u seconds",
				    INTEGRITY_PERIOD_MAX);
		cfg->integrity_period_s = (uint32_t)x;
		return 0;
	case KEY_HELPER: {
		static const char *const modes[] = {"auto", "manual"};
		int m = choice(v, n, modes, 2);
		if (m < 0)
			return fail(err, line, "helper: expected auto or manual");
		cfg->helper_manual = m == 1;
		return 0;
	}
	case KEY_OPERATOR_KEY:
		return parse_operator_key(cfg, v, n, line, err);
	default:
		return fail(err, line, "internal: unknown key id");
	}
}

int hvcfg_parse(const char *text, size_t len, struct hv_config *cfg, struct hvcfg_error *err)
{
	bool seen[KEY_COUNT] = {false};
	*cfg = (struct hv_config){.baud = DEFAULT_BAUD,
				  .memory_mb = DEFAULT_MEMORY_MB,
				  .protect = HVCFG_PROTECT_ENFORCE,
				  .integrity_period_s = DEFAULT_INTEGRITY_PERIOD};
	copy_value(cfg->core, sizeof(cfg->core), DEFAULT_CORE, sizeof(DEFAULT_CORE) - 1);
	err->line = 0;
	err->message[0] = 0;

	if (len > HVCFG_FILE_MAX)
		return fail(err, 0, "the file is larger than %u bytes", HVCFG_FILE_MAX);
	size_t pos = 0;
	/* UTF-8 byte-order mark, as some editors write it */
	if (len >= 3 && (uint8_t)text[0] == 0xEF && (uint8_t)text[1] == 0xBB &&
	    (uint8_t)text[2] == 0xBF)
		pos = 3;
	for (unsigned int line = 1; pos < len; line++) {
		size_t start = pos, end = pos;
		while (end < len && text[end] != '\n')
			end++;
		pos = end + 1;
		if (end - start > HVCFG_LINE_MAX)
			return fail(err, line, "line longer than %u characters", HVCFG_LINE_MAX);
		while (start < end && is_space(text[start]))
			start++;
		while (end > start && is_space(text[end - 1]))
			end--;
		if (start == end || text[start] == '#')
			continue;
		for (size_t i = start; i < end; i++) {
			if (text[i] == 0 || ((uint8_t)text[i] < 0x20 && text[i] != '\t') ||
			    (uint8_t)text[i] > 0x7e)
				return fail(err, line,
					    "non-text byte 0x%02x (the file must be "
					    "plain ASCII)",
					    (uint8_t)text[i]);
		}
		size_t eq = start;
		while (eq < end && text[eq] != '=')
			eq++;
		if (eq == end)
			return fail(err, line, "expected `key = value`");
		size_t kend = eq;
		while (kend > start && is_space(text[kend - 1]))
			kend--;
		size_t vstart = eq + 1;
		while (vstart < end && is_space(text[vstart]))
			vstart++;
		enum key_id key = KEY_COUNT;
		for (unsigned int k = 0; k < KEY_COUNT; k++) {
			if (same(text + start, kend - start, key_names[k]))
				key = (enum key_id)k;
		}
		if (key == KEY_COUNT)
			return fail(err, line,
				    "unknown key '%.*s' (known: core, kernel, initrd, "
				    "cmdline, console, baud, memory_mb, "
				    "allow_unprotected, profile, protect, allow_tracing, "
				    "integrity_period, helper, operator_key)",
				    (int)(kend - start > 40 ? 40 : kend - start), text + start);
		if (seen[key])
			return fail(err, line, "'%s' is set twice", key_names[key]);
		seen[key] = true;
		if (parse_value(cfg, key, text + vstart, end - vstart, line, err) < 0)
			return -1;
	}
	if (!seen[KEY_KERNEL])
		return fail(err, 0, "no `kernel = \\path` line: which kernel should be booted?");
	if (!seen[KEY_CONSOLE])
		return fail(err, 0,
			    "no `console = PORT` line: the monitor needs its own serial "
			    "console (like console = 0x2f8)");
	return 0;
}
