/* SPDX-License-Identifier: MIT */
/*
 * mkprofile: writes a kernel profile (guest-profiles/<release>.json, DESIGN §5) from the
 * kernel's own BTF, read with libbpf from a vmlinux ELF (its .BTF section) or from a raw
 * BTF blob such as /sys/kernel/btf/vmlinux. tools/mkprofile/mkprofile.sh does the same
 * from a distro vmlinuz (it unpacks the vmlinux first).
 *
 * The profile holds exactly what hv/vmi/profile.c reads (its profile_needs table): the
 * needed struct members with their absolute offsets (members of unnamed structs and
 * unions are listed under the outer struct), the sizes of task_struct and upid, the
 * per-CPU offset of the current task (VAR current_task, or pcpu_hot from 6.2, in BTF's
 * DATASEC ".data..percpu"), and the release, as Volatility 3 ISF JSON. The format is
 * documented in guest-profiles/README.md. The result is parsed back with profile_parse()
 * before it is written, so a profile this tool writes is one the monitor accepts.
 */
#include <ctype.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/btf.h>

#include "kallsyms.h"
#include "vmi/profile.h"

#define PRODUCER_NAME    "ctrvisor-mkprofile"
#define PRODUCER_VERSION "1.0.0"
#define ISF_FORMAT       "6.2.0"
#define MAX_TYPE_DEPTH   8 /* pointer/array/typedef chains followed when describing a type */
#define MAX_ANON_DEPTH   8 /* unnamed struct/union nesting followed when finding a member */
#define BANNER_MAX       512

static const char *prog = "mkprofile";

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ------------------------------------------------------------------ growing text buffer */

struct out {
	char *buf;
	size_t len, cap;
};

