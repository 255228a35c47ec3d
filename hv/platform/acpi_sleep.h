/* SPDX-License-Identifier: MIT */
/*
 * Where the guest would ask the platform to sleep (ACPI 6.x §4.8.3.2 PM1 Control, §4.8.3.7
 * Sleep Control, §7.4.2 \_Sx objects), found in the firmware's tables at start, so that the
 * monitor can refuse S1-S4: after S3 or S4 the firmware resumes the guest at its waking
 * vector without VMX, with the monitor gone (DESIGN §3). S5 (soft off) is let through when
 * its SLP_TYP is known: the machine powers off, nothing runs unmonitored.
 *
 * Pure over a reader of physical memory, so the host unit tests can drive it with fake
 * tables; the core reads memory directly.
 */
#ifndef HV_PLATFORM_ACPI_SLEEP_H
#define HV_PLATFORM_ACPI_SLEEP_H

#include <stdbool.h>
#include <stdint.h>

struct acpi_sleep {
	uint16_t pm1_cnt[2];   /* PM1a/PM1b control block I/O ports; 0 = none */
	uint16_t sleep_ctl;    /* hardware-reduced sleep control register I/O port; 0 = none */
	bool in_memory;        /* a sleep register is in memory space: not refused (README) */
	bool s5_known;         /* \_S5 found in the DSDT */
	uint8_t s5_slp_typ[2]; /* its SLP_TYPa, SLP_TYPb */
	char error[96];        /* why nothing was found */
};

/* ACPI §4.8.3.2.1 Table 4-13: PM1 control register fields. */
#define PM1_CNT_SLP_TYP_SHIFT 10u
#define PM1_CNT_SLP_TYP_MASK  (7u << PM1_CNT_SLP_TYP_SHIFT)
#define PM1_CNT_SLP_EN        (1u << 13)
/* §4.8.3.7 Table 4-22: sleep control register (hardware-reduced). */
#define SLEEP_CTL_SLP_TYP_SHIFT 2u
#define SLEEP_CTL_SLP_TYP_MASK  (7u << SLEEP_CTL_SLP_TYP_SHIFT)
#define SLEEP_CTL_SLP_EN        (1u << 5)

/* Reads len bytes of physical memory at pa; false when it cannot. */
typedef bool (*acpi_read_fn)(void *ctx, uint64_t pa, void *buf, uint32_t len);

/* Fills `out` from the tables the RSDP at `rsdp` leads to. False (out->error says why)
 * when there is no usable FADT; the ports found before that stay filled. */
bool acpi_sleep_find(acpi_read_fn read, void *ctx, uint64_t rsdp, struct acpi_sleep *out);

/* Which sleep register a port belongs to. */
enum acpi_sleep_reg { ACPI_SLEEP_PM1A, ACPI_SLEEP_PM1B, ACPI_SLEEP_CTL, ACPI_SLEEP_NONE };

/* The register (and the byte of it) that I/O port `port` is, or ACPI_SLEEP_NONE. */
enum acpi_sleep_reg acpi_sleep_reg_of(const struct acpi_sleep *s, uint16_t port,
				      unsigned int *byte);

/* May the guest write `value` to that register? Anything that does not set SLP_EN may;
 * with SLP_EN only S5 (its SLP_TYP known from \_S5) may. *slp_typ: the type asked for. */
bool acpi_sleep_write_allowed(const struct acpi_sleep *s, enum acpi_sleep_reg reg, uint32_t value,
			      uint8_t *slp_typ);

#endif
