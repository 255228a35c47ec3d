/* SPDX-License-Identifier: MIT */
/* Making the per-CPU state of the monitor (core/vcpu.h). */
#include "core/vcpu.h"

#include "core/ipi.h"
#include "core/monitor.h"

#include "mm/palloc.h"
#include "x86/paging.h"

struct vcpu *vcpu_alloc(uint32_t id)
{
	size_t pages = (sizeof(struct vcpu) + PAGE_SIZE_4K - 1) / PAGE_SIZE_4K;
	struct vcpu *v = palloc_pages(pages);
	if (v == NULL)
		return NULL;
	v->self = v;
	v->id = id;
	v->vpid = (uint16_t)(id + 1u);
	ipi_read_apic_ids(v); /* vcpu_alloc() runs on the CPU itself */
	if (host_tables_init(&v->host) < 0)
		return NULL; /* the pages stay allocated: start-up fails anyway */
	return v;
}

uint64_t vm_exit_work_tsc(void)
{
	uint64_t n = 0;
	for (uint32_t k = 0; k < vm.nr_vcpus; k++)
		n += __atomic_load_n(&vm.vcpu[k]->exit_work_tsc, __ATOMIC_RELAXED);
	return n;
}

uint64_t vm_exits_total(void)
{
	uint64_t n = 0;
	for (uint32_t k = 0; k < vm.nr_vcpus; k++)
		n += vm.vcpu[k]->exits_total;
	return n;
}
