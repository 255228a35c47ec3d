/* hv/vmi/profile.c: a kernel profile is accepted when it holds every member introspection
 * needs, whether mkprofile or dwarf2json wrote it, and refused by name otherwise; malformed
 * JSON is refused with a byte offset, never read out of bounds.
 *
 * Run from the repository root (make unit does): it reads the lab kernel's profile
 * guest-profiles/6.1.0-56-amd64.json and the dwarf2json-shaped fixture beside this file. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vmi/profile.h"

#define LAB_PROFILE "guest-profiles/6.1.0-56-amd64.json"
#define D2J_FIXTURE "tests/unit/test_profile_dwarf2json.json"
#define LAB_RELEASE "6.1.0-56-amd64"

struct text {
	char *s;
	size_t len;
};

static struct text read_text(const char *path)
{
	struct text t = {0};
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s (run from the repository root)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	/* exactly len bytes, no NUL after them: ASan sees any read past the end */
	t.s = malloc((size_t)n);
	assert_non_null(t.s);
	assert_int_equal(fread(t.s, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	t.len = (size_t)n;
	return t;
}

/* A heap copy of exactly strlen(s) bytes (no NUL), for parsing. */
static struct text from_string(const char *s)
{
	struct text t = {.len = strlen(s)};
	t.s = malloc(t.len ? t.len : 1);
	assert_non_null(t.s);
	memcpy(t.s, s, t.len);
	return t;
}

/* A NUL-terminated copy, for editing with string functions. */
static char *as_string(struct text t)
{
	char *s = malloc(t.len + 1);
	assert_non_null(s);
	memcpy(s, t.s, t.len);
	s[t.len] = '\0';
	return s;
}

/* Replaces the first `old` at or after `from` (or anywhere when from is NULL) with `new`. */
static char *replace_after(const char *s, const char *from, const char *old, const char *new)
{
	const char *start = from ? strstr(s, from) : s;
	if (start == NULL)
		fail_msg("no \"%s\" in the profile", from);
	const char *at = strstr(start, old);
	if (at == NULL)
		fail_msg("no \"%s\" after \"%s\" in the profile", old, from ? from : "");
	size_t head = (size_t)(at - s), ol = strlen(old), nl = strlen(new), tail = strlen(at + ol);
	char *r = malloc(head + nl + tail + 1);
	assert_non_null(r);
	memcpy(r, s, head);
	memcpy(r + head, new, nl);
	memcpy(r + head + nl, at + ol, tail + 1);
	return r;
}

static int parse_string(const char *s, struct vmi_profile *p, struct profile_error *err)
{
	struct text t = from_string(s);
	int rc = profile_parse(t.s, t.len, p, err);
	free(t.s);
	return rc;
}

static char *lab_profile(void)
{
	struct text t = read_text(LAB_PROFILE);
	char *s = as_string(t);
	free(t.s);
	return s;
}

/* The lab profile with `"<name>":` inserted into the metadata object as `"x": <value>`. */
static char *lab_with_metadata_value(const char *value)
{
	char *lab = lab_profile();
	size_t n = strlen(value) + 64;
	char *ins = malloc(n);
	assert_non_null(ins);
	snprintf(ins, n, "\"format\": \"6.2.0\", \"x\": %s,", value);
	char *r = replace_after(lab, NULL, "\"format\": \"6.2.0\",", ins);
	free(ins);
	free(lab);
	return r;
}

static void expect_refused(const char *s, const char *needle)
{
	struct vmi_profile p;
	struct profile_error err;
	int rc = parse_string(s, &p, &err);
	if (rc == 0 || strstr(err.message, needle) == NULL)
		fail_msg("expected a refusal naming \"%s\", got rc %d: \"%s\"", needle, rc,
			 err.message);
	assert_true(strlen(err.message) < PROFILE_ERR_MAX);
}

static void expect_accepted(const char *s, struct vmi_profile *p)
{
	struct profile_error err;
	int rc = parse_string(s, p, &err);
	if (rc != 0)
		fail_msg("refused: %s", err.message);
}

/* ------------------------------------------------------------------ the lab profile */

static void test_lab_profile_is_complete(void **state)
{
	(void)state;
	struct text t = read_text(LAB_PROFILE);
	struct vmi_profile p;
	struct profile_error err;
	int rc = profile_parse(t.s, t.len, &p, &err);
	if (rc != 0)
		fail_msg("%s refused: %s", LAB_PROFILE, err.message);
	assert_string_equal(p.release, LAB_RELEASE);
	free(t.s);
}

/* Values read with bpftool (`bpftool btf dump file vmlinux`: bits_offset / 8, members of
 * unnamed structs added up by hand), not with mkprofile's libbpf code: an independent
 * check of the generated profile. */
static void test_lab_profile_offsets_match_bpftool(void **state)
{
	(void)state;
	char *s = lab_profile();
	struct vmi_profile p;
	expect_accepted(s, &p);
	/* DATASEC .data..percpu, VAR current_task */
	assert_int_equal(p.percpu_current_task, 129920);
	assert_int_equal(p.task_struct_size, 9792);
	assert_int_equal(p.task_tasks, 2192);
	assert_int_equal(p.task_pid, 2416);
	assert_int_equal(p.task_tgid, 2420);
	assert_int_equal(p.task_comm, 2976);
	assert_int_equal(p.task_real_parent, 2432);
	assert_int_equal(p.task_mm, 2272);
	assert_int_equal(p.task_state, 24);
	assert_int_equal(p.task_state_size, 4);
	assert_int_equal(p.task_start_boottime, 2784);
	assert_int_equal(p.mm_pgd, 72); /* inside mm_struct's unnamed struct */
	assert_int_equal(p.mm_arg_start, 312);
	assert_int_equal(p.cred_uid, 8);
	assert_int_equal(p.uts_namespace_ns, 408);
	assert_int_equal(p.ns_common_inum, 16);
	assert_int_equal(p.new_utsname_nodename, 65);
	assert_int_equal(p.pid_numbers, 96);
	assert_int_equal(p.upid_size, 16);
	assert_int_equal(p.cgroup_kn, 248);
	assert_int_equal(p.kernfs_node_parent, 8);
	free(s);
}

/* ------------------------------------------------------------------ missing members */

/* Each member (and size) of profile_needs, renamed away in a copy of the lab profile,
 * makes the profile refused with a message that names it. */
static void test_each_missing_member_is_refused_by_name(void **state)
{
	(void)state;
	char *lab = lab_profile();
	for (size_t i = 0; i < profile_needs_count; i++) {
		const struct profile_need *n = &profile_needs[i];
		if (n->flags & (PROFILE_NEED_PCPU_HOT | PROFILE_NEED_OPTIONAL))
			continue;
		char block[96], key[96], renamed[96], name[96];
		snprintf(block, sizeof(block), "\n    \"%s\": {", n->type);
		if (n->member) {
			snprintf(key, sizeof(key), "\"%s\": {", n->member);
			snprintf(renamed, sizeof(renamed), "\"X%s\": {", n->member + 1);
			snprintf(name, sizeof(name), "%s.%s", n->type, n->member);
		} else {
			snprintf(key, sizeof(key), "\"size\":");
			snprintf(renamed, sizeof(renamed), "\"Xize\":");
			snprintf(name, sizeof(name), "%s (size)", n->type);
		}
		char *s = replace_after(lab, block, key, renamed);
		expect_refused(s, name);
		free(s);
	}
	free(lab);
}

static void test_several_missing_members_are_all_named(void **state)
{
	(void)state;
	char *lab = lab_profile();
	char *a = replace_after(lab, "\n    \"task_struct\": {", "\"tgid\": {", "\"Xgid\": {");
	char *b = replace_after(a, "\n    \"mm_struct\": {", "\"pgd\": {", "\"Xgd\": {");
	char *c = replace_after(b, "\n    \"kernfs_node\": {", "\"parent\": {", "\"Xarent\": {");
	expect_refused(c, "task_struct.tgid");
	expect_refused(c, "mm_struct.pgd");
	expect_refused(c, "kernfs_node.parent");
	free(a);
	free(b);
	free(c);
	free(lab);
}

static void test_many_missing_members_fit_the_message_with_a_count(void **state)
{
	(void)state;
	char *lab = lab_profile();
	char *s = replace_after(lab, NULL, "\"user_types\":", "\"no_types\":");
	expect_refused(s, "profile lacks task_struct (size), task_struct.tasks");
	expect_refused(s, "more)");
	free(s);
	free(lab);
}

static void test_missing_current_task_symbol_is_refused_by_name(void **state)
{
	(void)state;
	char *lab = lab_profile();
	char *s = replace_after(lab, "\"symbols\":", "\"current_task\":", "\"current_tusk\":");
	expect_refused(s, "current_task");
	free(s);
	free(lab);
}

/* bpftool values again, for the members profile.h marks "0 means not in this profile" */
static void test_optional_members_are_read_when_present(void **state)
{
	(void)state;
	char *s = lab_profile();
	struct vmi_profile p;
	expect_accepted(s, &p);
	assert_int_equal(p.task_exit_state, 2308);
	assert_int_equal(p.cred_user_ns, 136);
	assert_int_equal(p.user_namespace_ns, 240);
	assert_int_equal(p.nsproxy_time_ns, 48);
	assert_int_equal(p.nsproxy_time_ns_for_children, 56);
	assert_int_equal(p.time_namespace_ns, 16);
	assert_int_equal(p.task_worker_private, 2648);
	assert_int_equal(p.kthread_data, 24);
	assert_int_equal(p.kthread_full_name, 104);
	assert_int_equal(p.worker_current_work, 16);
	assert_int_equal(p.worker_pool, 72);
	assert_int_equal(p.worker_desc, 116);
	free(s);
}

static void test_optional_members_absent_are_zero_not_refused(void **state)
{
	(void)state;
	char *lab = lab_profile();
	char *a = replace_after(lab, "\n    \"task_struct\": {",
				"\"exit_state\":", "\"Xxit_state\":");
	char *b = replace_after(a, NULL, "\n    \"kthread\": {", "\n    \"Xthread\": {");
	char *c = replace_after(b, NULL, "\n    \"time_namespace\": {",
				"\n    \"Xime_namespace\": {");
	struct vmi_profile p;
	expect_accepted(c, &p);
	assert_int_equal(p.task_exit_state, 0);
	assert_int_equal(p.kthread_data, 0);
	assert_int_equal(p.kthread_full_name, 0);
	assert_int_equal(p.time_namespace_ns, 0);
	assert_int_equal(p.worker_desc, 116); /* the others stay */
	free(a);
	free(b);
	free(c);
	free(lab);
}

/* ------------------------------------------------------------------ other kernels */

/* >= 6.2: no current_task symbol; the pointer is pcpu_hot.current_task */
static void test_pcpu_hot_gives_the_current_task_offset(void **state)
{
	(void)state;
	char *lab = lab_profile();
	char *a = replace_after(lab, "\"symbols\":", "\"current_task\": {\"address\": 129920",
				"\"pcpu_hot\": {\"address\": 131072");
	char *b = replace_after(
		a, NULL, "\"user_types\": {",
		"\"user_types\": {\n    \"pcpu_hot\": {\"kind\": \"struct\", \"size\": 64, "
		"\"fields\": {\"current_task\": {\"offset\": 8, \"type\": {\"kind\": "
		"\"pointer\", \"subtype\": {\"kind\": \"struct\", \"name\": "
		"\"task_struct\"}}}}},");
	struct vmi_profile p;
	expect_accepted(b, &p);
	assert_int_equal(p.percpu_current_task, 131072 + 8);
	free(a);
	free(b);
	free(lab);
}

static void test_pcpu_hot_without_its_struct_is_refused_by_name(void **state)
{
	(void)state;
	char *lab = lab_profile();
	char *s = replace_after(lab, "\"symbols\":", "\"current_task\": {\"address\": 129920",
				"\"pcpu_hot\": {\"address\": 131072");
	expect_refused(s, "pcpu_hot.current_task");
	free(s);
	free(lab);
}

/* before 5.14: long state; before 5.5: real_start_time */
static void test_old_long_state_has_size_8(void **state)
{
	(void)state;
	char *lab = lab_profile();
	char *a = replace_after(
		lab, NULL,
		"\"__state\": {\"offset\": 24, \"type\": {\"kind\": \"base\", "
		"\"name\": \"unsigned int\"}}",
		"\"state\": {\"offset\": 24, \"type\": {\"kind\": \"base\", \"name\": "
		"\"long int\"}}");
	char *b = replace_after(a, NULL, "\"start_boottime\":", "\"real_start_time\":");
	struct vmi_profile p;
	expect_accepted(b, &p);
	assert_int_equal(p.task_state, 24);
	assert_int_equal(p.task_state_size, 8);
	assert_int_equal(p.task_start_boottime, 2784);
	free(a);
	free(b);
	free(lab);
}

static void test_state_of_unknown_size_is_refused_by_name(void **state)
{
	(void)state;
	char *lab = lab_profile();
	char *s = replace_after(lab, "\"__state\":", "\"name\": \"unsigned int\"",
				"\"name\": \"mystery_t\"");
	expect_refused(s, "task_struct.__state");
	free(s);
	free(lab);
}

static void test_kernfs_parent_renamed_in_6_15_is_accepted(void **state)
{
	(void)state;
	char *lab = lab_profile();
	char *s = replace_after(lab, "\n    \"kernfs_node\": {", "\"parent\":", "\"__parent\":");
	struct vmi_profile p;
	expect_accepted(s, &p);
	assert_int_equal(p.kernfs_node_parent, 8);
	free(s);
	free(lab);
}

/* ------------------------------------------------------------------ dwarf2json */

/* The fixture describes the same kernel as dwarf2json would (types sorted, "type" before
 * "offset", unnamed members kept nested as unnamed_<hash> types, many other types and
 * symbols, 64-bit addresses, negative enum constants): it must give the same profile. */
static void test_dwarf2json_profile_gives_the_same_values(void **state)
{
	(void)state;
	struct text d = read_text(D2J_FIXTURE);
	struct text l = read_text(LAB_PROFILE);
	struct vmi_profile pd, pl;
	struct profile_error err;
	if (profile_parse(d.s, d.len, &pd, &err) != 0)
		fail_msg("dwarf2json fixture refused: %s", err.message);
	assert_int_equal(profile_parse(l.s, l.len, &pl, &err), 0);
	assert_string_equal(pd.release, LAB_RELEASE);
	/* dwarf2json writes the symbols of the kernel's symbol table too (_text among them) */
	assert_int_equal(pd.ksym[KSYM_TEXT], 0xffffffff81000000ull);
	assert_int_equal(pd.symbols, 5);
	memset(pd.ksym, 0, sizeof(pd.ksym));
	pd.symbols = pl.symbols;
	assert_memory_equal(&pd, &pl, sizeof(pd));
	free(d.s);
	free(l.s);
}

/* In the fixture mm_struct.arg_start sits in an unnamed union inside mm_struct's unnamed
 * struct, and the union's type comes before the struct's in the file. */
static void test_members_of_nested_unnamed_types_are_found_in_any_order(void **state)
{
	(void)state;
	struct text d = read_text(D2J_FIXTURE);
	struct vmi_profile p;
	struct profile_error err;
	assert_int_equal(profile_parse(d.s, d.len, &p, &err), 0);
	assert_int_equal(p.mm_pgd, 72);
	assert_int_equal(p.mm_arg_start, 312);
	assert_int_equal(p.mm_arg_end, 320);
	free(d.s);
}

static void test_dwarf2json_missing_unnamed_type_is_refused_by_name(void **state)
{
	(void)state;
	struct text d = read_text(D2J_FIXTURE);
	char *s = as_string(d);
	char *r = replace_after(s, NULL, "\"unnamed_2b8e4d6f0a1c3e59\": {", "\"unnamed_gone\": {");
	expect_refused(r, "mm_struct.arg_start");
	free(r);
	free(s);
	free(d.s);
}

/* ------------------------------------------------------------------ release */

static void test_profile_without_banner_has_an_empty_release(void **state)
{
	(void)state;
	char *lab = lab_profile();
	char *s = replace_after(lab, NULL, "\"linux_banner\":", "\"other_banner\":");
	struct vmi_profile p;
	expect_accepted(s, &p);
	assert_string_equal(p.release, "");
	free(s);
	free(lab);
}

static void test_release_alone_in_the_banner_is_read(void **state)
{
	(void)state;
	char *lab = lab_profile();
	/* base64("Linux version 6.1.0-56-amd64") */
	char *s = replace_after(
		lab, "\"linux_banner\":", "\"constant_data\": \"",
		"\"constant_data\": \"TGludXggdmVyc2lvbiA2LjEuMC01Ni1hbWQ2NA==\", \"x\": \"");
	struct vmi_profile p;
	expect_accepted(s, &p);
	assert_string_equal(p.release, LAB_RELEASE);
	free(s);
	free(lab);
}

/* ------------------------------------------------------------------ bad values */

static void test_negative_offset_is_refused_by_name(void **state)
{
	(void)state;
	char *lab = lab_profile();
	char *s = replace_after(lab, NULL, "\"pid\": {\"offset\": 2416",
				"\"pid\": {\"offset\": -2416");
	expect_refused(s, "task_struct.pid offset is not an unsigned integer");
	free(s);
	free(lab);
}

static void test_fractional_or_huge_offset_is_refused_by_name(void **state)
{
	(void)state;
	char *lab = lab_profile();
	char *a = replace_after(lab, NULL, "\"pid\": {\"offset\": 2416",
				"\"pid\": {\"offset\": 2416.0");
	expect_refused(a, "task_struct.pid");
	char *b = replace_after(lab, NULL, "\"pid\": {\"offset\": 2416",
				"\"pid\": {\"offset\": 99999999999999999999999");
	expect_refused(b, "task_struct.pid");
	char *c = replace_after(lab, NULL, "\"pid\": {\"offset\": 2416",
				"\"pid\": {\"offset\": 4294967296");
	expect_refused(c, "task_struct.pid is too large");
	free(a);
	free(b);
	free(c);
	free(lab);
}

static void test_member_outside_its_struct_is_refused(void **state)
{
	(void)state;
	char *lab = lab_profile();
	char *s = replace_after(lab, NULL, "\"comm\": {\"offset\": 2976",
				"\"comm\": {\"offset\": 9780");
	expect_refused(s, "task_struct.comm at offset 9780 lies outside task_struct");
	free(s);
	free(lab);
}

static void test_escaped_member_name_is_recognised(void **state)
{
	(void)state;
	char *lab = lab_profile();
	char *s = replace_after(lab, NULL, "\"tasks\": {", "\"\\u0074asks\": {");
	struct vmi_profile p;
	expect_accepted(s, &p);
	assert_int_equal(p.task_tasks, 2192);
	free(s);
	free(lab);
}

/* ------------------------------------------------------------------ malformed JSON */

static void test_every_truncation_is_refused_without_overread(void **state)
{
	(void)state;
	struct text t = read_text(LAB_PROFILE);
	size_t end = t.len;
	while (end > 0 && t.s[end - 1] != '}')
		end--; /* the last '}' closes the document: every shorter prefix is cut */
	for (size_t n = 0; n < end; n++) {
		char *cut = malloc(n ? n : 1);
		assert_non_null(cut);
		memcpy(cut, t.s, n);
		struct vmi_profile p;
		struct profile_error err;
		if (profile_parse(cut, n, &p, &err) == 0)
			fail_msg("a prefix of %zu bytes was accepted", n);
		if (n > 0 && strstr(err.message, "byte") == NULL)
			fail_msg("prefix of %zu bytes: no byte offset in \"%s\"", n, err.message);
		free(cut);
	}
	free(t.s);
}

static void test_malformed_numbers_are_refused_with_their_offset(void **state)
{
	static const char *bad[] = {"01",  "1.",    ".5",   "-",     "+1",
				    "1e",  "1e+",   "0x10", "NaN",   "Infinity",
				    "--1", "1.2.3", "-01",  "1e5e5", "0.e1"};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *s = lab_with_metadata_value(bad[i]);
		expect_refused(s, "malformed JSON at byte");
		free(s);
	}
}

