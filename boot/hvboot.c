/* SPDX-License-Identifier: MIT */
/*
 * hvboot.efi: reads \hv\hv.cfg from its own volume, places the monitor core (hv.elf) in
 * EfiReservedMemoryType pages, lets it virtualize this CPU, then chain-loads the Linux
 * kernel's EFI stub — which from then on runs as the guest (DESIGN §3).
 *
 * Fail closed: if anything goes wrong before the monitor runs, the kernel is not booted
 * unprotected unless hv.cfg says `allow_unprotected = yes`.
 */
#include <efi.h>
#include <efilib.h>

#include <stdarg.h>

#include "boot/bootcheck.h"
#include "boot/bootsig.h"
#include "boot/elfload.h"
#include "boot/entropy.h"
#include "boot/hvcfg.h"
#include "boot/mp_services.h"
#include "bootinfo.h"
#include "lib/hex.h"
#include "console/uart.h"
#include "lib/fmt.h"
#include "version.h"

#define CONFIG_PATH      "\\hv\\hv.cfg"
#define CORE_FILE_MAX    (16u * 1024u * 1024u)
#define PROFILE_FILE_MAX (16u * 1024u * 1024u) /* the core keeps a copy in its heap */
#define TSC_CALIBRATE_US 50000u
#define PAGE_4K          4096u

static EFI_GUID acpi20_guid = ACPI_20_TABLE_GUID;

static struct uart uart; /* the monitor console, while the loader still owns it */

/* Every message goes to the firmware console and, once known, to the monitor's UART. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	Print(L"%a", buf);
	uart_write_blocking(&uart, buf, (uint32_t)n);
}

static const char *status_text(EFI_STATUS s)
{
	switch (s) {
	case EFI_NOT_FOUND:
		return "not found";
	case EFI_OUT_OF_RESOURCES:
		return "out of resources";
	case EFI_ACCESS_DENIED:
		return "access denied";
	case EFI_SECURITY_VIOLATION:
		return "security violation (Secure Boot?)";
	case EFI_LOAD_ERROR:
		return "load error";
	case EFI_UNSUPPORTED:
		return "unsupported";
	case EFI_DEVICE_ERROR:
		return "device error";
	case EFI_VOLUME_CORRUPTED:
		return "volume corrupted";
	default:
		return "error";
	}
}

static CHAR16 *to_char16(const char *s)
{
	UINTN n = 0;
	while (s[n])
		n++;
	CHAR16 *w = AllocatePool((n + 1) * sizeof(CHAR16));
	if (w == NULL)
		return NULL;
	for (UINTN i = 0; i <= n; i++)
		w[i] = (CHAR16)(unsigned char)s[i];
	return w;
}

/* Open a file of the boot volume for reading. */
static EFI_STATUS open_file(EFI_FILE_HANDLE root, const char *path, EFI_FILE_HANDLE *f)
{
	CHAR16 *wpath = to_char16(path);
	if (wpath == NULL)
		return EFI_OUT_OF_RESOURCES;
	EFI_STATUS s = uefi_call_wrapper(root->Open, 5, root, f, wpath, EFI_FILE_MODE_READ, 0);
	FreePool(wpath);
	return s;
}

/* Read a whole file of the boot volume into pool memory. */
static EFI_STATUS read_file(EFI_FILE_HANDLE root, const char *path, UINTN max, void **data,
			    UINTN *size)
{
	EFI_FILE_HANDLE f;
	EFI_STATUS s = open_file(root, path, &f);
	if (EFI_ERROR(s))
		return s;
	EFI_FILE_INFO *info = LibFileInfo(f);
	if (info == NULL) {
		uefi_call_wrapper(f->Close, 1, f);
		return EFI_DEVICE_ERROR;
	}
	UINTN n = info->FileSize;
	FreePool(info);
	if (n > max) {
		uefi_call_wrapper(f->Close, 1, f);
		return EFI_BAD_BUFFER_SIZE;
	}
	void *buf = AllocatePool(n ? n : 1);
	if (buf == NULL) {
		uefi_call_wrapper(f->Close, 1, f);
		return EFI_OUT_OF_RESOURCES;
	}
	UINTN got = n;
	s = uefi_call_wrapper(f->Read, 3, f, &got, buf);
	uefi_call_wrapper(f->Close, 1, f);
	if (EFI_ERROR(s) || got != n) {
		FreePool(buf);
		return EFI_ERROR(s) ? s : EFI_DEVICE_ERROR;
	}
	*data = buf;
	*size = n;
	return EFI_SUCCESS;
}

