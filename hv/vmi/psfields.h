/* SPDX-License-Identifier: MIT */
/*
 * The fields of `ps --fields a,b,c` and the compact format (docs/console-protocol.md,
 * "Asking for less"): which fields a listing shows, what each needs read, and one
 * process's values as text columns, compact (tab-separated) values or JSON members.
 * Shared by the monitor's console and hvctl --dump, like report.c.
 */
#ifndef HV_VMI_PSFIELDS_H
#define HV_VMI_PSFIELDS_H

#include "console/cmd.h"
#include "vmi/vmi.h"

enum vmi_format { VMI_FORMAT_TEXT, VMI_FORMAT_JSON, VMI_FORMAT_COMPACT };

#define VMI_PS_FIELDS_MAX 16u
struct vmi_ps_fields {
	uint8_t id[VMI_PS_FIELDS_MAX];
	uint8_t n; /* 0: the verb's default listing */
};

/* The field names, comma-separated, for messages and help. */
extern const char vmi_ps_field_names[];

/* "a,b,c" into f (each name once, at most VMI_PS_FIELDS_MAX): 0, or -1 with why. */
int vmi_ps_fields_parse(const char *list, struct vmi_ps_fields *f, char *why, size_t cap);
/* The compact format's default: the text listing's columns. */
void vmi_ps_fields_default(struct vmi_ps_fields *f);
/* What vmi_process_read must read for them (VMI_READ_*); `container` needs NS and CGROUP. */
uint32_t vmi_ps_fields_reads(const struct vmi_ps_fields *f);

/* The header line (text: column names; compact: "#" and the names, tab-separated). */
void vmi_ps_fields_header(struct reply *r, const struct vmi_ps_fields *f, enum vmi_format fmt);
/* One process: a text or compact line, or (JSON) one object with those members only.
 * c: its container, or NULL. */
void vmi_ps_fields_row(struct reply *r, const struct vmi_process *p, const struct vmi_container *c,
		       const struct vmi_ps_fields *f, enum vmi_format fmt);

/* s in the compact format: '\\' '\t' '\n' '\r' escaped as \\ \t \n \r, '#' and other bytes
 * outside 0x20..0x7e as \xHH (so no row starts like a "#" line); NULL (unknown) as \N. */
void vmi_compact_string(struct reply *r, const char *s);

#endif