static void out_add(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_add(struct out *o, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			die("formatting failed");
		if ((size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		o->cap = (o->cap + (size_t)n + 1) * 2;
		o->buf = realloc(o->buf, o->cap);
		if (o->buf == NULL)
			die("out of memory");
	}
}

/* A JSON string literal. */
static void out_str(struct out *o, const char *s)
{
	out_add(o, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			out_add(o, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			out_add(o, "\\u%04x", *p);
		else
			out_add(o, "%c", *p);
	}
	out_add(o, "\"");
}

/* ------------------------------------------------------------------ BTF */

/* The base types the described members refer to, for "base_types". */
struct base {
	char name[64];
	unsigned size;
	bool is_signed;
	const char *kind; /* ISF: int, char, bool, float, void */
};
static struct base bases[64];
static size_t nbases;

static void note_base(const char *name, unsigned size, bool is_signed, const char *kind)
{
	for (size_t i = 0; i < nbases; i++)
		if (strcmp(bases[i].name, name) == 0)
			return;
	if (nbases == sizeof(bases) / sizeof(bases[0]))
		die("too many base types");
	snprintf(bases[nbases].name, sizeof(bases[nbases].name), "%s", name);
	bases[nbases].size = size;
	bases[nbases].is_signed = is_signed;
	bases[nbases].kind = kind;
	nbases++;
}

static const char *type_name(const struct btf *btf, const struct btf_type *t)
{
	return btf__name_by_offset(btf, t->name_off);
}

/* Writes the ISF type descriptor of BTF type `id`. Typedefs and qualifiers are looked
 * through, as dwarf2json does; an unnamed struct reached through a typedef (kuid_t) takes
 * the typedef's name. */
static void describe_type(struct out *o, const struct btf *btf, __u32 id, int depth)
{
	const char *typedef_name = NULL;
	const struct btf_type *t = NULL;

	for (int hops = 0; id != 0 && hops < MAX_TYPE_DEPTH; hops++) {
		t = btf__type_by_id(btf, id);
		if (t == NULL)
			die("BTF type %u does not exist", id);
		if (btf_is_typedef(t)) {
			if (typedef_name == NULL)
				typedef_name = type_name(btf, t);
		} else if (!btf_is_mod(t)) {
			break;
		}
		id = t->type;
	}
	if (id == 0 || depth >= MAX_TYPE_DEPTH) {
		note_base("void", 0, false, "void");
		out_add(o, "{\"kind\": \"base\", \"name\": \"void\"}");
		return;
	}
	t = btf__type_by_id(btf, id);
	const char *name = type_name(btf, t);
	if (name == NULL || name[0] == '\0')
		name = typedef_name != NULL ? typedef_name : "unnamed";

	switch (btf_kind(t)) {
	case BTF_KIND_INT: {
		__u8 enc = btf_int_encoding(t);
		const char *kind = "int";
		if (enc & BTF_INT_BOOL)
			kind = "bool";
		else if ((enc & BTF_INT_CHAR) || strstr(name, "char") != NULL)
			kind = "char";
		note_base(name, t->size, (enc & BTF_INT_SIGNED) != 0, kind);
		out_add(o, "{\"kind\": \"base\", \"name\": ");
		out_str(o, name);
		out_add(o, "}");
		return;
	}
	case BTF_KIND_FLOAT:
		note_base(name, t->size, true, "float");
		out_add(o, "{\"kind\": \"base\", \"name\": ");
		out_str(o, name);
		out_add(o, "}");
		return;
	case BTF_KIND_PTR:
		note_base("pointer", 8, false, "int");
		out_add(o, "{\"kind\": \"pointer\", \"subtype\": ");
		describe_type(o, btf, t->type, depth + 1);
		out_add(o, "}");
		return;
	case BTF_KIND_ARRAY: {
		const struct btf_array *a = btf_array(t);
		out_add(o, "{\"kind\": \"array\", \"count\": %u, \"subtype\": ", a->nelems);
		describe_type(o, btf, a->type, depth + 1);
		out_add(o, "}");
		return;
	}
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		out_add(o, "{\"kind\": \"%s\", \"name\": ", btf_is_union(t) ? "union" : "struct");
		out_str(o, name);
		out_add(o, "}");
		return;
	case BTF_KIND_FWD:
		out_add(o, "{\"kind\": \"%s\", \"name\": ", btf_kflag(t) ? "union" : "struct");
		out_str(o, name);
		out_add(o, "}");
		return;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		out_add(o, "{\"kind\": \"enum\", \"name\": ");
		out_str(o, name);
		out_add(o, "}");
		return;
	case BTF_KIND_FUNC_PROTO:
		out_add(o, "{\"kind\": \"function\"}");
		return;
	default:
		note_base("void", 0, false, "void");
		out_add(o, "{\"kind\": \"base\", \"name\": \"void\"}");
		return;
	}
}

static __u32 skip_mods_and_typedefs(const struct btf *btf, __u32 id)
{
	for (int hops = 0; id != 0 && hops < MAX_TYPE_DEPTH; hops++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (t == NULL || !(btf_is_typedef(t) || btf_is_mod(t)))
			break;
		id = t->type;
	}
	return id;
}

struct member {
	__u32 bit_offset; /* from the start of the outermost struct */
	__u32 type_id;
	bool bitfield;
};

/* Finds member `name` of the struct/union `id`, looking into unnamed struct/union members
 * (whose members C lets one name as the outer struct's own). */
static bool find_member(const struct btf *btf, __u32 id, const char *name, __u32 base_bits,
			int depth, struct member *m)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	if (t == NULL || !btf_is_composite(t) || depth > MAX_ANON_DEPTH)
		return false;
	const struct btf_member *mem = btf_members(t);
	for (__u16 i = 0; i < btf_vlen(t); i++, mem++) {
		__u32 bits = base_bits + btf_member_bit_offset(t, i);
		if (mem->name_off != 0) {
			if (strcmp(btf__name_by_offset(btf, mem->name_off), name) == 0) {
				m->bit_offset = bits;
				m->type_id = mem->type;
				m->bitfield = btf_member_bitfield_size(t, i) != 0;
				return true;
			}
			continue;
		}
		__u32 inner = skip_mods_and_typedefs(btf, mem->type);
		if (find_member(btf, inner, name, bits, depth + 1, m))
			return true;
	}
	return false;
}

/* The per-CPU variable `name` in DATASEC .data..percpu: its offset and type. */
static bool find_percpu(const struct btf *btf, const char *name, __u32 *offset, __u32 *type_id)
{
	__s32 sec = btf__find_by_name_kind(btf, ".data..percpu", BTF_KIND_DATASEC);
	if (sec < 0)
		return false;
	const struct btf_type *t = btf__type_by_id(btf, (__u32)sec);
	const struct btf_var_secinfo *v = btf_var_secinfos(t);
	for (__u16 i = 0; i < btf_vlen(t); i++, v++) {
		const struct btf_type *var = btf__type_by_id(btf, v->type);
		if (var == NULL || !btf_is_var(var))
			continue;
		if (strcmp(type_name(btf, var), name) == 0) {
			*offset = v->offset;
			*type_id = var->type;
			return true;
		}
	}
	return false;
}

/* ------------------------------------------------------------------ the banner */

/* Reads the whole file (the vmlinux is tens of MB: fine for a host tool). */
static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) != 0)
		die("%s: cannot seek", path);
	long size = ftell(f);
	if (size < 0)
		die("%s: cannot tell its size", path);
	rewind(f);
	unsigned char *buf = malloc((size_t)size + 1);
	if (buf == NULL)
		die("out of memory");
	if (fread(buf, 1, (size_t)size, f) != (size_t)size)
		die("%s: short read", path);
	fclose(f);
	buf[size] = 0;
	*len = (size_t)size;
	return buf;
}

