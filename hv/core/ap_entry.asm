; SPDX-License-Identifier: MIT
; The core's entry for the other CPUs (hv_ap_entry_fn in bootinfo.h).
;
; The CPU must come back to its caller (the loader's MP-services procedure) as the guest,
; without running monitor code in VMX non-root operation: the monitor's pages are already
; out of the guest's view (EPT) when the other CPUs start. So the caller's state at the
; call is recorded here (struct launch_context, core/ap_start.c) and the guest is launched
; directly at the return address with those callee-saved registers and RAX = 0, as if
; this call had returned 0.

bits 64
default rel

section .text

extern hv_start_ap   ; int hv_start_ap(uint32_t id, char *error, uint64_t cap,
                     ;                 const struct launch_context *ctx)

; struct launch_context: rbx, rbp, r12, r13, r14, r15, rflags, rip, rsp (9 x 8 bytes)
global hv_ap_entry
hv_ap_entry:
	mov rax, [rsp]          ; the caller's return address
	lea r10, [rsp + 8]      ; its RSP once we have returned
	pushfq
	pop r11
	sub rsp, 88             ; 72 bytes of context; RSP was 8 mod 16: now 16-aligned
	mov [rsp + 0], rbx
	mov [rsp + 8], rbp
	mov [rsp + 16], r12
	mov [rsp + 24], r13
	mov [rsp + 32], r14
	mov [rsp + 40], r15
	mov [rsp + 48], r11
	mov [rsp + 56], rax
	mov [rsp + 64], r10
	mov rcx, rsp
	call hv_start_ap        ; returns only when the CPU could not be virtualized
	add rsp, 88
	ret
