; SPDX-License-Identifier: MIT
; VM launch and the VM-exit entry point.
;
; SDM 26 "VM Entries", 27 "VM Exits". At a VM exit the processor loads the host state
; from the VMCS (RIP = vmx_exit_entry, RSP = the vCPU's host stack) and does not save
; the guest's general-purpose registers: we push them here, in the SDM's register-number
; order (struct guest_regs in core/vcpu.h), and pop them before VMRESUME.

bits 64
default rel

%define GUEST_RSP 0x681C
%define GUEST_RIP 0x681E

section .text

extern vmx_exit_handler      ; void vmx_exit_handler(struct guest_regs *regs)
extern vmx_resume_failed     ; noreturn void vmx_resume_failed(uint64_t rflags)

; int vmx_launch(void)
; Launches the guest so that it continues *here*, in the caller, with the caller's
; registers and stack: the firmware (and then the loader) goes on as the guest.
; Returns 0 in the guest. If VMLAUNCH fails, returns 1 (VMfailInvalid) or 2 (VMfailValid:
; the reason is in the VM-instruction error field) in VMX root operation.
global vmx_launch
vmx_launch:
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	pushfq
	mov rax, GUEST_RSP
	vmwrite rax, rsp
	jbe .fail_write
	mov rax, GUEST_RIP
	lea rdx, [.guest_start]
	vmwrite rax, rdx
	jbe .fail_write
	vmlaunch
	; Only reached when VMLAUNCH failed (SDM 30.3 VMLAUNCH/VMRESUME).
	mov eax, 1
	jc .failed
	mov eax, 2
.failed:
	popfq
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret
.fail_write:
	mov eax, 3
	jmp .failed
.guest_start:
	; First instruction executed as the guest.
	popfq
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	xor eax, eax
	ret

; int vmx_launch_context(const struct launch_context *ctx)
; Launches the guest at ctx->rip with ctx->rsp, ctx->rflags, the callee-saved registers
; of ctx and RAX = 0 (core/ap_start.c). Returns only if VMLAUNCH failed: 1 (VMfailInvalid),
; 2 (VMfailValid) or 3 (a VMWRITE failed), with our own registers back.
%define GUEST_RFLAGS 0x6820
global vmx_launch_context
vmx_launch_context:
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	mov rax, GUEST_RSP
	vmwrite rax, [rdi + 64]
	jbe .ctx_fail_write
	mov rax, GUEST_RIP
	vmwrite rax, [rdi + 56]
	jbe .ctx_fail_write
	mov rax, GUEST_RFLAGS
	vmwrite rax, [rdi + 48]
	jbe .ctx_fail_write
	mov rbx, [rdi + 0]
	mov rbp, [rdi + 8]
	mov r12, [rdi + 16]
	mov r13, [rdi + 24]
	mov r14, [rdi + 32]
	mov r15, [rdi + 40]
	xor eax, eax
	vmlaunch
	; Only reached when VMLAUNCH failed (SDM 30.3 VMLAUNCH/VMRESUME).
	mov eax, 1
	jc .ctx_failed
	mov eax, 2
.ctx_failed:
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret
.ctx_fail_write:
	mov eax, 3
	jmp .ctx_failed

global vmx_exit_entry
vmx_exit_entry:
	push r15
	push r14
	push r13
	push r12
	push r11
	push r10
	push r9
	push r8
	push rdi
	push rsi
	push rbp
	push 0                  ; RSP slot: the guest's RSP is in the VMCS
	push rbx
	push rdx
	push rcx
	push rax
	mov rdi, rsp            ; struct guest_regs *
	; HOST_RSP is 16-byte aligned and we pushed 128 bytes: aligned for the call.
	call vmx_exit_handler
	pop rax
	pop rcx
	pop rdx
	pop rbx
	add rsp, 8
	pop rbp
	pop rsi
	pop rdi
	pop r8
	pop r9
	pop r10
	pop r11
	pop r12
	pop r13
	pop r14
	pop r15
	vmresume
	; VMRESUME failed: report with the flags that tell how (never returns).
	pushfq
	pop rdi
	and rsp, -16
	call vmx_resume_failed
.hang:
	cli
	hlt
	jmp .hang