/* linux_banner ("Linux version <release> (<builder>) (<compiler>) #1 SMP ...\n") from the
 * .rodata section of a vmlinux ELF; false if there is none (raw BTF, odd image). */
static bool find_banner(const unsigned char *img, size_t len, char *banner, size_t cap)
{
	if (len < sizeof(Elf64_Ehdr) || memcmp(img, ELFMAG, SELFMAG) != 0 ||
	    img[EI_CLASS] != ELFCLASS64)
		return false;
	Elf64_Ehdr eh;
	memcpy(&eh, img, sizeof(eh));
	if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shoff > len ||
	    (len - eh.e_shoff) / sizeof(Elf64_Shdr) < eh.e_shnum || eh.e_shstrndx >= eh.e_shnum)
		return false;
	Elf64_Shdr strtab;
	memcpy(&strtab, img + eh.e_shoff + (size_t)eh.e_shstrndx * sizeof(Elf64_Shdr),
	       sizeof(strtab));
	if (strtab.sh_offset > len || strtab.sh_size > len - strtab.sh_offset)
		return false;
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		Elf64_Shdr sh;
		memcpy(&sh, img + eh.e_shoff + (size_t)i * sizeof(Elf64_Shdr), sizeof(sh));
		if (sh.sh_name >= strtab.sh_size || sh.sh_type != SHT_PROGBITS ||
		    sh.sh_offset > len || sh.sh_size > len - sh.sh_offset)
			continue;
		const char *sname = (const char *)img + strtab.sh_offset + sh.sh_name;
		if (strnlen(sname, strtab.sh_size - sh.sh_name) == strtab.sh_size - sh.sh_name ||
		    strcmp(sname, ".rodata") != 0)
			continue;
		/* Since 6.1 .rodata holds two banners: init/version.c's weak one, whose
		 * version field lacks the build number ("# SMP ..."), and the one of
		 * init/version-timestamp.c that the kernel uses, linked after it. The last
		 * copy is the real one. */
		static const char prefix[] = "Linux version ";
		const unsigned char *sec = img + sh.sh_offset;
		const unsigned char *hit = NULL;
		for (const unsigned char *p = sec, *end = sec + sh.sh_size;;) {
			const unsigned char *h =
				memmem(p, (size_t)(end - p), prefix, sizeof(prefix) - 1);
			if (h == NULL)
				break;
			hit = h;
			p = h + 1;
		}
		if (hit == NULL)
			return false;
		size_t room = (size_t)(sec + sh.sh_size - hit);
		size_t n = 0;
		while (n < room && n < cap - 1 && hit[n] != '\0' && hit[n] != '\n')
			n++;
		if (n == cap - 1 || n == room)
			return false;
		memcpy(banner, hit, n);
		banner[n] = '\0';
		return true;
	}
	return false;
}

