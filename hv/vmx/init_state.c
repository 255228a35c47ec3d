/* SPDX-License-Identifier: MIT */
#include "vmx/init_state.h"

#include "lib/string.h"
#include "vmx/vmx.h"
#include "x86/cr.h"
#include "x86/vmcs.h"
#include "x86/vmx_controls.h"

#define INIT_RIP    0xFFF0u /* Table 9-1: EIP 0000FFF0H */
#define INIT_RFLAGS 0x2u    /* EFLAGS 00000002H */
#define INIT_DR7    0x400u  /* DR7 00000400H */
#define INIT_CS_SEL 0xF000u /* CS selector F000H, base FFFF0000H */
#define INIT_CS_BAS 0xFFFF0000u
#define REAL_LIMIT  0xFFFFu /* every segment and table: limit FFFFH */

void vmcs_init_state(struct vmcs_init_state *s, uint64_t cr0_now, uint32_t cpu_signature,
		     const struct vmx_caps *caps)
{
	memset(s, 0, sizeof(*s));
	s->rip = INIT_RIP;
	s->rflags = INIT_RFLAGS;
	s->rdx = cpu_signature;
	/* Table 9-1 note: after INIT, CD and NW are unchanged, ET is set, the rest clear. */
	s->cr0_shadow = (cr0_now & (X86_CR0_CD | X86_CR0_NW)) | X86_CR0_ET;
	uint64_t fixed0 = caps->cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG); /* 26.3.1.1 */
	s->cr0 = (s->cr0_shadow | fixed0) & caps->cr0_fixed1;
	s->cr4_shadow = 0;
	s->cr4 = caps->cr4_fixed0 & caps->cr4_fixed1; /* VMXE stays set under VMX */
	s->cr3 = 0;
	s->dr7 = INIT_DR7;
	s->efer = 0;
	s->cs = (struct vmcs_segment_state){INIT_CS_SEL, INIT_CS_BAS, REAL_LIMIT,
					    VMCS_AR_CODE_ACCESSED};
	s->data = (struct vmcs_segment_state){0, 0, REAL_LIMIT, VMCS_AR_DATA_ACCESSED};
	s->ldtr = (struct vmcs_segment_state){0, 0, REAL_LIMIT, VMCS_AR_LDT};
	s->tr = (struct vmcs_segment_state){0, 0, REAL_LIMIT, VMCS_AR_TSS_BUSY};
	s->gdtr_limit = s->idtr_limit = REAL_LIMIT;
}

/* Segment fields are laid out by register (SDM Vol. 3C Appendix B): ES, CS, SS, DS, FS,
 * GS, LDTR, TR at consecutive encodings in each group. */
static void write_segment(unsigned int index, const struct vmcs_segment_state *seg)
{
	vmwrite(GUEST_ES_SELECTOR + 2u * index, seg->selector);
	vmwrite(GUEST_ES_BASE + 2u * index, seg->base);
	vmwrite(GUEST_ES_LIMIT + 2u * index, seg->limit);
	vmwrite(GUEST_ES_AR_BYTES + 2u * index, seg->ar);
}

enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR };

void vmcs_write_init_state(const struct vmcs_init_state *s)
{
	vmwrite(GUEST_RIP, s->rip);
	vmwrite(GUEST_RFLAGS, s->rflags);
	vmwrite(GUEST_RSP, 0);
	vmwrite(CR0_READ_SHADOW, s->cr0_shadow);
	vmwrite(GUEST_CR0, s->cr0);
	vmwrite(CR4_READ_SHADOW, s->cr4_shadow);
	vmwrite(GUEST_CR4, s->cr4);
	vmwrite(GUEST_CR3, s->cr3);
	vmwrite(GUEST_DR7, s->dr7);
	vmwrite(GUEST_IA32_EFER, s->efer);
	write_segment(SEG_CS, &s->cs);
	write_segment(SEG_SS, &s->data);
	write_segment(SEG_DS, &s->data);
	write_segment(SEG_ES, &s->data);
	write_segment(SEG_FS, &s->data);
	write_segment(SEG_GS, &s->data);
	write_segment(SEG_LDTR, &s->ldtr);
	write_segment(SEG_TR, &s->tr);
	vmwrite(GUEST_GDTR_BASE, s->gdtr_base);
	vmwrite(GUEST_GDTR_LIMIT, s->gdtr_limit);
	vmwrite(GUEST_IDTR_BASE, s->idtr_base);
	vmwrite(GUEST_IDTR_LIMIT, s->idtr_limit);
	/* EFER.LMA is 0: the "IA-32e mode guest" entry control must match (26.2.4). */
	vmwrite(VM_ENTRY_CONTROLS, vmread(VM_ENTRY_CONTROLS) & ~(uint64_t)VM_ENTRY_IA32E_MODE);
	vmwrite(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmwrite(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	/* Write the activity state explicitly at every change: Bochs 2.7 saves a wrong one
	 * after an exit from wait-for-SIPI (its issue #757, DESIGN §8). */
	vmwrite(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_WAIT_SIPI);
}

void vmcs_write_sipi_state(uint8_t vector)
{
	const struct vmcs_segment_state cs = {(uint16_t)(vector << 8), (uint64_t)vector << 12,
					      REAL_LIMIT, VMCS_AR_CODE_ACCESSED};
	write_segment(SEG_CS, &cs);
	vmwrite(GUEST_RIP, 0);
	vmwrite(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
}
