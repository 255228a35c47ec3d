/* hvctl --dump end to end: the real hvctl (sanitizer build) on a QEMU-style ELF dump of the
 * synthetic guest (tests/unit/vmi_fake.c) with an ISF profile written from its layout.
 * Output, errors and exit statuses as a live console reply would give them. */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "vmi/profile.h"
#include "vmi_fake.h"

#ifndef HVCTL_BIN
#define HVCTL_BIN "build/san/hvctl"
#endif

static char dir[] = "/tmp/hvctl-dump-test-XXXXXX";
static char elf_path[256], profile_path[256], other_profile[256], bad_profile[256], no_cr3_elf[256];
static char out[1 << 20], err[1 << 16];

/* ------------------------------------------------------------------ fixtures */

static void b64(const char *s, char *o)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s) + 1, i; /* the NUL too, as the kernel's constant_data has it */
	const uint8_t *u = (const uint8_t *)s;

	for (i = 0; i + 2 < n; i += 3) {
		*o++ = t[u[i] >> 2];
		*o++ = t[((u[i] & 3) << 4) | (u[i + 1] >> 4)];
		*o++ = t[((u[i + 1] & 15) << 2) | (u[i + 2] >> 6)];
		*o++ = t[u[i + 2] & 63];
	}
	if (n - i == 1) {
		*o++ = t[u[i] >> 2];
		*o++ = t[(u[i] & 3) << 4];
		*o++ = '=';
		*o++ = '=';
	} else if (n - i == 2) {
		*o++ = t[u[i] >> 2];
		*o++ = t[((u[i] & 3) << 4) | (u[i + 1] >> 4)];
		*o++ = t[(u[i + 1] & 15) << 2];
		*o++ = '=';
	}
	*o = '\0';
}

static uint32_t slot_value(const struct vmi_profile *p, uint16_t slot)
{
	uint32_t v;

	memcpy(&v, (const char *)p + slot, sizeof(v));
	return v;
}

/* An ISF document holding every value of profile_needs (the parser's own table). */
static void write_profile(const char *path, const struct vmi_profile *p, const char *release)
{
	FILE *f = fopen(path, "w");
	char banner[200], enc[300];
	bool first_type = true;

	assert_non_null(f);
	fprintf(f, "{\"metadata\":{\"format\":\"6.2.0\"},\"base_types\":{\"unsigned int\":"
		   "{\"size\":4,\"signed\":false,\"kind\":\"int\",\"endian\":\"little\"}},"
		   "\"user_types\":{");
	for (size_t i = 0; i < profile_needs_count; i++) {
		const char *type = profile_needs[i].type;
		bool seen = false, first_field = true;
		uint32_t size = 0x1000;

		for (size_t k = 0; k < i; k++)
			seen |= strcmp(profile_needs[k].type, type) == 0;
		if (seen)
			continue;
		for (size_t k = i; k < profile_needs_count; k++) {
			if (strcmp(profile_needs[k].type, type) == 0 &&
			    profile_needs[k].member == NULL)
				size = slot_value(p, profile_needs[k].slot);
		}
		fprintf(f, "%s\"%s\":{\"kind\":\"struct\",\"size\":%u,\"fields\":{",
			first_type ? "" : ",", type, size);
		first_type = false;
		for (size_t k = i; k < profile_needs_count; k++) {
			const struct profile_need *n = &profile_needs[k];
			uint32_t v;

			if (strcmp(n->type, type) != 0 || n->member == NULL ||
			    n->slot == PROFILE_NO_SLOT)
				continue;
			v = slot_value(p, n->slot);
			if (v == 0 && (n->flags & PROFILE_NEED_OPTIONAL))
				continue;
			fprintf(f,
				"%s\"%s\":{\"offset\":%u,\"type\":{\"kind\":\"base\",\"name\":"
				"\"unsigned int\"}}",
				first_field ? "" : ",", n->member, v);
			first_field = false;
		}
		fprintf(f, "}}");
	}
	snprintf(banner, sizeof(banner), "Linux version %s (test) #1 SMP\n", release);
	b64(banner, enc);
	fprintf(f,
		"},\"enums\":{},\"symbols\":{\"current_task\":{\"address\":%llu},"
		"\"linux_banner\":{\"address\":0,\"constant_data\":\"%s\"}}}\n",
		(unsigned long long)p->percpu_current_task, enc);
	fclose(f);
}

static void put_note(FILE *f, const char *name, uint32_t type, const void *desc, uint32_t n)
{
	Elf64_Nhdr nh = {.n_namesz = (uint32_t)strlen(name) + 1, .n_descsz = n, .n_type = type};
	static const char zero[4];

	fwrite(&nh, sizeof(nh), 1, f);
	fwrite(name, 1, nh.n_namesz, f);
	fwrite(zero, 1, (4 - nh.n_namesz % 4) % 4, f);
	fwrite(desc, 1, n, f);
	fwrite(zero, 1, (4 - n % 4) % 4, f);
}

