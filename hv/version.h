/* SPDX-License-Identifier: MIT */
#ifndef HV_VERSION_H
#define HV_VERSION_H

#define HV_NAME    "ctrvisor"
#define HV_VERSION "0.1.0"
/* CPUID 0x40000000 EBX:ECX:EDX, 12 bytes: how a guest can tell it runs on us. */
#define HV_CPUID_SIGNATURE "CtrVisorVMM!"

#endif
