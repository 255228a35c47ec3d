/* SPDX-License-Identifier: MIT */
/* System descriptors the monitor builds for itself: the 64-bit TSS and IDT gates. */
#ifndef HV_X86_DESC_H
#define HV_X86_DESC_H

#include <stdint.h>

/* SDM Vol. 3A 7.7 "Task Management in 64-bit Mode", Figure 7-11: the 64-bit TSS. */
struct __attribute__((packed)) tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
};

/* SDM Vol. 3A 6.14.1 "64-Bit Mode IDT", Figure 6-7 */
struct __attribute__((packed)) idt_gate64 {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
};

#define X86_IDT_HOST_VECTORS 32u /* the exceptions (SDM Vol. 3A 6.3.1, Table 6-1) */

#endif
