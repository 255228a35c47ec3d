/* SPDX-License-Identifier: MIT */
/*
 * labacpi.efi — lab only (DESIGN §8). OVMF builds its ACPI tables from QEMU's fw_cfg, which
 * Bochs lacks, so under Bochs the guest gets no ACPI tables at all and Linux starts one CPU
 * whatever `cpu: count=` says. Run from startup.nsh before the kernel or hvboot.efi, this
 * installs the few tables Linux needs to find every CPU and keep the PC's legacy devices:
 *
 *   FACS, a DSDT with only \_S3 and \_S5, a FADT (PIIX4 PM1 blocks and PM timer, where
 *   the firmware put them; SMI_CMD = 0: already in ACPI mode) and a MADT (one Processor
 *   Local APIC per CPU that EFI_MP_SERVICES_PROTOCOL reports, the IO-APIC, ISA IRQ 0 ->
 *   GSI 2, the SCI).
 *
 * EFI_ACPI_TABLE_PROTOCOL (edk2's AcpiTableDxe) copies each table into ACPI reclaim (FACS:
 * ACPI NVS) memory below 4 GiB, computes its checksum, points the FADT at the FACS and
 * DSDT, builds and checksums RSDP/RSDT/XSDT and publishes the RSDP as a configuration table,
 * where Linux's EFI stub finds it. A machine that already has ACPI tables is left alone.
 */
#include <efi.h>
#include <efilib.h>

#include <stdint.h>

/* ---- protocols gnu-efi does not define */

/* UEFI 2.10 §20.2 EFI_ACPI_TABLE_PROTOCOL */
#include "boot/mp_services.h"

#define EFI_ACPI_TABLE_PROTOCOL_GUID                                                               \
	{                                                                                          \
		0xffe06bdd, 0x6107, 0x46a6,                                                        \
		{                                                                                  \
			0x7b, 0xb2, 0x5a, 0x9c, 0x7e, 0xc5, 0x27, 0x5c                             \
		}                                                                                  \
	}
typedef struct _EFI_ACPI_TABLE_PROTOCOL {
	EFI_STATUS(EFIAPI *InstallAcpiTable)
	(struct _EFI_ACPI_TABLE_PROTOCOL *This, VOID *AcpiTableBuffer, UINTN AcpiTableBufferSize,
	 UINTN *TableKey);
	EFI_STATUS(EFIAPI *UninstallAcpiTable)
	(struct _EFI_ACPI_TABLE_PROTOCOL *This, UINTN TableKey);
} EFI_ACPI_TABLE_PROTOCOL;

static EFI_GUID acpi_table_protocol_guid = EFI_ACPI_TABLE_PROTOCOL_GUID;
static EFI_GUID mp_services_protocol_guid = EFI_MP_SERVICES_PROTOCOL_GUID;
static EFI_GUID acpi20_guid = ACPI_20_TABLE_GUID;
static EFI_GUID acpi10_guid = ACPI_TABLE_GUID;

/* ---- ACPI 6.5 table layouts */

struct acpi_header { /* §5.2.6 */
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum; /* filled in by InstallAcpiTable */
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_header) == 36, "ACPI §5.2.6");

struct acpi_gas { /* §5.2.3.2 Generic Address Structure */
	uint8_t space_id, bit_width, bit_offset, access_size;
	uint64_t address;
} __attribute__((packed));

struct acpi_facs { /* §5.2.10; no checksum */
	char signature[4];
	uint32_t length;
	uint32_t hardware_signature;
	uint32_t firmware_waking_vector;
	uint32_t global_lock;
	uint32_t flags;
	uint64_t x_firmware_waking_vector;
	uint8_t version;
	uint8_t reserved[3];
	uint32_t ospm_flags;
	uint8_t reserved2[24];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_facs) == 64, "ACPI §5.2.10");

/* §5.2.9, the ACPI 3.0 layout (revision 4, 244 bytes): the 32-bit block addresses only,
 * ACPICA derives the X_ fields from them. */
