/* SPDX-License-Identifier: MIT */
#include "platform/pci_guard.h"

#define PCI_DEVICES      32u
#define PCI_FUNCTIONS    8u
#define PCI_VENDOR_NONE  0xFFFFu
#define PCI_HEADER_TYPE  0x0Cu /* the dword holding it: bits 23:16, bit 23 multi-function */
#define PCI_BAR0         0x10u
#define PCI_BAR5         0x24u
#define PCI_DEVICE_SPACE 0x40u   /* device-specific registers: chipset base registers live here */
#define IO_BASE_MASK     0xFFFCu /* an I/O base register: bit 0 set, bits 31:16 zero */
#define PM_BLOCK_MAX     0x100u  /* the PM1 control register lies this close to the base */

static uint32_t address(uint32_t dev, uint32_t fn, uint32_t off)
{
	return PCI_CF8_ENABLE | (dev << 11) | (fn << 8) | (off & 0xFCu);
}

static bool decodes(uint32_t v, uint16_t port)
{
	if (!(v & 1u) || (v >> 16) != 0)
		return false;
	uint32_t base = v & IO_BASE_MASK;
	return base != 0 && port >= base && port - base < PM_BLOCK_MAX;
}

bool pci_guard_find(pci_read_fn read, void *ctx, uint16_t port, struct pci_guard *g)
{
	g->found = false;
	g->refused = 0;
	if (port == 0)
		return false;
	for (uint32_t dev = 0; dev < PCI_DEVICES; dev++) {
		for (uint32_t fn = 0; fn < PCI_FUNCTIONS; fn++) {
			uint32_t id = read(ctx, address(dev, fn, 0));
			if ((id & 0xFFFFu) == PCI_VENDOR_NONE) {
				if (fn == 0)
					break; /* no device */
				continue;
			}
			for (uint32_t off = PCI_BAR0; off < 0x100u; off += 4u) {
				if (off > PCI_BAR5 && off < PCI_DEVICE_SPACE)
					continue;
				uint32_t v = read(ctx, address(dev, fn, off));
				/* The closest base below the port: PM1_CNT sits a few bytes in. */
				if (decodes(v, port) &&
				    (!g->found || (v & IO_BASE_MASK) > (g->value & IO_BASE_MASK))) {
					g->found = true;
					g->cf8 = address(dev, fn, off);
					g->value = v;
				}
			}
			if (fn == 0 && !((read(ctx, address(dev, 0, PCI_HEADER_TYPE)) >> 23) & 1u))
				break; /* single-function device */
		}
	}
	return g->found;
}

bool pci_guard_write_allowed(const struct pci_guard *g, uint32_t cf8, uint16_t port,
			     unsigned int size, uint32_t value, uint32_t now)
{
	/* Bits 30:24 and 1:0 of CONFIG_ADDRESS are reserved (PCI 3.0 §3.2.2.3.2). */
	if (!g->found || !(cf8 & PCI_CF8_ENABLE) || (cf8 & 0x80FFFFFCu) != g->cf8)
		return true;
	unsigned int byte = (unsigned int)(port - PCI_CONFIG_DATA) & 3u;
	uint32_t next = now;
	for (unsigned int i = 0; i < size && byte + i < 4u; i++)
		next = (next & ~(0xFFu << (8 * (byte + i)))) |
		       (((value >> (8 * i)) & 0xFFu) << (8 * (byte + i)));
	/* The base and the I/O-space bit must stay; other bits of the dword may change. */
	return (next & (IO_BASE_MASK | 1u | 0xFFFF0000u)) ==
	       (g->value & (IO_BASE_MASK | 1u | 0xFFFF0000u));
}