static void release_from_banner(const char *banner, char *release, size_t cap)
{
	const char *p = banner + strlen("Linux version ");
	size_t n = strcspn(p, " \n");
	if (n == 0 || n >= cap)
		die("cannot read the release in the banner \"%s\"", banner);
	memcpy(release, p, n);
	release[n] = '\0';
}

static void out_base64(struct out *o, const unsigned char *s, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	out_add(o, "\"");
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		out_add(o, "%c%c%c%c", tab[v >> 18 & 63], tab[v >> 12 & 63],
			i + 1 < n ? tab[v >> 6 & 63] : '=', i + 2 < n ? tab[v & 63] : '=');
	}
	out_add(o, "\"");
}

/* ------------------------------------------------------------------ the profile */

struct args {
	const char *btf_path;
	const char *release;
	const char *banner;
	const char *source;
	const char *out;
};

static bool release_is_safe(const char *r)
{
	if (r[0] == '\0' || r[0] == '.' || strlen(r) >= PROFILE_RELEASE_MAX)
		return false;
	for (const char *p = r; *p; p++)
		if (!isalnum((unsigned char)*p) && strchr(".-_+~", *p) == NULL)
			return false;
	return true;
}

/* Whether the struct of need i holds only optional needs (may be absent from the BTF). */
static bool struct_is_optional(const char *sname)
{
	for (size_t j = 0; j < profile_needs_count; j++)
		if (strcmp(profile_needs[j].type, sname) == 0 &&
		    !(profile_needs[j].flags & PROFILE_NEED_OPTIONAL))
			return false;
	return true;
}

/* Writes the user_types section: each struct of profile_needs with its needed members.
 * Optional members (and structs) the kernel lacks are left out, with a note. */
