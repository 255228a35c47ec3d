/* SPDX-License-Identifier: MIT */
/*
 * Which edition of the Intel SDM the section numbers in hv/ refer to.
 *
 * "SDM 24.6.1" means Intel 64 and IA-32 Architectures Software Developer's Manual,
 * Volume 3 (3A-3D), Order Number 325384-070 (May 2019) and the editions with the same
 * chapter layout: ch. 23 VMX introduction, 24 VMCS, 25 VMX non-root operation,
 * 26 VM entries, 27 VM exits, 28 VMX support for address translation (EPT),
 * 30 VMX instruction reference, 31 VMM considerations, appendices A (capability
 * MSRs), B (field encodings), C (exit reasons). Later editions shifted these
 * chapters by one; the section titles quoted next to each number are stable.
 */
#ifndef HV_X86_SDM_H
#define HV_X86_SDM_H
#endif
