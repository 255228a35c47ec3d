/* SPDX-License-Identifier: MIT */
/* EFI_MP_SERVICES_PROTOCOL (UEFI Platform Initialization Specification, Vol. 2, 13.4),
 * which gnu-efi does not declare: the firmware's way to run code on the other CPUs. */
#ifndef BOOT_MP_SERVICES_H
#define BOOT_MP_SERVICES_H

#include <efi.h>

#define EFI_MP_SERVICES_PROTOCOL_GUID                                                              \
	{                                                                                          \
		0x3fdda605, 0xa76e, 0x4f46,                                                        \
		{                                                                                  \
			0xad, 0x29, 0x12, 0xf4, 0x53, 0x1b, 0x3d, 0x08                             \
		}                                                                                  \
	}

typedef struct _EFI_MP_SERVICES_PROTOCOL EFI_MP_SERVICES_PROTOCOL;
typedef VOID(EFIAPI *EFI_AP_PROCEDURE)(VOID *ProcedureArgument);

typedef struct {
	UINT64 ProcessorId; /* the local APIC ID */
	UINT32 StatusFlag;  /* bit 0: BSP, bit 1: enabled, bit 2: healthy */
	struct {
		UINT32 Package, Core, Thread;
	} Location;
	UINT32 ExtendedInformation[6]; /* PI 1.7: written only when asked for (bit 24) */
} EFI_PROCESSOR_INFORMATION;

#define PROCESSOR_AS_BSP_BIT        0x1u
#define PROCESSOR_ENABLED_BIT       0x2u
#define PROCESSOR_HEALTH_STATUS_BIT 0x4u

struct _EFI_MP_SERVICES_PROTOCOL {
	EFI_STATUS(EFIAPI *GetNumberOfProcessors)
	(EFI_MP_SERVICES_PROTOCOL *This, UINTN *NumberOfProcessors,
	 UINTN *NumberOfEnabledProcessors);
	EFI_STATUS(EFIAPI *GetProcessorInfo)
	(EFI_MP_SERVICES_PROTOCOL *This, UINTN ProcessorNumber,
	 EFI_PROCESSOR_INFORMATION *ProcessorInfoBuffer);
	EFI_STATUS(EFIAPI *StartupAllAPs)
	(EFI_MP_SERVICES_PROTOCOL *This, EFI_AP_PROCEDURE Procedure, BOOLEAN SingleThread,
	 EFI_EVENT WaitEvent, UINTN TimeoutInMicroSeconds, VOID *ProcedureArgument,
	 UINTN **FailedCpuList);
	EFI_STATUS(EFIAPI *StartupThisAP)
	(EFI_MP_SERVICES_PROTOCOL *This, EFI_AP_PROCEDURE Procedure, UINTN ProcessorNumber,
	 EFI_EVENT WaitEvent, UINTN TimeoutInMicroseconds, VOID *ProcedureArgument,
	 BOOLEAN *Finished);
	EFI_STATUS(EFIAPI *SwitchBSP)
	(EFI_MP_SERVICES_PROTOCOL *This, UINTN ProcessorNumber, BOOLEAN EnableOldBSP);
	EFI_STATUS(EFIAPI *EnableDisableAP)
	(EFI_MP_SERVICES_PROTOCOL *This, UINTN ProcessorNumber, BOOLEAN EnableAP,
	 UINT32 *HealthFlag);
	EFI_STATUS(EFIAPI *WhoAmI)(EFI_MP_SERVICES_PROTOCOL *This, UINTN *ProcessorNumber);
};

#endif