static void write_user_types(struct out *o, const struct btf *btf, bool want_pcpu_hot)
{
	const char *done[64];
	size_t ndone = 0;
	bool first_type = true;

	out_add(o, "  \"user_types\": {");
	for (size_t i = 0; i < profile_needs_count; i++) {
		const char *sname = profile_needs[i].type;
		bool seen = false;
		for (size_t k = 0; k < ndone; k++)
			seen = seen || strcmp(done[k], sname) == 0;
		if (seen)
			continue;
		if ((profile_needs[i].flags & PROFILE_NEED_PCPU_HOT) && !want_pcpu_hot)
			continue;
		if (ndone == sizeof(done) / sizeof(done[0]))
			die("too many structs");
		done[ndone++] = sname;

		__s32 sid = btf__find_by_name_kind(btf, sname, BTF_KIND_STRUCT);
		if (sid < 0 && struct_is_optional(sname)) {
			fprintf(stderr, "%s: note: no struct %s (optional)\n", prog, sname);
			continue;
		}
		if (sid < 0)
			die("the BTF has no struct %s", sname);
		const struct btf_type *st = btf__type_by_id(btf, (__u32)sid);
		out_add(o, "%s\n    ", first_type ? "" : ",");
		first_type = false;
		out_str(o, sname);
		out_add(o, ": {\n      \"kind\": \"struct\",\n      \"size\": %u,\n", st->size);
		out_add(o, "      \"fields\": {");

		bool first_field = true;
		for (size_t j = i; j < profile_needs_count; j++) {
			const struct profile_need *n = &profile_needs[j];
			if (strcmp(n->type, sname) != 0 || n->member == NULL)
				continue;
			struct member m;
			const char *mname = n->member;
			if (!find_member(btf, (__u32)sid, mname, 0, 0, &m)) {
				mname = n->alt;
				if (mname == NULL ||
				    !find_member(btf, (__u32)sid, mname, 0, 0, &m)) {
					if (n->flags & PROFILE_NEED_OPTIONAL) {
						fprintf(stderr, "%s: note: no %s.%s (optional)\n",
							prog, sname, n->member);
						continue;
					}
					die("struct %s has no member %s%s%s%s", sname, n->member,
					    n->alt ? " (nor " : "", n->alt ? n->alt : "",
					    n->alt ? ")" : "");
				}
			}
			if (m.bitfield || m.bit_offset % 8 != 0)
				die("%s.%s is a bitfield", sname, mname);
			out_add(o, "%s\n        ", first_field ? "" : ",");
			first_field = false;
			out_str(o, mname);
			out_add(o, ": {\"offset\": %u, \"type\": ", m.bit_offset / 8);
			describe_type(o, btf, m.type_id, 0);
			out_add(o, "}");
		}
		out_add(o, "\n      }\n    }");
	}
	out_add(o, "\n  },\n");
}

/* The profile into *o; ksyms: kernel symbols from write_kallsyms(), appended to the
 * symbols section; banner_addr: linux_banner's address (0: unknown). */
static void write_profile(struct out *o, const struct btf *btf, const struct args *a,
			  const char *banner, const struct out *ksyms, uint64_t banner_addr)
{
	__u32 ct_off = 0, ct_type = 0, hot_off = 0, hot_type = 0;
	bool has_ct = find_percpu(btf, "current_task", &ct_off, &ct_type);
	bool has_hot = !has_ct && find_percpu(btf, "pcpu_hot", &hot_off, &hot_type);
	if (!has_ct && !has_hot)
		die("the BTF's .data..percpu has neither current_task nor pcpu_hot");

	/* user_types first (it fills the base type list), then assemble in ISF order */
	struct out types = {0};
	write_user_types(&types, btf, has_hot);
	struct out syms = {0};
	out_add(&syms, "  \"symbols\": {\n    ");
	out_str(&syms, has_ct ? "current_task" : "pcpu_hot");
	out_add(&syms, ": {\"address\": %u, \"type\": ", has_ct ? ct_off : hot_off);
	describe_type(&syms, btf, has_ct ? ct_type : hot_type, 0);
	/* linux_banner: the text as constant_data, as dwarf2json writes it (with its
	 * newline and NUL); its address from kallsyms, 0 without it */
	out_add(&syms, "},\n    \"linux_banner\": {\"address\": %llu, \"constant_data\": ",
		(unsigned long long)banner_addr);
	size_t blen = strlen(banner);
	unsigned char *bytes = malloc(blen + 2);
	if (bytes == NULL)
		die("out of memory");
	memcpy(bytes, banner, blen);
	size_t n = blen;
	if (strncmp(banner, "Linux version ", 14) == 0 && strchr(banner, '(') != NULL)
		bytes[n++] = '\n'; /* a full banner: as the kernel has it */
	bytes[n++] = '\0';
	out_base64(&syms, bytes, n);
	free(bytes);
	out_add(&syms, "}%s\n  }\n", ksyms->buf ? ksyms->buf : "");

	out_add(o, "{\n  \"metadata\": {\n    \"format\": \"%s\",\n", ISF_FORMAT);
	out_add(o, "    \"producer\": {\"name\": \"%s\", \"version\": \"%s\"},\n", PRODUCER_NAME,
		PRODUCER_VERSION);
	out_add(o, "    \"linux\": {\"types\": [{\"name\": ");
	out_str(o, a->source);
	out_add(o, "}]}\n  },\n");
	out_add(o, "  \"base_types\": {");
	for (size_t i = 0; i < nbases; i++) {
		out_add(o, "%s\n    ", i ? "," : "");
		out_str(o, bases[i].name);
		out_add(o,
			": {\"kind\": \"%s\", \"size\": %u, \"signed\": %s, \"endian\": "
			"\"little\"}",
			bases[i].kind, bases[i].size, bases[i].is_signed ? "true" : "false");
	}
	out_add(o, "\n  },\n");
	out_add(o, "%s", types.buf);
	out_add(o, "  \"enums\": {},\n");
	out_add(o, "%s}\n", syms.buf);
	free(types.buf);
	free(syms.buf);
}