static bool file_exists(EFI_FILE_HANDLE root, const char *path)
{
	EFI_FILE_HANDLE f;
	if (EFI_ERROR(open_file(root, path, &f)))
		return false;
	uefi_call_wrapper(f->Close, 1, f);
	return true;
}

static uint64_t rdtsc_loader(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t measure_tsc_hz(void)
{
	uint64_t t0 = rdtsc_loader();
	uefi_call_wrapper(BS->Stall, 1, TSC_CALIBRATE_US);
	uint64_t t1 = rdtsc_loader();
	return (t1 - t0) * (1000000u / TSC_CALIBRATE_US);
}

static void fill_memory_map(struct boot_info *bi)
{
	UINTN entries = 0, key, desc_size = 0;
	UINT32 desc_version;
	EFI_MEMORY_DESCRIPTOR *map = LibMemoryMap(&entries, &key, &desc_size, &desc_version);
	bi->mem_count = 0;
	if (map == NULL)
		return;
	for (UINTN i = 0; i < entries && bi->mem_count < BOOT_MEM_MAX; i++) {
		EFI_MEMORY_DESCRIPTOR *d = (EFI_MEMORY_DESCRIPTOR *)((UINT8 *)map + i * desc_size);
		struct boot_mem_range *r = &bi->mem[bi->mem_count++];
		r->base = d->PhysicalStart;
		r->pages = d->NumberOfPages;
		r->attribute = d->Attribute;
		r->efi_type = d->Type;
	}
	if (entries > BOOT_MEM_MAX)
		say("hvboot: note: memory map has %llu entries, the monitor keeps %u\r\n",
		    (unsigned long long)entries, BOOT_MEM_MAX);
	FreePool(map);
}

/* Fail closed: stay here (the message stays on screen and on the serial line). Only a
 * monitor that did not start can be overridden (allow_unprotected); a broken
 * configuration or a missing file cannot. */
static EFI_STATUS refuse(bool monitor_failed)
{
	if (monitor_failed)
		say("hvboot: NOT booting the kernel without the monitor. Fix the problem above, or "
		    "set `allow_unprotected = yes` in " CONFIG_PATH " to boot unprotected "
		    "anyway.\r\n");
	else
		say("hvboot: NOT booting the kernel without the monitor. Fix the problem "
		    "above.\r\n");
	say("hvboot: system halted.\r\n");
	for (;;)
		uefi_call_wrapper(BS->Stall, 1, 1000000);
	return EFI_ABORTED;
}

/* With an operator key built into this loader (boot/bootkey.h): \hv\hv.sig signed by it,
 * naming this hv.cfg, or no boot at all, whatever hv.cfg says (allow_unprotected is its
 * own line: a changed hv.cfg may say yes). Without a key: as before, said once. */
static bool signature_ok(EFI_FILE_HANDLE root, const void *config, UINTN config_size)
{
	if (!bootcheck_enabled()) {
		say("hvboot: no operator key is built into this loader: hv.cfg, the core and the "
		    "profile are not checked (docs/boot-signature.md)\r\n");
		return true;
	}
	void *sig = NULL;
	UINTN sig_size = 0;
	char why[160];
	EFI_STATUS s = read_file(root, BOOTSIG_PATH, BOOTSIG_MAX, &sig, &sig_size);
	int rc = bootcheck_begin(EFI_ERROR(s) ? NULL : sig, sig_size, config, config_size, why,
				 sizeof(why));
	if (!EFI_ERROR(s))
		FreePool(sig);
	if (rc != 0) {
		say("hvboot: the boot signature does not hold: %s (allow_unprotected does not "
		    "apply)\r\n",
		    why);
		return false;
	}
	say("hvboot: " CONFIG_PATH " matches its signature (" BOOTSIG_PATH ")\r\n");
	return true;
}

/* What the procedure on an AP needs, and what it says back. */
struct ap_call {
	hv_ap_entry_fn entry;
	uint32_t id;
	int rc;
	char error[BOOT_ERR_MAX];
};

/* Runs on the AP (EFI MP services): the core virtualizes it and it returns here as the
 * guest, or with the reason it could not. */
static VOID EFIAPI ap_procedure(VOID *arg)
{
	struct ap_call *c = arg;
	c->rc = c->entry(c->id, c->error, sizeof(c->error));
}

#define AP_TIMEOUT_US 10000000u

/* Every CPU but this one, virtualized by the core one at a time (DESIGN §3): a CPU the
 * monitor does not own is one the guest could wake and run outside it. Returns false,
 * having said why, when any cannot be. */
static bool start_aps(hv_ap_entry_fn entry)
{
	static EFI_GUID mp_guid = EFI_MP_SERVICES_PROTOCOL_GUID;
	EFI_MP_SERVICES_PROTOCOL *mp = NULL;
	EFI_STATUS s = uefi_call_wrapper(BS->LocateProtocol, 3, &mp_guid, NULL, (void **)&mp);
	if (EFI_ERROR(s) || mp == NULL) {
		say("hvboot: the firmware offers no EFI MP services (%s): the other CPUs cannot "
		    "be found and virtualized\r\n",
		    status_text(s));
		return false;
	}
	UINTN total = 0, enabled = 0, self = 0;
	s = uefi_call_wrapper(mp->GetNumberOfProcessors, 3, mp, &total, &enabled);
	if (!EFI_ERROR(s))
		s = uefi_call_wrapper(mp->WhoAmI, 2, mp, &self);
	if (EFI_ERROR(s)) {
		say("hvboot: EFI MP services cannot count the CPUs (%s)\r\n", status_text(s));
		return false;
	}
	if (enabled != total) {
		say("hvboot: %llu of %llu CPUs are disabled in the firmware: they cannot be "
		    "virtualized, and the guest could wake them\r\n",
		    (unsigned long long)(total - enabled), (unsigned long long)total);
		return false;
	}
	static struct ap_call call;
	uint32_t id = 1;
	for (UINTN n = 0; n < total; n++) {
		if (n == self)
			continue;
		call.entry = entry;
		call.id = id;
		call.rc = -1;
		call.error[0] = 0;
		s = uefi_call_wrapper(mp->StartupThisAP, 7, mp, ap_procedure, n, NULL,
				      AP_TIMEOUT_US, &call, NULL);
		if (EFI_ERROR(s) || call.rc != HV_START_OK) {
			say("hvboot: CPU %u (processor %llu) could not be virtualized: %s\r\n", id,
			    (unsigned long long)n, EFI_ERROR(s) ? status_text(s) : call.error);
			return false;
		}
		id++;
	}
	Print(L"hvboot: %u CPU%a virtualized\r\n", id, id == 1 ? "" : "s");
	return true;
}

/* What start_monitor achieved. */
enum monitor_start {
	MONITOR_NOT_STARTED, /* nothing runs: allow_unprotected may boot the kernel anyway */
	MONITOR_REFUSED,     /* the core is not the signed one: nothing runs, no override */
	MONITOR_RUNNING,     /* every CPU runs as its guest */
	/* This CPU runs under the monitor but another CPU could not be virtualized: the guest
	 * could wake that one and reach the monitor from it. Never booted, whatever
	 * allow_unprotected says. */
	MONITOR_PARTIAL,
};

/* Load the monitor and start it on every CPU. */
static enum monitor_start start_monitor(EFI_FILE_HANDLE root, const struct hv_config *cfg,
					void *profile, UINTN profile_size)
{
	void *file;
	UINTN file_size;
	EFI_STATUS s = read_file(root, cfg->core, CORE_FILE_MAX, &file, &file_size);
	if (EFI_ERROR(s)) {
		say("hvboot: cannot read the monitor core %s (%s): check `core` in " CONFIG_PATH
		    "\r\n",
		    cfg->core, status_text(s));
		/* signed: a core that is not there is not the signed one either (deleting it
		 * must not turn into an unprotected boot that hv.cfg allows) */
		return bootcheck_enabled() ? MONITOR_REFUSED : MONITOR_NOT_STARTED;
	}
	char why[160];
	if (bootcheck_enabled() &&
	    bootcheck_file(BOOTCHECK_CORE, file, file_size, why, sizeof(why)) != 0) {
		say("hvboot: %s: %s\r\n", cfg->core, why);
		FreePool(file);
		return MONITOR_REFUSED;
	}
	char err[ELFLOAD_ERR_MAX];
	struct elf_image_info info;
	if (elf_inspect(file, file_size, &info, err, sizeof(err)) < 0) {
		say("hvboot: %s is not a usable monitor core: %s\r\n", cfg->core, err);
		FreePool(file);
		return MONITOR_NOT_STARTED;
	}
	uint64_t region = info.image_size + (uint64_t)cfg->memory_mb * 1024u * 1024u;
	EFI_PHYSICAL_ADDRESS base = 0;
	/* Reserved: the OS never uses it, so the monitor survives ExitBootServices and
	 * Linux leaves it alone (DESIGN §3). */
	s = uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages, EfiReservedMemoryType,
			      region / PAGE_4K, &base);
	if (EFI_ERROR(s)) {
		say("hvboot: cannot allocate %llu KiB for the monitor (%s): lower `memory_mb`\r\n",
		    (unsigned long long)(region / 1024), status_text(s));
		FreePool(file);
		return MONITOR_NOT_STARTED;
	}
	if (elf_load(file, file_size, (void *)(uintptr_t)base, region, base, err, sizeof(err)) <
	    0) {
		say("hvboot: loading %s failed: %s\r\n", cfg->core, err);
		FreePool(file);
		uefi_call_wrapper(BS->FreePages, 2, base, region / PAGE_4K);
		return MONITOR_NOT_STARTED;
	}
	FreePool(file);

	struct boot_info *bi = AllocatePool(sizeof(*bi));
	if (bi == NULL) {
		say("hvboot: out of memory for the boot information\r\n");
		return MONITOR_NOT_STARTED;
	}
	ZeroMem(bi, sizeof(*bi));
	bi->magic = BOOT_INFO_MAGIC;
	bi->version = BOOT_INFO_VERSION;
	bi->size = sizeof(*bi);
	bi->core_base = base;
	bi->core_size = region;
	bi->image_size = info.image_size;
	bi->console_port = cfg->console_port;
	bi->console_baud = cfg->baud;
	bi->protect = cfg->protect;
	bi->allow_tracing = cfg->allow_tracing;
	bi->integrity_period_s = cfg->integrity_period_s;
	bi->helper_manual = cfg->helper_manual ? 1u : 0u;
	_Static_assert(sizeof(bi->operator_key) == sizeof(cfg->operator_key), "one key length");
	bi->operator_key_set = cfg->operator_key_set ? 1u : 0u;
	CopyMem(bi->operator_key, (void *)cfg->operator_key, sizeof(bi->operator_key));
	entropy_fill(bi);
	bi->tsc_hz = measure_tsc_hz();
	void *rsdp = NULL;
	if (!EFI_ERROR(LibGetSystemConfigurationTable(&acpi20_guid, &rsdp)))
		bi->acpi_rsdp = (uint64_t)(uintptr_t)rsdp;
	bi->profile_addr = (uint64_t)(uintptr_t)profile;
	bi->profile_size = profile_size;
	fill_memory_map(bi);

	say("hvboot: starting the monitor at 0x%llx (%llu KiB)\r\n", (unsigned long long)base,
	    (unsigned long long)(region / 1024));
	hv_start_fn hv_start = (hv_start_fn)(uintptr_t)(base + info.entry);
	uint64_t flags;
	__asm__ volatile("pushfq; popq %0" : "=r"(flags));
	int rc = hv_start(bi);
	mem_wipe(bi->channel_seed, sizeof(bi->channel_seed)); /* before bi goes back */
	/* On success the core returns with interrupts off (see hv/core/entry.c): restore
	 * ours now that we run our own code again. */
	if (flags & (1u << 9))
		__asm__ volatile("sti" ::: "memory");
	if (rc != HV_START_OK) {
		/* The monitor's UART is ours again: the monitor did not start. */
		say("hvboot: the monitor did not start (status %d): %s\r\n", rc, bi->error);
		FreePool(bi);
		return MONITOR_NOT_STARTED;
	}
	/* From here on this code runs as the guest: the monitor's console ports are
	 * intercepted, so messages go to the firmware console only. */
	uart.present = false;
	Print(L"hvboot: running under %a %a\r\n", HV_NAME, HV_VERSION);
	hv_ap_entry_fn ap_entry = (hv_ap_entry_fn)(uintptr_t)bi->ap_entry;
	FreePool(bi);
	return start_aps(ap_entry) ? MONITOR_RUNNING : MONITOR_PARTIAL;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	InitializeLib(image, systab);
	Print(L"hvboot: %a %a loader\r\n", HV_NAME, HV_VERSION);

	EFI_LOADED_IMAGE *li;
	EFI_STATUS s =
		uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol, (void **)&li);
	if (EFI_ERROR(s)) {
		say("hvboot: cannot find my own boot volume (%s)\r\n", status_text(s));
		return refuse(false);
	}
	EFI_FILE_HANDLE root = LibOpenRoot(li->DeviceHandle);
	if (root == NULL) {
		say("hvboot: cannot open my boot volume's file system\r\n");
		return refuse(false);
	}

	void *text;
	UINTN text_size;
	s = read_file(root, CONFIG_PATH, HVCFG_FILE_MAX, &text, &text_size);
	if (EFI_ERROR(s)) {
		say("hvboot: cannot read " CONFIG_PATH " (%s): put the configuration there "
		    "(see README, `hv.cfg`)\r\n",
		    status_text(s));
		return refuse(false);
	}
	static struct hv_config cfg;
	struct hvcfg_error cerr;
	int prc = hvcfg_parse(text, text_size, &cfg, &cerr);
	if (prc < 0) {
		FreePool(text);
		if (cerr.line)
			say("hvboot: " CONFIG_PATH " line %u: %s\r\n", cerr.line, cerr.message);
		else
			say("hvboot: " CONFIG_PATH ": %s\r\n", cerr.message);
		return refuse(false); /* no config: not even allow_unprotected is known */
	}
	uart_init(&uart, cfg.console_port, cfg.baud);
	/* nothing of the configuration is used before this (its console only says why) */
	bool signed_ok = signature_ok(root, text, text_size);
	FreePool(text);
	if (!signed_ok)
		return refuse(false);

	/* Everything the kernel needs is checked before virtualizing, so that a typo
	 * never leaves a running monitor with nothing to boot. */
	CHAR16 *kpath = to_char16(cfg.kernel);
	EFI_DEVICE_PATH *kdp = kpath ? FileDevicePath(li->DeviceHandle, kpath) : NULL;
	EFI_HANDLE kernel = NULL;
	s = kdp ? uefi_call_wrapper(BS->LoadImage, 6, FALSE, image, kdp, NULL, 0, &kernel)
		: EFI_OUT_OF_RESOURCES;
	if (EFI_ERROR(s)) {
		say("hvboot: cannot load the kernel %s (%s): check `kernel` in " CONFIG_PATH "\r\n",
		    cfg.kernel, status_text(s));
		return refuse(false);
	}
	if (cfg.initrd[0] && !file_exists(root, cfg.initrd)) {
		say("hvboot: the initrd %s is not on the boot volume: check `initrd` "
		    "in " CONFIG_PATH "\r\n",
		    cfg.initrd);
		return refuse(false);
	}
	/* The EFI stub reads `initrd=` paths from the volume it was loaded from. */
	static char options[HVCFG_CMDLINE_MAX + HVCFG_PATH_MAX + 16];
	/* Every CPU the firmware reported runs under the monitor by now (start_aps()): the
	 * kernel may start them all, and the command line is the configuration's. */
	if (cfg.initrd[0])
		fmt_snprintf(options, sizeof(options), "initrd=%s %s", cfg.initrd, cfg.cmdline);
	else
		fmt_snprintf(options, sizeof(options), "%s", cfg.cmdline);
	EFI_LOADED_IMAGE *kli;
	s = uefi_call_wrapper(BS->HandleProtocol, 3, kernel, &LoadedImageProtocol, (void **)&kli);
	if (EFI_ERROR(s)) {
		say("hvboot: the loaded kernel has no loaded-image protocol (%s)\r\n",
		    status_text(s));
		return refuse(false);
	}
	CHAR16 *woptions = to_char16(options);
	if (woptions == NULL)
		return refuse(false);
	kli->LoadOptions = woptions;
	kli->LoadOptionsSize = (UINT32)((StrLen(woptions) + 1) * sizeof(CHAR16));

	void *profile = NULL;
	UINTN profile_size = 0;
	if (cfg.profile[0]) {
		s = read_file(root, cfg.profile, PROFILE_FILE_MAX, &profile, &profile_size);
		if (EFI_ERROR(s)) {
			say("hvboot: cannot read the kernel profile %s (%s%s): check `profile` "
			    "in " CONFIG_PATH "\r\n",
			    cfg.profile, status_text(s),
			    s == EFI_BAD_BUFFER_SIZE ? ", over 16 MiB: make a compact one with "
						       "tools/mkprofile"
						     : "");
			return refuse(false);
		}
	}

	char why[160];
	if (bootcheck_enabled() &&
	    bootcheck_file(BOOTCHECK_PROFILE, profile, profile_size, why, sizeof(why)) != 0) {
		say("hvboot: %s\r\n", why);
		return refuse(false);
	}

	enum monitor_start started = start_monitor(root, &cfg, profile, profile_size);
	if (started == MONITOR_REFUSED)
		return refuse(false);
	if (started == MONITOR_PARTIAL) {
		say("hvboot: the monitor runs, but not on every CPU: a CPU outside it could reach "
		    "its memory, so the kernel is not booted (allow_unprotected does not "
		    "apply)\r\n");
		return refuse(false);
	}
	if (started == MONITOR_NOT_STARTED) {
		if (!cfg.allow_unprotected)
			return refuse(true);
		say("hvboot: WARNING: booting the kernel WITHOUT the monitor "
		    "(allow_unprotected = yes)\r\n");
	}

	s = uefi_call_wrapper(BS->StartImage, 3, kernel, NULL, NULL);
	Print(L"hvboot: the kernel returned (%r)\r\n", s);
	return s;
}