static void test_valid_numbers_in_other_places_are_accepted(void **state)
{
	static const char *good[] = {"-0",
				     "0",
				     "1.5e-3",
				     "-12.25E+8",
				     "1E400",
				     "123456789012345678901234567890",
				     "-9223372036854775809"};
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char *s = lab_with_metadata_value(good[i]);
		struct vmi_profile p;
		expect_accepted(s, &p);
		free(s);
	}
}

static char *nested_arrays(size_t depth)
{
	char *v = malloc(2 * depth + 1);
	assert_non_null(v);
	memset(v, '[', depth);
	memset(v + depth, ']', depth);
	v[2 * depth] = '\0';
	return v;
}

/* The document object and metadata are two levels: 62 more make the limit of 64. */
static void test_nesting_up_to_the_limit_is_accepted(void **state)
{
	(void)state;
	char *v = nested_arrays(62);
	char *s = lab_with_metadata_value(v);
	struct vmi_profile p;
	expect_accepted(s, &p);
	free(s);
	free(v);
}

static void test_nesting_past_the_limit_is_refused(void **state)
{
	(void)state;
	char *v = nested_arrays(63);
	char *s = lab_with_metadata_value(v);
	expect_refused(s, "nesting deeper than");
	free(s);
	free(v);

	/* a megabyte of '[' inside the document object */
	size_t n = 1u << 20;
	char *deep = malloc(n);
	assert_non_null(deep);
	memcpy(deep, "{\"a\": ", 6);
	memset(deep + 6, '[', n - 6);
	struct vmi_profile p;
	struct profile_error err;
	assert_int_equal(profile_parse(deep, n, &p, &err), -1);
	assert_non_null(strstr(err.message, "nesting deeper than"));
	assert_non_null(strstr(err.message, "byte 69")); /* '{' and 63 '[' are open: the 64th */
	free(deep);
}