/* The ELF's .rodata (bounded by the file), or false. */
static bool find_rodata(const unsigned char *img, size_t len, const unsigned char **ro,
			size_t *ro_len, uint64_t *va)
{
	if (len < sizeof(Elf64_Ehdr) || img[EI_CLASS] != ELFCLASS64)
		return false;
	const Elf64_Ehdr *e = (const Elf64_Ehdr *)img;
	if (e->e_shentsize != sizeof(Elf64_Shdr) || e->e_shoff > len ||
	    (uint64_t)e->e_shnum * sizeof(Elf64_Shdr) > len - e->e_shoff ||
	    e->e_shstrndx >= e->e_shnum)
		return false;
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(img + e->e_shoff);
	const Elf64_Shdr *strs = &sh[e->e_shstrndx];
	if (strs->sh_offset > len || strs->sh_size > len - strs->sh_offset)
		return false;
	for (unsigned int i = 0; i < e->e_shnum; i++) {
		if (sh[i].sh_name >= strs->sh_size || sh[i].sh_type != SHT_PROGBITS ||
		    sh[i].sh_offset > len || sh[i].sh_size > len - sh[i].sh_offset)
			continue;
		const char *name = (const char *)img + strs->sh_offset + sh[i].sh_name;
		if (strnlen(name, strs->sh_size - sh[i].sh_name) == 7 &&
		    memcmp(name, ".rodata", 7) == 0) {
			*ro = img + sh[i].sh_offset;
			*ro_len = sh[i].sh_size;
			*va = sh[i].sh_addr;
			return true;
		}
	}
	return false;
}

/* Names written once: the first symbol of a name wins, as kallsyms_lookup_name() finds it. */
struct name_set {
	char **slot;
	size_t cap, count;
};

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* True if `name` was not in the set (it is now). */
static bool name_set_add(struct name_set *set, const char *name)
{
	if (2 * (set->count + 1) > set->cap) {
		struct name_set bigger = {calloc(set->cap ? 2 * set->cap : 1024, sizeof(char *)),
					  set->cap ? 2 * set->cap : 1024, 0};
		if (bigger.slot == NULL)
			die("out of memory");
		for (size_t i = 0; i < set->cap; i++)
			if (set->slot[i] != NULL)
				name_set_add(&bigger, set->slot[i]);
		free(set->slot);
		*set = bigger;
	}
	size_t i = name_hash(name) & (set->cap - 1);
	for (; set->slot[i] != NULL; i = (i + 1) & (set->cap - 1))
		if (strcmp(set->slot[i], name) == 0)
			return false;
	set->slot[i] = strdup(name);
	if (set->slot[i] == NULL)
		die("out of memory");
	set->count++;
	return true;
}

/* Which kallsyms entries the profile keeps (about 53,000 of Debian 6.1's 94,000; 3 MB):
 * every function (to name an address in an alert), every global object, and the static
 * objects the monitor looks for by name (enum ksym). The rest are static objects. */
