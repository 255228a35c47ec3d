/* SPDX-License-Identifier: MIT */
/* The running kernel's image located from IA32_LSTAR (vmi/kimage.h). */
#include "vmi/kimage.h"

#include "lib/fmt.h"

static bool in_image_area(uint64_t va)
{
	return va >= KIMAGE_MAP_START && va - KIMAGE_MAP_START < KIMAGE_MAP_SIZE;
}

uint64_t kimage_symbol(const struct vmi_profile *p, const struct kimage *ki, enum ksym s)
{
	if ((unsigned)s >= KSYM_COUNT || p->ksym[s] == 0)
		return 0;
	return p->ksym[s] + (uint64_t)ki->slide;
}

bool kimage_locate(const struct vmi_profile *p, uint64_t lstar, struct kimage *ki, char *why,
		   size_t cap)
{
	static const enum ksym needed[] = {
		KSYM_ENTRY_SYSCALL_64, KSYM_TEXT,      KSYM_STEXT, KSYM_ETEXT,
		KSYM_START_RODATA,     KSYM_END_RODATA};
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		if (p->ksym[needed[i]] == 0) {
			fmt_snprintf(why, cap,
				     "the profile has no kernel symbols (%s): remake it with "
				     "tools/mkprofile from the kernel's vmlinuz",
				     ksym_names[needed[i]]);
			return false;
		}
	}
	if (!(p->ksym[KSYM_TEXT] <= p->ksym[KSYM_STEXT] &&
	      p->ksym[KSYM_STEXT] <= p->ksym[KSYM_ENTRY_SYSCALL_64] &&
	      p->ksym[KSYM_ENTRY_SYSCALL_64] < p->ksym[KSYM_ETEXT] &&
	      p->ksym[KSYM_ETEXT] <= p->ksym[KSYM_START_RODATA] &&
	      p->ksym[KSYM_START_RODATA] < p->ksym[KSYM_END_RODATA] &&
	      in_image_area(p->ksym[KSYM_TEXT]) && in_image_area(p->ksym[KSYM_END_RODATA]))) {
		fmt_snprintf(why, cap, "the profile's image symbols are out of order");
		return false;
	}
	int64_t slide = (int64_t)(lstar - p->ksym[KSYM_ENTRY_SYSCALL_64]);
	uint64_t text = p->ksym[KSYM_TEXT] + (uint64_t)slide;
	uint64_t end = p->ksym[KSYM_END_RODATA] + (uint64_t)slide;
	if ((uint64_t)slide % KIMAGE_SLIDE_ALIGN != 0 || !in_image_area(text) ||
	    !in_image_area(end - 1) || end < text) {
		fmt_snprintf(why, cap,
			     "IA32_LSTAR 0x%llx is not entry_SYSCALL_64 (link-time 0x%llx) moved "
			     "by a 2 MiB multiple inside the kernel image area",
			     (unsigned long long)lstar,
			     (unsigned long long)p->ksym[KSYM_ENTRY_SYSCALL_64]);
		return false;
	}
	ki->slide = slide;
	ki->text_start = kimage_symbol(p, ki, KSYM_STEXT);
	ki->text_end = kimage_symbol(p, ki, KSYM_ETEXT);
	ki->rodata_start = kimage_symbol(p, ki, KSYM_START_RODATA);
	ki->rodata_end = kimage_symbol(p, ki, KSYM_END_RODATA);
	return true;
}