static void test_huge_strings_are_accepted_where_ignored(void **state)
{
	(void)state;
	size_t n = 1u << 20;
	char *v = malloc(n + 3);
	assert_non_null(v);
	v[0] = '"';
	memset(v + 1, 'a', n);
	v[n + 1] = '"';
	v[n + 2] = '\0';
	char *s = lab_with_metadata_value(v);
	struct vmi_profile p;
	expect_accepted(s, &p);
	/* and as a key */
	char *k = replace_after(s, NULL, "\"x\": \"", "\"x\": 1, \"");
	char *k2 = replace_after(k, NULL, "aaaa\",", "aaaa\": 2,");
	expect_accepted(k2, &p);
	assert_string_equal(p.release, LAB_RELEASE);
	free(k2);
	free(k);
	free(s);
	free(v);
}

static void test_unterminated_huge_string_is_refused(void **state)
{
	(void)state;
	size_t n = 1u << 20;
	char *doc = malloc(n);
	assert_non_null(doc);
	memcpy(doc, "{\"metadata\": \"", 14);
	memset(doc + 14, 'b', n - 14);
	struct vmi_profile p;
	struct profile_error err;
	assert_int_equal(profile_parse(doc, n, &p, &err), -1);
	assert_non_null(strstr(err.message, "unterminated string"));
	assert_non_null(strstr(err.message, "byte 13"));
	free(doc);
}