static bool keep_symbol(char type, const char *name)
{
	if (strchr("tTwWDRBVG", type) != NULL)
		return true;
	for (unsigned i = 0; i < KSYM_COUNT; i++)
		if (strcmp(name, ksym_names[i]) == 0)
			return true;
	return false;
}

/*
 * The kernel's kallsyms (tools/mkprofile/kallsyms.h) as ISF symbols, one per line, into
 * *o; *banner_addr gets linux_banner's address. Names in `skip` are written elsewhere.
 * Returns how many were written, or 0 when the image holds no kallsyms (said on stderr:
 * the profile then serves introspection but not kernel protection).
 */
static uint32_t write_kallsyms(struct out *o, const unsigned char *img, size_t len,
			       const char *const *skip, uint64_t *banner_addr)
{
	const unsigned char *ro;
	size_t ro_len;
	uint64_t va, addr;
	struct kallsyms k;
	char why[200], name[KALLSYMS_NAME_MAX], type;
	if (!find_rodata(img, len, &ro, &ro_len, &va))
		return 0; /* raw BTF: no image */
	if (!kallsyms_find(ro, ro_len, va, &k, why, sizeof(why))) {
		fprintf(stderr, "%s: kallsyms: %s: the profile has no kernel symbols\n", prog, why);
		return 0;
	}
	struct name_set seen = {0};
	for (const char *const *s = skip; *s; s++)
		name_set_add(&seen, *s);
	size_t pos = 0;
	uint32_t index = 0, written = 0, dups = 0;
	while (kallsyms_next(&k, &pos, &index, name, &type, &addr)) {
		if (strcmp(name, "linux_banner") == 0 && *banner_addr == 0)
			*banner_addr = addr;
		if (name[0] == '\0' || !keep_symbol(type, name))
			continue;
		if (!name_set_add(&seen, name)) {
			dups++;
			continue;
		}
		out_add(o, ",\n    ");
		out_str(o, name);
		out_add(o, ": {\"address\": %llu}", (unsigned long long)addr);
		written++;
	}
	if (index != k.num_syms)
		die("kallsyms: entry %u of %u is malformed", index, k.num_syms);
	for (unsigned i = 0; i < KSYM_COUNT; i++)
		if (name_set_add(&seen, ksym_names[i]))
			fprintf(stderr, "%s: kallsyms: no %s\n", prog, ksym_names[i]);
	fprintf(stderr, "%s: kallsyms: %u symbols%s; %u written (%u repeated names left out)\n",
		prog, k.num_syms, k.seqs_of_names ? " (with seqs_of_names)" : "", written, dups);
	for (size_t i = 0; i < seen.cap; i++)
		free(seen.slot[i]);
	free(seen.slot);
	return written;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: %s --btf FILE [--release R] [--banner TEXT] [--source NAME] --out "
		"DIR|FILE\n"
		"  --btf FILE     a vmlinux ELF (.BTF section) or raw BTF "
		"(/sys/kernel/btf/vmlinux)\n"
		"  --release R    the kernel release (uname -r); read from the vmlinux's banner\n"
		"                 when not given\n"
		"  --banner TEXT  the kernel's banner (/proc/version) when the input has none\n"
		"  --source NAME  what the BTF came from, recorded in metadata (default: FILE's "
		"name)\n"
		"  --out DIR|FILE writes DIR/<release>.json, or FILE when it ends in .json\n",
		prog);
	exit(2);
}