struct acpi_fadt {
	struct acpi_header header;
	uint32_t firmware_ctrl, dsdt; /* set by InstallAcpiTable */
	uint8_t reserved0, preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk, pm2_cnt_blk;
	uint32_t pm_tmr_blk, gpe0_blk, gpe1_blk;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	uint8_t gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t fadt_minor_version;
	uint64_t x_firmware_ctrl, x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
} __attribute__((packed));
_Static_assert(__builtin_offsetof(struct acpi_fadt, iapc_boot_arch) == 109, "ACPI §5.2.9");
_Static_assert(__builtin_offsetof(struct acpi_fadt, x_pm1a_evt_blk) == 148, "ACPI §5.2.9");
_Static_assert(sizeof(struct acpi_fadt) == 244, "ACPI §5.2.9");

#define FADT_WBINVD         (1u << 0)
#define FADT_PROC_C1        (1u << 2)
#define FADT_PWR_BUTTON     (1u << 4) /* no fixed-feature power button: no event to enable */
#define FADT_SLP_BUTTON     (1u << 5)
#define IAPC_LEGACY_DEVICES (1u << 0)
#define IAPC_8042           (1u << 1)

/* §5.2.12 MADT and its interrupt controller structures */
#define MADT_PCAT_COMPAT           1u /* dual 8259s are present */
#define MADT_LOCAL_APIC            0
#define MADT_IO_APIC               1
#define MADT_INTERRUPT_OVERRIDE    2
#define MADT_LOCAL_APIC_NMI        4
#define LOCAL_APIC_ENABLED         1u
#define MPS_INTI_CONFORMS          0x0u
#define MPS_INTI_ACTIVE_HIGH_LEVEL 0xdu /* polarity 01, trigger mode 11 (§5.2.12.5) */
#define MPS_INTI_ACTIVE_HIGH_EDGE  0x5u
#define MADT_ALL_PROCESSORS        0xffu
#define MAX_CPUS                   64u

/* ---- the PC this runs on */

#define IA32_APIC_BASE      0x1bu
#define IO_APIC_BASE        0xfec00000u /* the 82093AA's default; Bochs does not move it */
#define IO_APIC_ID_REG      0x00u
#define IO_APIC_VERSION_REG 0x01u
#define PM_TIMER_HZ         3579545u
/* PIIX4 datasheet §3.4 (function 3, power management): device 8086:7113, PMBA at 0x40,
 * PMREGMISC bit 0 enables the I/O space. Bochs' i440fx puts it at 00:01.3. */
#define PIIX4_PM_BDF       ((0u << 16) | (1u << 11) | (3u << 8))
#define PIIX4_PM_ID        0x71138086u
#define PIIX4_PMBA         0x40u
#define PIIX4_PMREGMISC    0x80u
#define PCI_INTERRUPT_LINE 0x3cu
#define PIIX4_PM1_EVT      0x00u /* offsets in the PM I/O block */
#define PIIX4_PM1_CNT      0x04u
#define PIIX4_PM_TMR       0x08u
#define ISA_IRQ_TIMER      0
#define GSI_TIMER          2 /* the 8254 is wired to IO-APIC pin 2 on a PC (and in Bochs) */

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

/* PCI configuration mechanism #1 (PCI 3.0 §3.2.2.3.2) */
static uint32_t pci_read32(uint32_t bdf, uint32_t reg)
{
	outl(0xcf8, 0x80000000u | bdf | (reg & 0xfcu));
	return inl(0xcfc);
}

static uint32_t io_apic_read(uint32_t reg)
{
	volatile uint32_t *io_apic = (volatile uint32_t *)(uintptr_t)IO_APIC_BASE;
	io_apic[0] = reg;  /* IOREGSEL */
	return io_apic[4]; /* IOWIN, at +0x10 */
}

static void fill_header(struct acpi_header *h, const char *signature, uint32_t length,
			uint8_t revision)
{
	CopyMem(h->signature, (VOID *)signature, 4);
	h->length = length;
	h->revision = revision;
	CopyMem(h->oem_id, "CTRVSR", 6);
	CopyMem(h->oem_table_id, "LABACPI ", 8);
	h->oem_revision = 1;
	CopyMem(h->creator_id, "CTRV", 4);
	h->creator_revision = 1;
}