static void test_bad_strings_are_refused(void **state)
{
	static const char *bad[] = {
		"\"tab\there\"",      /* raw control character */
		"\"bad \\x escape\"", /* unknown escape */
		"\"\\u12G4\"",        /* bad hex */
		"\"\xc3\x28\"",       /* invalid UTF-8 */
		"\"\xed\xa0\x80\"",   /* UTF-8-encoded surrogate */
		"\"\xc0\xaf\"",       /* overlong */
		"'single'",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *s = lab_with_metadata_value(bad[i]);
		expect_refused(s, "malformed JSON at byte");
		free(s);
	}
}

static void test_structural_errors_are_refused(void **state)
{
	(void)state;
	char *lab = lab_profile();
	char *trailing = malloc(strlen(lab) + 3);
	assert_non_null(trailing);
	sprintf(trailing, "%s{}", lab);
	expect_refused(trailing, "trailing characters");
	char *comma = replace_after(lab, NULL, "\"enums\": {}", "\"enums\": {},");
	expect_refused(comma, "malformed JSON");
	char *colon = replace_after(lab, NULL, "\"enums\": {}", "\"enums\" {}");
	expect_refused(colon, "expected ':'");
	char *comment = replace_after(lab, NULL, "\"enums\": {}", "\"enums\": {} /* c */");
	expect_refused(comment, "malformed JSON");
	expect_refused("[1, 2]", "not a JSON object");
	expect_refused("\"just a string\"", "not a JSON object");
	expect_refused("{\"a\": 1]", "malformed JSON");
	expect_refused("   ", "unexpected end of input");
	free(comment);
	free(colon);
	free(comma);
	free(trailing);
	free(lab);
}

