; SPDX-License-Identifier: MIT
; Host exception stubs (VMX root operation). Every vector pushes a uniform frame and
; calls host_exception(frame). SDM Vol. 3A 6.13 "Error Code": vectors 8, 10-14, 17, 21,
; 29, 30 push an error code; the others get a 0 pushed here so the frame is uniform.

bits 64
default rel

section .text
extern host_exception   ; void host_exception(struct host_exception_frame *f)

%macro STUB_NOERR 1
host_exc_%1:
	push 0
	push %1
	jmp host_exc_common
%endmacro
%macro STUB_ERR 1
host_exc_%1:
	push %1
	jmp host_exc_common
%endmacro

STUB_NOERR 0
STUB_NOERR 1
STUB_NOERR 2
STUB_NOERR 3
STUB_NOERR 4
STUB_NOERR 5
STUB_NOERR 6
STUB_NOERR 7
STUB_ERR   8
STUB_NOERR 9
STUB_ERR   10
STUB_ERR   11
STUB_ERR   12
STUB_ERR   13
STUB_ERR   14
STUB_NOERR 15
STUB_NOERR 16
STUB_ERR   17
STUB_NOERR 18
STUB_NOERR 19
STUB_NOERR 20
STUB_ERR   21
STUB_NOERR 22
STUB_NOERR 23
STUB_NOERR 24
STUB_NOERR 25
STUB_NOERR 26
STUB_NOERR 27
STUB_NOERR 28
STUB_ERR   29
STUB_ERR   30
STUB_NOERR 31

host_exc_common:
	push rax
	push rcx
	push rdx
	push rbx
	push rbp
	push rsi
	push rdi
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
	mov rdi, rsp
	mov rbx, rsp
	and rsp, -16
	call host_exception     ; returns only for an NMI, which is queued for the guest
	mov rsp, rbx
	pop r15
	pop r14
	pop r13
	pop r12
	pop r11
	pop r10
	pop r9
	pop r8
	pop rdi
	pop rsi
	pop rbp
	pop rbx
	pop rdx
	pop rcx
	pop rax
	add rsp, 16             ; vector and error code
	iretq

section .data.rel.ro
global host_exception_stubs
host_exception_stubs:
%assign i 0
%rep 32
	dq host_exc_ %+ i
%assign i i+1
%endrep
