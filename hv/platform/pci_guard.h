/* SPDX-License-Identifier: MIT */
/*
 * The PCI configuration register that places the ACPI PM1 block in I/O space (PIIX4's PMBA,
 * ICH's ABASE, ...). A guest that moved it could put the PM1 control register at a port the
 * monitor does not watch and enter S3 there (platform/acpi_sleep.h). Found at start by
 * looking, on bus 0, for the I/O base register whose block holds PM1a_CNT; afterwards a
 * configuration write through ports 0xCF8/0xCFC (PCI Local Bus 3.0 §3.2.2.3.2,
 * "Configuration Mechanism #1") that would change that base is dropped.
 *
 * Pure over a configuration-space reader, for the host unit tests.
 */
#ifndef HV_PLATFORM_PCI_GUARD_H
#define HV_PLATFORM_PCI_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_CONFIG_ADDRESS 0xCF8u
#define PCI_CONFIG_DATA    0xCFCu
#define PCI_CF8_ENABLE     (1u << 31)

struct pci_guard {
	bool found;
	uint32_t cf8;     /* the register's CONFIG_ADDRESS (enable bit set, dword aligned) */
	uint32_t value;   /* its value at start */
	uint32_t refused; /* writes dropped */
};

/* Reads the configuration dword at CONFIG_ADDRESS `cf8`. */
typedef uint32_t (*pci_read_fn)(void *ctx, uint32_t cf8);

/* Looks on bus 0 for the I/O base register (in a BAR or in 0x40-0xFC) whose block holds
 * `port` (PM1a_CNT). */
bool pci_guard_find(pci_read_fn read, void *ctx, uint16_t port, struct pci_guard *g);

/* A write of `size` bytes of `value` at data port `port` (0xCFC-0xCFF) while
 * CONFIG_ADDRESS holds `cf8`, over the register's current dword `now`: allowed unless it
 * hits the guarded register and changes its I/O base. */
bool pci_guard_write_allowed(const struct pci_guard *g, uint32_t cf8, uint16_t port,
			     unsigned int size, uint32_t value, uint32_t now);

#endif