struct platform {
	uint32_t apic_ids[MAX_CPUS]; /* the BSP first */
	uint32_t cpus;
	uint32_t local_apic_base;
	int io_apic_present;
	uint8_t io_apic_id;
	uint16_t pm_base; /* 0: no PIIX4 power management I/O block */
	uint8_t sci_irq;
};

/* CPUID.01H:EBX[31:24]: the initial APIC ID of the CPU running this. */
static uint32_t this_cpu_apic_id(void)
{
	uint32_t eax = 1, ebx, ecx = 0, edx;
	__asm__ volatile("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
	return ebx >> 24;
}

/* The CPUs as the firmware's MP services found them; without them, the BSP alone. */
static void find_cpus(struct platform *p)
{
	EFI_MP_SERVICES_PROTOCOL *mp = NULL;
	UINTN count = 0, enabled = 0;
	EFI_STATUS s = uefi_call_wrapper(BS->LocateProtocol, 3, &mp_services_protocol_guid, NULL,
					 (VOID **)&mp);
	if (!EFI_ERROR(s))
		s = uefi_call_wrapper(mp->GetNumberOfProcessors, 3, mp, &count, &enabled);
	if (EFI_ERROR(s) || count == 0) {
		p->apic_ids[0] = this_cpu_apic_id();
		p->cpus = 1;
		Print(L"labacpi: no MP services (%r): describing the boot CPU alone\r\n", s);
		return;
	}
	p->cpus = 1; /* slot 0 is kept for the BSP */
	int bsp_seen = 0;
	for (UINTN i = 0; i < count; i++) {
		EFI_PROCESSOR_INFORMATION info;
		SetMem(&info, sizeof(info), 0);
		if (EFI_ERROR(uefi_call_wrapper(mp->GetProcessorInfo, 3, mp, i, &info)) ||
		    !(info.StatusFlag & PROCESSOR_ENABLED_BIT) || info.ProcessorId > 0xfe)
			continue; /* 0xff and above would need x2APIC structures */
		if (info.StatusFlag & PROCESSOR_AS_BSP_BIT) {
			p->apic_ids[0] = (uint32_t)info.ProcessorId;
			bsp_seen = 1;
		} else if (p->cpus < MAX_CPUS) {
			p->apic_ids[p->cpus++] = (uint32_t)info.ProcessorId;
		} else {
			Print(L"labacpi: more than %d CPUs: CPU %ld left out\r\n", MAX_CPUS, i);
		}
	}
	if (!bsp_seen)
		p->apic_ids[0] = this_cpu_apic_id();
}

static void find_platform(struct platform *p)
{
	find_cpus(p);
	p->local_apic_base = (uint32_t)(rdmsr(IA32_APIC_BASE) & 0xfffff000u);

	uint32_t version = io_apic_read(IO_APIC_VERSION_REG);
	p->io_apic_present = version != 0xffffffffu && version != 0;
	p->io_apic_id = (uint8_t)((io_apic_read(IO_APIC_ID_REG) >> 24) & 0x0f);

	p->pm_base = 0;
	if (pci_read32(PIIX4_PM_BDF, 0) == PIIX4_PM_ID &&
	    (pci_read32(PIIX4_PM_BDF, PIIX4_PMREGMISC) & 1u)) {
		p->pm_base = (uint16_t)(pci_read32(PIIX4_PM_BDF, PIIX4_PMBA) & 0xffc0u);
		uint8_t line = (uint8_t)pci_read32(PIIX4_PM_BDF, PCI_INTERRUPT_LINE);
		/* The SCI is the function's PCI interrupt, routed where the firmware says. */
		p->sci_irq = (line >= 1 && line <= 15) ? line : 9;
	}
}

/* PM timer ticks over 10 ms of Stall(): PM_TIMER_HZ / 100 if the timer runs. */
static uint32_t pm_timer_ticks(uint16_t pm_base)
{
	uint32_t t0 = inl(pm_base + PIIX4_PM_TMR);
	uefi_call_wrapper(BS->Stall, 1, 10000);
	uint32_t t1 = inl(pm_base + PIIX4_PM_TMR);
	return (t1 - t0) & 0xffffffu; /* 24-bit counter */
}

static EFI_STATUS install(EFI_ACPI_TABLE_PROTOCOL *acpi, VOID *table, UINTN size)
{
	UINTN key;
	EFI_STATUS s = uefi_call_wrapper(acpi->InstallAcpiTable, 4, acpi, table, size, &key);
	if (EFI_ERROR(s))
		Print(L"labacpi: InstallAcpiTable(%.4a) failed: %r\r\n", (CHAR8 *)table, s);
	return s;
}

static EFI_STATUS install_fixed_tables(EFI_ACPI_TABLE_PROTOCOL *acpi, const struct platform *p)
{
	static struct acpi_facs facs;
	CopyMem(facs.signature, "FACS", 4);
	facs.length = sizeof(facs);
	facs.version = 2;

	/* A definition block with no devices (Linux falls back to its legacy probes), only the
	 * sleep types of the PIIX4 PM1 control register, as Bochs's own BIOS tables give them
	 * (S3: 1, S5: 0), so the guest can try S3 and power off (§7.4.2; AML §20.2.5.4-5):
	 *   Name (_S3_, Package () {One, One, Zero, Zero})
	 *   Name (_S5_, Package () {Zero, Zero, Zero, Zero})
	 * NameOp, the name, PackageOp, PkgLength (6), NumElements (4), four data objects. */
	static struct {
		struct acpi_header header;
		uint8_t aml[24];
	} __attribute__((packed)) dsdt = {
		.aml = {0x08, '_', 'S', '3', '_', 0x12, 0x06, 0x04, 0x01, 0x01, 0x00, 0x00,
			0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00},
	};
	fill_header(&dsdt.header, "DSDT", sizeof(dsdt), 2);

	static struct acpi_fadt fadt;
	fill_header(&fadt.header, "FACP", sizeof(fadt), 4);
	fadt.sci_int = p->sci_irq;
	fadt.smi_cmd = 0; /* no SMI command port: the machine is in ACPI mode (§4.8.3.2.1) */
	fadt.pm1a_evt_blk = p->pm_base + PIIX4_PM1_EVT;
	fadt.pm1_evt_len = 4;
	fadt.pm1a_cnt_blk = p->pm_base + PIIX4_PM1_CNT;
	fadt.pm1_cnt_len = 2;
	fadt.pm_tmr_blk = p->pm_base + PIIX4_PM_TMR;
	fadt.pm_tmr_len = 4;
	fadt.p_lvl2_lat = 101;  /* > 100: no C2 */
	fadt.p_lvl3_lat = 1001; /* > 1000: no C3 */
	fadt.century = 0x32;    /* the CMOS century byte */
	fadt.iapc_boot_arch = IAPC_LEGACY_DEVICES | IAPC_8042;
	fadt.flags = FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON;

	EFI_STATUS s = install(acpi, &facs, sizeof(facs));
	if (!EFI_ERROR(s))
		s = install(acpi, &dsdt, sizeof(dsdt));
	if (!EFI_ERROR(s))
		s = install(acpi, &fadt, sizeof(fadt));
	return s;
}

/* MADT: appends one interrupt controller structure of `length` bytes and returns it. */
static uint8_t *madt_add(uint8_t *madt, uint32_t *used, uint8_t type, uint8_t length)
{
	uint8_t *e = madt + *used;
	e[0] = type;
	e[1] = length;
	*used += length;
	return e;
}

static void put16(uint8_t *at, uint16_t v)
{
	CopyMem(at, &v, 2);
}

static void put32(uint8_t *at, uint32_t v)
{
	CopyMem(at, &v, 4);
}

static EFI_STATUS install_madt(EFI_ACPI_TABLE_PROTOCOL *acpi, const struct platform *p)
{
	static uint8_t madt[sizeof(struct acpi_header) + 8 + MAX_CPUS * 8 + 12 + 2 * 10 + 6];
	uint32_t used = sizeof(struct acpi_header);
	put32(madt + used, p->local_apic_base);
	put32(madt + used + 4, MADT_PCAT_COMPAT);
	used += 8;

	for (uint32_t i = 0; i < p->cpus; i++) {
		uint8_t *e = madt_add(madt, &used, MADT_LOCAL_APIC, 8);
		e[2] = (uint8_t)i; /* ACPI processor UID */
		e[3] = (uint8_t)p->apic_ids[i];
		put32(e + 4, LOCAL_APIC_ENABLED);
	}
	if (p->io_apic_present) {
		uint8_t *e = madt_add(madt, &used, MADT_IO_APIC, 12);
		e[2] = p->io_apic_id;
		put32(e + 4, IO_APIC_BASE);
		put32(e + 8, 0); /* global system interrupt base */

		e = madt_add(madt, &used, MADT_INTERRUPT_OVERRIDE, 10);
		e[2] = 0; /* ISA */
		e[3] = ISA_IRQ_TIMER;
		put32(e + 4, GSI_TIMER);
		put16(e + 8, MPS_INTI_CONFORMS);
		if (p->pm_base) {
			/* The SCI is level triggered; as a PCI interrupt in Bochs it is high. */
			e = madt_add(madt, &used, MADT_INTERRUPT_OVERRIDE, 10);
			e[2] = 0;
			e[3] = p->sci_irq;
			put32(e + 4, p->sci_irq);
			put16(e + 8, MPS_INTI_ACTIVE_HIGH_LEVEL);
		}
	}
	/* LINT1 of every local APIC is the NMI input, as on every PC. */
	uint8_t *e = madt_add(madt, &used, MADT_LOCAL_APIC_NMI, 6);
	e[2] = MADT_ALL_PROCESSORS;
	put16(e + 3, MPS_INTI_ACTIVE_HIGH_EDGE);
	e[5] = 1;

	fill_header((struct acpi_header *)madt, "APIC", used, 3);
	return install(acpi, madt, used);
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	InitializeLib(image, systab);

	VOID *rsdp = NULL;
	if (!EFI_ERROR(LibGetSystemConfigurationTable(&acpi20_guid, &rsdp)) ||
	    !EFI_ERROR(LibGetSystemConfigurationTable(&acpi10_guid, &rsdp))) {
		Print(L"labacpi: the firmware has ACPI tables (RSDP at 0x%lx): nothing to do\r\n",
		      (UINT64)(UINTN)rsdp);
		return EFI_SUCCESS;
	}

	EFI_ACPI_TABLE_PROTOCOL *acpi = NULL;
	EFI_STATUS s = uefi_call_wrapper(BS->LocateProtocol, 3, &acpi_table_protocol_guid, NULL,
					 (VOID **)&acpi);
	if (EFI_ERROR(s)) {
		Print(L"labacpi: no EFI_ACPI_TABLE_PROTOCOL (%r): no tables installed\r\n", s);
		return s;
	}

	static struct platform p;
	find_platform(&p);

	if (p.pm_base) {
		s = install_fixed_tables(acpi, &p);
		if (EFI_ERROR(s))
			return s;
		Print(L"labacpi: FADT: PM1 at 0x%x, PM timer at 0x%x (%d ticks in 10 ms, %d "
		      L"expected), SCI IRQ %d\r\n",
		      p.pm_base, p.pm_base + PIIX4_PM_TMR, pm_timer_ticks(p.pm_base),
		      PM_TIMER_HZ / 100, p.sci_irq);
	} else {
		/* Linux still reads the MADT without a FADT (then it turns ACPI off later). */
		Print(L"labacpi: no PIIX4 power management function at 00:01.3: MADT only\r\n");
	}

	s = install_madt(acpi, &p);
	if (EFI_ERROR(s))
		return s;
	Print(L"labacpi: MADT: %d CPU(s), APIC IDs", p.cpus);
	for (uint32_t i = 0; i < p.cpus; i++)
		Print(L" %d", p.apic_ids[i]);
	if (p.io_apic_present)
		Print(L"; IO-APIC id %d at 0x%x", p.io_apic_id, IO_APIC_BASE);
	else
		Print(L"; no IO-APIC");
	Print(L"; local APIC at 0x%x\r\n", p.local_apic_base);
	return EFI_SUCCESS;
}
