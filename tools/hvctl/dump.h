/* A guest memory dump as QEMU's `dump-guest-memory` writes it (ELF core, paging off):
 * guest-physical RAM in PT_LOAD segments (p_paddr), and per vCPU an NT_PRSTATUS note and a
 * "QEMU" note holding QEMUCPUState (target/i386/arch_dump.c). */
#ifndef HVCTL_DUMP_H
#define HVCTL_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmi/vmi.h"

#define DUMP_RANGES_MAX 256u
#define DUMP_CPUS_MAX   64u

struct dump_range {
	uint64_t gpa;    /* p_paddr */
	uint64_t size;   /* p_filesz: what the file holds (the rest of p_memsz is not there) */
	uint64_t offset; /* p_offset */
};

struct dump_cpu {
	struct vmi_cpu cpu;
	bool has_qemu_state; /* CR3/CR4 and the segments come from a QEMU note */
	bool has_kernel_gs;  /* the QEMU note was new enough to carry kernel_gs_base */
	bool has_prstatus;
};

struct dump {
	const uint8_t *data; /* the whole file */
	size_t size;
	struct dump_range ranges[DUMP_RANGES_MAX];
	size_t nranges;
	struct dump_cpu cpus[DUMP_CPUS_MAX];
	size_t ncpus;
	size_t last; /* range of the last hit */
	/* set by dump_open */
	int fd;
	void *map;
};

/* Parses an ELF core in memory (not copied: data must outlive d). 0, or -1 with err. */
int dump_parse(const uint8_t *data, size_t size, struct dump *d, char *err, size_t errcap);
/* Maps the file read-only and parses it. 0, or -1 with err. */
int dump_open(const char *path, struct dump *d, char *err, size_t errcap);
void dump_close(struct dump *d);
/* struct vmi_mem's reader: ctx is the struct dump. */
int dump_read_phys(void *ctx, uint64_t gpa, void *buf, size_t n);

#endif
