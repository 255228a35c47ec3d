/* SPDX-License-Identifier: MIT */
/* Thin wrappers around single x86 instructions. No policy here. */
#ifndef HV_X86_CPU_H
#define HV_X86_CPU_H

#include <stdbool.h>
#include <stdint.h>

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid_count(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;
	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(subleaf));
	return r;
}

#ifdef HV_HOST
/* Host builds (the unit tests) use a fake CPU instead (tests/unit/fake_vmcs.c). */
uint64_t rdmsr(uint32_t msr);
void wrmsr(uint32_t msr, uint64_t value);
#else
static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t value)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
			 : "memory");
}
#endif

#define DEFINE_CR_ACCESSORS(n)                                                                     \
	static inline uint64_t read_cr##n(void)                                                    \
	{                                                                                          \
		uint64_t v;                                                                        \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                                  \
		return v;                                                                          \
	}                                                                                          \
	static inline void write_cr##n(uint64_t v)                                                 \
	{                                                                                          \
		__asm__ volatile("mov %0, %%cr" #n ::"r"(v) : "memory");                           \
	}
DEFINE_CR_ACCESSORS(0)
DEFINE_CR_ACCESSORS(2)
DEFINE_CR_ACCESSORS(3)
DEFINE_CR_ACCESSORS(4)
#undef DEFINE_CR_ACCESSORS

static inline uint64_t read_dr7(void)
{
	uint64_t v;
	__asm__ volatile("mov %%dr7, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_rflags(void)
{
	uint64_t v;
	__asm__ volatile("pushfq; popq %0" : "=r"(v));
	return v;
}

static inline void write_rflags(uint64_t v)
{
	__asm__ volatile("pushq %0; popfq" ::"r"(v) : "memory", "cc");
}

static inline void cli(void)
{
	__asm__ volatile("cli" ::: "memory");
}

static inline void hlt(void)
{
	__asm__ volatile("hlt" ::: "memory");
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

#ifdef HV_HOST
uint64_t rdtsc(void);
#else
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
#endif

static inline void xsetbv(uint32_t index, uint64_t value)
{
	__asm__ volatile("xsetbv" ::"c"(index), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
			 : "memory");
}

static inline uint64_t xgetbv(uint32_t index)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wbinvd(void)
{
	__asm__ volatile("wbinvd" ::: "memory");
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}

/* An I/O access of 1, 2 or 4 bytes (SDM Vol. 2A IN, Vol. 2B OUT), for exits that pass a
 * guest's access on. */
static inline uint32_t io_in(uint16_t port, unsigned int size)
{
	uint32_t v = 0;
	if (size == 1) {
		uint8_t b;
		__asm__ volatile("inb %1, %0" : "=a"(b) : "Nd"(port));
		v = b;
	} else if (size == 2) {
		uint16_t w;
		__asm__ volatile("inw %1, %0" : "=a"(w) : "Nd"(port));
		v = w;
	} else {
		__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	}
	return v;
}

static inline void io_out(uint16_t port, unsigned int size, uint32_t v)
{
	if (size == 1)
		__asm__ volatile("outb %0, %1" ::"a"((uint8_t)v), "Nd"(port));
	else if (size == 2)
		__asm__ volatile("outw %0, %1" ::"a"((uint16_t)v), "Nd"(port));
	else
		__asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}

/* Descriptor-table registers, SDM Vol. 3A 2.4 "Memory-Management Registers" */
struct __attribute__((packed)) desc_ptr {
	uint16_t limit;
	uint64_t base;
};

static inline void sgdt(struct desc_ptr *p)
{
	__asm__ volatile("sgdt %0" : "=m"(*p));
}

static inline void sidt(struct desc_ptr *p)
{
	__asm__ volatile("sidt %0" : "=m"(*p));
}

#define DEFINE_SEG_READ(name, insn)                                                                \
	static inline uint16_t read_##name(void)                                                   \
	{                                                                                          \
		uint16_t v;                                                                        \
		__asm__ volatile(insn " %0" : "=rm"(v));                                           \
		return v;                                                                          \
	}
DEFINE_SEG_READ(cs, "mov %%cs,")
DEFINE_SEG_READ(ss, "mov %%ss,")
DEFINE_SEG_READ(ds, "mov %%ds,")
DEFINE_SEG_READ(es, "mov %%es,")
DEFINE_SEG_READ(fs, "mov %%fs,")
DEFINE_SEG_READ(gs, "mov %%gs,")
DEFINE_SEG_READ(tr, "str")
DEFINE_SEG_READ(ldtr, "sldt")
#undef DEFINE_SEG_READ

/*
 * VMX instructions. SDM 30.2 "Conventions": failure is reported in RFLAGS,
 * CF=1 "VMfailInvalid" (no current VMCS), ZF=1 "VMfailValid" (error number in
 * the VM-instruction error field). All return true on success.
 */
static inline bool vmxon(uint64_t phys)
{
	bool fail;
	__asm__ volatile("vmxon %1; setbe %0" : "=qm"(fail) : "m"(phys) : "cc", "memory");
	return !fail;
}

static inline bool vmclear(uint64_t phys)
{
	bool fail;
	__asm__ volatile("vmclear %1; setbe %0" : "=qm"(fail) : "m"(phys) : "cc", "memory");
	return !fail;
}

static inline bool vmptrld(uint64_t phys)
{
	bool fail;
	__asm__ volatile("vmptrld %1; setbe %0" : "=qm"(fail) : "m"(phys) : "cc", "memory");
	return !fail;
}

#ifdef HV_HOST
/* Host builds (the unit tests) read and write a fake VMCS instead (tests/unit/fake_vmcs.c). */
bool vmwrite_checked(uint64_t field, uint64_t value);
uint64_t vmread(uint64_t field);
#else
static inline bool vmwrite_checked(uint64_t field, uint64_t value)
{
	bool fail;
	__asm__ volatile("vmwrite %2, %1; setbe %0"
			 : "=qm"(fail)
			 : "r"(field), "rm"(value)
			 : "cc", "memory");
	return !fail;
}

static inline uint64_t vmread(uint64_t field)
{
	uint64_t value;
	__asm__ volatile("vmread %1, %0" : "=rm"(value) : "r"(field) : "cc");
	return value;
}
#endif

struct __attribute__((packed)) invept_descriptor {
	uint64_t eptp;
	uint64_t reserved;
};

static inline bool invept(uint64_t type, uint64_t eptp)
{
	struct invept_descriptor d = {eptp, 0};
	bool fail;
	__asm__ volatile("invept %1, %2; setbe %0"
			 : "=qm"(fail)
			 : "m"(d), "r"(type)
			 : "cc", "memory");
	return !fail;
}

/* SDM Vol. 3C 30.3 INVVPID: the invalidation types (supported ones in IA32_VMX_EPT_VPID_CAP
 * bits 41 and 42, A.10). */
#define INVVPID_SINGLE_CONTEXT      1u
#define INVVPID_ALL_CONTEXT         2u
#define VMX_VPID_INVVPID_SINGLE_BIT (1ull << 41)
#define VMX_VPID_INVVPID_ALL_BIT    (1ull << 42)

struct __attribute__((packed)) invvpid_descriptor {
	uint64_t vpid;
	uint64_t linear_address;
};

static inline bool invvpid(uint64_t type, uint16_t vpid)
{
	struct invvpid_descriptor d = {vpid, 0};
	bool fail;
	__asm__ volatile("invvpid %1, %2; setbe %0"
			 : "=qm"(fail)
			 : "m"(d), "r"(type)
			 : "cc", "memory");
	return !fail;
}

#endif