static uint32_t notes_size(void)
{
	return (uint32_t)(2 * sizeof(Elf64_Nhdr) + 8 + 336 + 8 + 440);
}

/* QEMU's dump-guest-memory layout: PT_NOTE (PRSTATUS, QEMU CPU state), one PT_LOAD. */
static void write_elf(const char *path, const struct fake *f, const struct vmi_cpu *cpu)
{
	FILE *o = fopen(path, "wb");
	Elf64_Ehdr eh = {0};
	Elf64_Phdr ph[2] = {{0}};
	uint8_t prstatus[336] = {0}, qemu[440] = {0};
	uint64_t v64;
	uint32_t v32;
	uint64_t notes_off = sizeof(eh) + sizeof(ph);

	assert_non_null(o);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = 2;
	ph[0].p_type = PT_NOTE;
	ph[0].p_offset = notes_off;
	ph[0].p_filesz = ph[0].p_memsz = notes_size();
	ph[1].p_type = PT_LOAD;
	ph[1].p_offset = notes_off + notes_size();
	ph[1].p_paddr = 0;
	ph[1].p_filesz = ph[1].p_memsz = FAKE_RAM_SIZE;
	fwrite(&eh, sizeof(eh), 1, o);
	fwrite(ph, sizeof(ph), 1, o);

	v64 = 0x10; /* kernel CS */
	memcpy(prstatus + 112 + 17 * 8, &v64, 8);
	memcpy(prstatus + 112 + 22 * 8, &cpu->gs_base, 8);
	put_note(o, "CORE", NT_PRSTATUS, prstatus, sizeof(prstatus));
	v32 = 1;
	memcpy(qemu, &v32, 4);
	v32 = sizeof(qemu);
	memcpy(qemu + 4, &v32, 4);
	v32 = 0x10;
	memcpy(qemu + 152, &v32, 4);
	memcpy(qemu + 248 + 16, &cpu->gs_base, 8);
	memcpy(qemu + 392 + 24, &cpu->cr3, 8);
	memcpy(qemu + 392 + 32, &cpu->cr4, 8);
	memcpy(qemu + 432, &cpu->kernel_gs_base, 8);
	put_note(o, "QEMU", 0, qemu, sizeof(qemu));
	assert_int_equal(ftell(o), (long)(notes_off + notes_size()));
	fwrite(f->ram, 1, FAKE_RAM_SIZE, o);
	fclose(o);
}

static int setup(void **state)
{
	struct fake f;
	struct fake_world w;
	struct vmi_cpu no_cr3;
	FILE *bad;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(elf_path, sizeof(elf_path), "%s/guest.elf", dir);
	snprintf(no_cr3_elf, sizeof(no_cr3_elf), "%s/no-cr3.elf", dir);
	snprintf(profile_path, sizeof(profile_path), "%s/profile.json", dir);
	snprintf(other_profile, sizeof(other_profile), "%s/other.json", dir);
	snprintf(bad_profile, sizeof(bad_profile), "%s/bad.json", dir);
	fake_init(&f, false);
	fake_world(&f, &w);
	write_elf(elf_path, &f, &f.cpu);
	no_cr3 = f.cpu;
	no_cr3.cr3 = 0;
	write_elf(no_cr3_elf, &f, &no_cr3);
	write_profile(profile_path, &f.prof, FAKE_RELEASE);
	write_profile(other_profile, &f.prof, "6.1.0-other");
	bad = fopen(bad_profile, "w");
	assert_non_null(bad);
	fputs("{\"user_types\":{}}", bad);
	fclose(bad);
	fake_free(&f);
	return 0;
}

static int teardown(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------ running hvctl */

static size_t slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n;
}