static void test_empty_input_is_refused(void **state)
{
	(void)state;
	struct vmi_profile p;
	struct profile_error err;
	assert_int_equal(profile_parse("", 0, &p, &err), -1);
	assert_string_equal(err.message, "profile: empty");
	assert_int_equal(profile_parse(NULL, 0, &p, &err), -1);
}

static void test_error_report_is_optional(void **state)
{
	(void)state;
	struct vmi_profile p;
	assert_int_equal(profile_parse("{", 1, &p, NULL), -1);
	assert_int_equal(profile_parse("{}", 2, &p, NULL), -1);
}

/* ------------------------------------------------------------------ kernel symbols */

/* Debian's 6.1.0-57 profile as mkprofile wrote it, its symbols cut down to the ones the
 * monitor looks up (the whole profile, 3.3 MB, is made by `make lab`; `make profile-check`
 * checks that one has all of kallsyms: tools/mkprofile/check-symbols.py) */
#define SYMS_PROFILE "tests/unit/test_profile_syms.json"

/* mkprofile copied the kernel's kallsyms (values: the kallsyms of Debian's 6.1.0-57 vmlinux,
 * the same as /proc/kallsyms of the lab guest booted with nokaslr) */
static void test_symbols_from_kallsyms_are_read(void **state)
{
	(void)state;
	struct text t = read_text(SYMS_PROFILE);
	struct vmi_profile p;
	struct profile_error err;
	if (profile_parse(t.s, t.len, &p, &err) != 0)
		fail_msg("refused: %s", err.message);
	free(t.s);
	assert_int_equal(p.symbols, KSYM_COUNT + 2); /* and current_task, linux_banner */
	assert_int_equal(p.ksym[KSYM_TEXT], 0xffffffff81000000ull);
	assert_int_equal(p.ksym[KSYM_ENTRY_SYSCALL_64], 0xffffffff81c00080ull);
	assert_int_equal(p.ksym[KSYM_START_RODATA], 0xffffffff82000000ull);
	assert_int_equal(p.ksym[KSYM_IDT_TABLE], 0xffffffff83313000ull); /* a static symbol */
	assert_int_equal(p.ksym[KSYM_INIT_TASK], 0xffffffff82a1aa40ull);
	for (unsigned i = 0; i < KSYM_COUNT; i++)
		if (p.ksym[i] == 0)
			fail_msg("%s missing", ksym_names[i]);
}