int main(int argc, char **argv)
{
	struct args a = {0};

	for (int i = 1; i < argc; i++) {
		const char **slot = NULL;
		if (strcmp(argv[i], "--btf") == 0 || strcmp(argv[i], "--vmlinux") == 0)
			slot = &a.btf_path;
		else if (strcmp(argv[i], "--release") == 0)
			slot = &a.release;
		else if (strcmp(argv[i], "--banner") == 0)
			slot = &a.banner;
		else if (strcmp(argv[i], "--source") == 0)
			slot = &a.source;
		else if (strcmp(argv[i], "--out") == 0)
			slot = &a.out;
		else
			usage();
		if (i + 1 >= argc)
			usage();
		*slot = argv[++i];
	}
	if (a.btf_path == NULL || a.out == NULL)
		usage();
	if (a.source == NULL) {
		const char *slash = strrchr(a.btf_path, '/');
		a.source = slash ? slash + 1 : a.btf_path;
	}

	size_t img_len;
	unsigned char *img = read_file(a.btf_path, &img_len);
	bool is_elf = img_len >= SELFMAG && memcmp(img, ELFMAG, SELFMAG) == 0;
	struct btf *btf = is_elf ? btf__parse_elf(a.btf_path, NULL) : btf__parse_raw(a.btf_path);
	if (btf == NULL)
		die("%s: no usable BTF (%s)", a.btf_path, strerror(errno));

	char banner[BANNER_MAX] = "";
	char release[PROFILE_RELEASE_MAX] = "";
	if (a.banner != NULL) {
		snprintf(banner, sizeof(banner), "%s", a.banner);
		banner[strcspn(banner, "\n")] = '\0';
	} else if (!find_banner(img, img_len, banner, sizeof(banner))) {
		banner[0] = '\0';
	}
	struct out ksyms = {0};
	uint64_t banner_addr = 0;
	static const char *const written_elsewhere[] = {"current_task", "pcpu_hot", "linux_banner",
							NULL};
	if (is_elf)
		write_kallsyms(&ksyms, img, img_len, written_elsewhere, &banner_addr);
	free(img);
	if (strncmp(banner, "Linux version ", 14) == 0)
		release_from_banner(banner, release, sizeof(release));
	if (a.release != NULL) {
		if (release[0] != '\0' && strcmp(release, a.release) != 0)
			die("--release %s but the kernel's banner says %s", a.release, release);
		snprintf(release, sizeof(release), "%s", a.release);
	}
	if (release[0] == '\0')
		die("%s: no banner to read the release from: pass --release", a.btf_path);
	if (!release_is_safe(release))
		die("unusable release \"%s\"", release);
	if (banner[0] == '\0') /* raw BTF and no --banner: record the release alone */
		snprintf(banner, sizeof(banner), "Linux version %s", release);

	struct out o = {0};
	write_profile(&o, btf, &a, banner, &ksyms, banner_addr);
	btf__free(btf);
	free(ksyms.buf);

	/* what we write must be what the monitor accepts */
	struct vmi_profile p;
	struct profile_error err;
	if (profile_parse(o.buf, o.len, &p, &err) != 0)
		die("the profile written would be refused: %s", err.message);
	if (strcmp(p.release, release) != 0)
		die("the profile's release reads back as \"%s\", not \"%s\"", p.release, release);

	char path[4096];
	size_t olen = strlen(a.out);
	if (olen > 5 && strcmp(a.out + olen - 5, ".json") == 0)
		snprintf(path, sizeof(path), "%s", a.out);
	else
		snprintf(path, sizeof(path), "%s%s%s.json", a.out,
			 a.out[olen - 1] == '/' ? "" : "/", release);
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	FILE *f = fopen(tmp, "w");
	if (f == NULL)
		die("%s: %s", tmp, strerror(errno));
	if (fwrite(o.buf, 1, o.len, f) != o.len || fclose(f) != 0)
		die("%s: write failed", tmp);
	if (rename(tmp, path) != 0)
		die("%s: %s", path, strerror(errno));
	free(o.buf);
	printf("%s: release %s, current task at per-CPU +%llu, task_struct %u bytes "
	       "(tasks +%u, pid +%u, tgid +%u, comm +%u), %u symbols\n",
	       path, p.release, (unsigned long long)p.percpu_current_task, p.task_struct_size,
	       p.task_tasks, p.task_pid, p.task_tgid, p.task_comm, p.symbols);
	return 0;
}