/* hvctl ARGS... (NULL-terminated), stdin from `input` (NULL: /dev/null); exit status. */
static int hvctl(const char *input, ...)
{
	char out_path[300], err_path[300], in_path[300];
	const char *argv[32];
	int argc = 0, status;
	va_list ap;
	pid_t pid;

	snprintf(out_path, sizeof(out_path), "%s/stdout", dir);
	snprintf(err_path, sizeof(err_path), "%s/stderr", dir);
	snprintf(in_path, sizeof(in_path), "%s/stdin", dir);
	if (input != NULL) {
		FILE *f = fopen(in_path, "w");

		assert_non_null(f);
		fputs(input, f);
		fclose(f);
	}
	argv[argc++] = HVCTL_BIN;
	va_start(ap, input);
	for (const char *a; (a = va_arg(ap, const char *)) != NULL && argc < 31;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (freopen(input != NULL ? in_path : "/dev/null", "r", stdin) == NULL ||
		    freopen(out_path, "w", stdout) == NULL ||
		    freopen(err_path, "w", stderr) == NULL)
			_exit(127);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	slurp(out_path, out, sizeof(out));
	slurp(err_path, err, sizeof(err));
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* ------------------------------------------------------------------ tests */

static void test_ps_prints_the_body_without_cr(void **state)
{
	(void)state;
	assert_int_equal(hvctl(NULL, "--dump", elf_path, "--profile", profile_path, "ps", NULL), 0);
	assert_string_equal(err, "");
	assert_int_equal(strncmp(out, "    PID    PPID   UID S  THR", 28), 0);
	assert_non_null(strstr(out, " sh -c sleep 1000\n"));
	assert_non_null(strstr(out, "httpd -f\n"));
	assert_null(strchr(out, '\r'));
	assert_null(strstr(out, "= ok"));
}

static void test_containers_json(void **state)
{
	(void)state;
	assert_int_equal(hvctl(NULL, "--dump", elf_path, "--profile", profile_path, "containers",
			       "--json", NULL),
			 0);
	assert_int_equal(strncmp(out, "{\"containers\":[", 15), 0);
	assert_non_null(strstr(out, "{\"id\":\"web\",\"name\":\"web\",\"runtime\":\"cgroupfs\","
				    "\"state\":\"running\",\"init_pid\":100"));
	assert_non_null(strstr(out, "\"state\":\"paused\""));
	assert_non_null(strstr(out, "\"count\":5,\"truncated\":false,\"reason\":null}\n"));
}

static void test_errors_as_a_console_reply_gives_them(void **state)
{
	(void)state;
	assert_int_equal(hvctl(NULL, "--dump", elf_path, "--profile", profile_path, "inspect",
			       "nosuch", NULL),
			 1);
	assert_string_equal(out, "");
	assert_string_equal(err, "hvctl: error failed: no container or process matches 'nosuch'\n");
	assert_int_equal(hvctl(NULL, "--dump", elf_path, "--profile", profile_path, "status", NULL),
			 1);
	assert_string_equal(err, "hvctl: error unknown-verb: unknown verb \"status\"; \"help\" "
				 "lists the verbs\n");
	assert_int_equal(
		hvctl(NULL, "--dump", elf_path, "--profile", profile_path, "ps", "-x", NULL), 1);
	assert_non_null(strstr(err, "hvctl: error bad-argument: unexpected \"-x\""));
}

static void test_interactive_requests_from_stdin(void **state)
{
	(void)state;
	assert_int_equal(hvctl("help\n\ninspect 50\nquit\nps\n", "--dump", elf_path, "--profile",
			       profile_path, NULL),
			 0);
	assert_non_null(strstr(out, "inspect <id|name|pid> [--json]"));
	assert_non_null(strstr(
		out, "ps [--json|--compact] [--pid N] [--container NAME] [--fields a,b,c] - "));
	assert_non_null(strstr(out, "process:     50\n"));
	assert_null(strstr(out, "PPID")); /* nothing after quit */
}

static void test_local_problems_are_usage_errors(void **state)
{
	(void)state;
	assert_int_equal(hvctl(NULL, "--dump", elf_path, "ps", NULL), 2);
	assert_non_null(strstr(err, "--dump needs --profile"));
	assert_int_equal(hvctl(NULL, "--dump", elf_path, "--profile", profile_path, "--console",
			       "x", "ps", NULL),
			 2);
	assert_int_equal(hvctl(NULL, "--profile", profile_path, "--console", "x", "ps", NULL), 2);
	assert_int_equal(
		hvctl(NULL, "--dump", "/nonexistent.elf", "--profile", profile_path, "ps", NULL),
		2);
	assert_non_null(strstr(err, "cannot open /nonexistent.elf"));
	assert_int_equal(hvctl(NULL, "--dump", profile_path, "--profile", profile_path, "ps", NULL),
			 2);
	assert_non_null(strstr(err, "not an ELF file"));
	assert_int_equal(hvctl(NULL, "--dump", elf_path, "--profile", bad_profile, "ps", NULL), 2);
	assert_non_null(strstr(err, "hvctl: profile "));
}

static void test_a_profile_for_another_kernel_is_refused(void **state)
{
	(void)state;
	assert_int_equal(hvctl(NULL, "--dump", elf_path, "--profile", other_profile, "ps", NULL),
			 1);
	assert_non_null(strstr(err, "hvctl: error failed: the profile is for kernel 6.1.0-other "
				    "but the guest runs " FAKE_RELEASE));
}

static void test_a_dump_without_cr3_fails_each_verb(void **state)
{
	(void)state;
	assert_int_equal(
		hvctl(NULL, "--dump", no_cr3_elf, "--profile", profile_path, "containers", NULL),
		1);
	assert_non_null(strstr(err, "hvctl: error failed: introspection failed: CR3 is 0"));
	/* help still works: it needs no guest */
	assert_int_equal(hvctl(NULL, "--dump", no_cr3_elf, "--profile", profile_path, "help", NULL),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ps_prints_the_body_without_cr),
		cmocka_unit_test(test_containers_json),
		cmocka_unit_test(test_errors_as_a_console_reply_gives_them),
		cmocka_unit_test(test_interactive_requests_from_stdin),
		cmocka_unit_test(test_local_problems_are_usage_errors),
		cmocka_unit_test(test_a_profile_for_another_kernel_is_refused),
		cmocka_unit_test(test_a_dump_without_cr3_fails_each_verb),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