static void test_profile_without_symbols_has_none_and_loads(void **state)
{
	(void)state;
	char *s = lab_profile();
	struct vmi_profile p;
	expect_accepted(s, &p);
	for (unsigned i = 0; i < KSYM_COUNT; i++)
		assert_int_equal(p.ksym[i], 0);
	assert_int_equal(p.symbols, 2); /* current_task, linux_banner */
	free(s);
}

static void test_symbol_that_is_not_an_address_is_refused_by_name(void **state)
{
	(void)state;
	char *lab = lab_profile();
	char *a =
		replace_after(lab, "\"symbols\": {", "{", "{\n    \"_stext\": {\"address\": -5},");
	expect_refused(a, "symbols._stext.address");
	char *b = replace_after(lab, "\"symbols\": {", "{",
				"{\n    \"init_task\": {\"address\": 0},");
	expect_refused(b, "symbols.init_task.address");
	char *c = replace_after(lab, "\"symbols\": {", "{",
				"{\n    \"some_other\": {\"address\": \"x\"},"); /* not ours */
	struct vmi_profile p;
	expect_accepted(c, &p);
	assert_int_equal(p.symbols, 3);
	free(a);
	free(b);
	free(c);
	free(lab);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lab_profile_is_complete),
		cmocka_unit_test(test_symbols_from_kallsyms_are_read),
		cmocka_unit_test(test_profile_without_symbols_has_none_and_loads),
		cmocka_unit_test(test_symbol_that_is_not_an_address_is_refused_by_name),
		cmocka_unit_test(test_lab_profile_offsets_match_bpftool),
		cmocka_unit_test(test_each_missing_member_is_refused_by_name),
		cmocka_unit_test(test_several_missing_members_are_all_named),
		cmocka_unit_test(test_many_missing_members_fit_the_message_with_a_count),
		cmocka_unit_test(test_missing_current_task_symbol_is_refused_by_name),
		cmocka_unit_test(test_optional_members_are_read_when_present),
		cmocka_unit_test(test_optional_members_absent_are_zero_not_refused),
		cmocka_unit_test(test_pcpu_hot_gives_the_current_task_offset),
		cmocka_unit_test(test_pcpu_hot_without_its_struct_is_refused_by_name),
		cmocka_unit_test(test_old_long_state_has_size_8),
		cmocka_unit_test(test_state_of_unknown_size_is_refused_by_name),
		cmocka_unit_test(test_kernfs_parent_renamed_in_6_15_is_accepted),
		cmocka_unit_test(test_dwarf2json_profile_gives_the_same_values),
		cmocka_unit_test(test_members_of_nested_unnamed_types_are_found_in_any_order),
		cmocka_unit_test(test_dwarf2json_missing_unnamed_type_is_refused_by_name),
		cmocka_unit_test(test_profile_without_banner_has_an_empty_release),
		cmocka_unit_test(test_release_alone_in_the_banner_is_read),
		cmocka_unit_test(test_negative_offset_is_refused_by_name),
		cmocka_unit_test(test_fractional_or_huge_offset_is_refused_by_name),
		cmocka_unit_test(test_member_outside_its_struct_is_refused),
		cmocka_unit_test(test_escaped_member_name_is_recognised),
		cmocka_unit_test(test_every_truncation_is_refused_without_overread),
		cmocka_unit_test(test_malformed_numbers_are_refused_with_their_offset),
		cmocka_unit_test(test_valid_numbers_in_other_places_are_accepted),
		cmocka_unit_test(test_nesting_up_to_the_limit_is_accepted),
		cmocka_unit_test(test_nesting_past_the_limit_is_refused),
		cmocka_unit_test(test_huge_strings_are_accepted_where_ignored),
		cmocka_unit_test(test_unterminated_huge_string_is_refused),
		cmocka_unit_test(test_bad_strings_are_refused),
		cmocka_unit_test(test_structural_errors_are_refused),
		cmocka_unit_test(test_empty_input_is_refused),
		cmocka_unit_test(test_error_report_is_optional),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
