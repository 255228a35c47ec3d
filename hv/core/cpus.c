/* SPDX-License-Identifier: MIT */
/* Requests between the monitor's CPUs: the protocol is described in core/cpus.h. */
#include "core/cpus.h"

#include "core/ipi.h"
#include "core/monitor.h"
#include "lib/fmt.h"
#include "vmx/vmx.h"
#include "x86/cpu.h"
#include "x86/vmcs.h"
#include "x86/vmx_controls.h"

/* The CPU holding the others, plus one; 0 when none does. Written only by that CPU, under
 * the exit lock; read by every vCPU at its entry gate. hold_depth: how many holds it has
 * not released (a stopped guest's hold is never released: a verb's hold nests in it). */
static uint32_t holder;
static uint32_t hold_depth;

static uint32_t load(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static void store(uint32_t *p, uint32_t value)
{
	__atomic_store_n(p, value, __ATOMIC_SEQ_CST);
}

/* The guest's GDTR and IDTR, in its VMCS (SDM 24.4.1 "Guest Register State": base and
 * limit of each), loaded into the processor at the next VM entry. */
static void load_dtr(const struct vcpu *v)
{
	vmwrite(GUEST_GDTR_BASE, v->load_dtr.gdtr_base);
	vmwrite(GUEST_GDTR_LIMIT, v->load_dtr.gdtr_limit);
	vmwrite(GUEST_IDTR_BASE, v->load_dtr.idtr_base);
	vmwrite(GUEST_IDTR_LIMIT, v->load_dtr.idtr_limit);
}

void vcpu_load_dtr(struct vcpu *self, struct vcpu *o, uint64_t gdtr_base, uint32_t gdtr_limit,
		   uint64_t idtr_base, uint32_t idtr_limit)
{
	o->load_dtr.gdtr_base = gdtr_base;
	o->load_dtr.gdtr_limit = gdtr_limit;
	o->load_dtr.idtr_base = idtr_base;
	o->load_dtr.idtr_limit = idtr_limit;
	if (o == self)
		load_dtr(o);
	else
		__atomic_or_fetch(&o->requests, VCPU_REQ_LOAD_DTR, __ATOMIC_SEQ_CST);
}

static void run_requests(struct vcpu *v)
{
	uint32_t req = __atomic_exchange_n(&v->requests, 0u, __ATOMIC_SEQ_CST);
	if (req & VCPU_REQ_INVEPT)
		ept_invalidate_local();
	if (req & VCPU_REQ_LOAD_DTR)
		load_dtr(v);
}

void vcpu_exit_begin(struct vcpu *v)
{
	store(&v->in_guest, 0);
	store(&v->wait_for_sipi, 0);
	run_requests(v);
}

void vcpu_enter_gate(struct vcpu *v)
{
	for (;;) {
		store(&v->in_guest, 1);
		if (load(&holder) == 0)
			break;
		store(&v->in_guest, 0);
		while (load(&holder) != 0)
			cpu_relax();
	}
	run_requests(v);
	/* In wait-for-SIPI the vCPU runs no guest code, and takes no NMI (SDM Vol. 3C 26.6.2
	 * "Activity State": only a SIPI ends it, with a VM exit); the others do not wait
	 * for it. */
	if (vmread(GUEST_ACTIVITY_STATE) == GUEST_ACTIVITY_WAIT_SIPI)
		store(&v->wait_for_sipi, 1);
}

bool vcpu_nmi_is_kick(struct vcpu *v)
{
	uint64_t taken = __atomic_load_n(&v->kicks_taken, __ATOMIC_SEQ_CST);
	for (;;) {
		if (taken >= __atomic_load_n(&v->kicks_sent, __ATOMIC_SEQ_CST))
			return false;
		/* The NMI handler can interrupt the exit handler here: compare-and-swap. */
		if (__atomic_compare_exchange_n(&v->kicks_taken, &taken, taken + 1, false,
						__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			return true;
	}
}

void vcpu_queue_guest_nmi(struct vcpu *v)
{
	uint32_t n = __atomic_load_n(&v->nmi_pending, __ATOMIC_SEQ_CST);
	while (n < 2 && !__atomic_compare_exchange_n(&v->nmi_pending, &n, n + 1, false,
						     __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		;
}

static uint64_t now_ms(void)
{
	uint64_t per_ms = machine.tsc_hz / 1000u;
	return rdtsc() / (per_ms ? per_ms : 1);
}

/* Has `o` done what was asked? (it cannot run guest code without having done it) */
typedef bool (*answered_fn)(struct vcpu *o);

static bool out_of_guest(struct vcpu *o)
{
	return load(&o->in_guest) == 0 || load(&o->wait_for_sipi) != 0;
}

static bool invept_done(struct vcpu *o)
{
	return out_of_guest(o) || (load(&o->requests) & VCPU_REQ_INVEPT) == 0;
}

/* An NMI sent while another is still pending at the target merges with it (SDM Vol. 3A
 * 6.7.1 "Handling Multiple NMIs": one is held pending while NMIs are blocked): the target
 * would take one NMI for two kicks and later call a guest NMI a kick. So a CPU gets at most
 * one kick at a time, and none while an earlier one is on its way. A kick that is lost (it
 * lands between the entry gate and VMRESUME, or the guest disabled its local APIC) costs
 * no answer: every vCPU leaves the guest at least every 10 ms by its preemption timer. */
static bool kick_outstanding(struct vcpu *o)
{
	return __atomic_load_n(&o->kicks_taken, __ATOMIC_SEQ_CST) <
	       __atomic_load_n(&o->kicks_sent, __ATOMIC_SEQ_CST);
}

/* Waits until every other vCPU answered, kicking the ones in the guest once; false (and
 * which CPU, in `why`) after CPUS_ANSWER_MS. */
static bool wait_for_others(struct vcpu *self, answered_fn answered, const char *what, char *why,
			    size_t cap)
{
	uint64_t start = now_ms();
	bool kicked[HV_CPUS_MAX] = {false};
	for (;;) {
		uint32_t n = __atomic_load_n(&vm.nr_vcpus, __ATOMIC_ACQUIRE);
		uint32_t waiting = HV_CPUS_MAX;
		for (uint32_t k = 0; k < n; k++) {
			struct vcpu *o = vm.vcpu[k];
			if (o == self || answered(o))
				continue;
			waiting = k;
			if (kicked[k] || kick_outstanding(o))
				continue;
			kicked[k] = true;
			(void)ipi_send_nmi(o, &o->kicks_sent); /* if not sent: its timer */
		}
		if (waiting == HV_CPUS_MAX)
			return true;
		if (now_ms() - start >= CPUS_ANSWER_MS) {
			fmt_snprintf(why, cap, "CPU %u did not answer within %u ms (to %s)",
				     waiting, CPUS_ANSWER_MS, what);
			return false;
		}
		cpu_relax();
	}
}

bool cpus_invept_all(struct vcpu *self, char *why, size_t cap)
{
	/* SDM Vol. 3C 28.3.3.1 "Operations that Invalidate Cached Mappings": INVEPT acts on
	 * the logical processor that executes it; each CPU runs its own. */
	ept_invalidate_local();
	uint32_t n = __atomic_load_n(&vm.nr_vcpus, __ATOMIC_ACQUIRE);
	for (uint32_t k = 0; k < n; k++)
		if (vm.vcpu[k] != self)
			__atomic_or_fetch(&vm.vcpu[k]->requests, VCPU_REQ_INVEPT, __ATOMIC_SEQ_CST);
	return wait_for_others(self, invept_done, "invalidate its EPT translations", why, cap);
}

bool cpus_hold_others(struct vcpu *self, char *why, size_t cap)
{
	if (load(&holder) == self->id + 1u) {
		hold_depth++; /* held already: they are out and stay out */
		return true;
	}
	store(&holder, self->id + 1u);
	if (wait_for_others(self, out_of_guest, "stop running the guest", why, cap)) {
		hold_depth = 1;
		return true;
	}
	store(&holder, 0);
	return false;
}

void cpus_release_others(struct vcpu *self)
{
	if (load(&holder) != self->id + 1u || hold_depth == 0)
		return;
	if (--hold_depth == 0)
		store(&holder, 0);
}
