/* SPDX-License-Identifier: MIT */
/*
 * The x86-64 Linux system-call ABI the injected calls use: numbers
 * (arch/x86/entry/syscalls/syscall_64.tbl), flags and errors (include/uapi/...). The one
 * place they are defined. These are the kernel's stable user ABI, not a guess: they do
 * not change between kernel releases.
 */
#ifndef HV_INJECT_LINUX_ABI_H
#define HV_INJECT_LINUX_ABI_H

/* syscall_64.tbl */
#define LINUX_NR_read           0u
#define LINUX_NR_write          1u
#define LINUX_NR_close          3u
#define LINUX_NR_mmap           9u
#define LINUX_NR_munmap         11u
#define LINUX_NR_rt_sigprocmask 14u
#define LINUX_NR_rt_sigreturn   15u
#define LINUX_NR_nanosleep      35u
#define LINUX_NR_getpid         39u
#define LINUX_NR_kill           62u
#define LINUX_NR_fsync          74u
#define LINUX_NR_ftruncate      77u
#define LINUX_NR_openat         257u
#define LINUX_NR_openat2        437u

/* include/uapi/asm-generic/mman-common.h, mman.h */
#define LINUX_PROT_READ     0x1u
#define LINUX_PROT_WRITE    0x2u
#define LINUX_PROT_EXEC     0x4u
#define LINUX_MAP_PRIVATE   0x02u
#define LINUX_MAP_ANONYMOUS 0x20u
#define LINUX_MAP_POPULATE  0x8000u

/* include/uapi/asm-generic/fcntl.h */
#define LINUX_O_RDONLY    0x0u
#define LINUX_O_WRONLY    0x1u
#define LINUX_O_CREAT     0x40u
#define LINUX_O_TRUNC     0x200u
#define LINUX_O_NOFOLLOW  0x20000u
#define LINUX_O_CLOEXEC   0x80000u
#define LINUX_O_DIRECTORY 0x10000u
#define LINUX_O_PATH      0x200000u
#define LINUX_AT_FDCWD    (-100)

/* include/uapi/linux/openat2.h: struct open_how and its resolve flags */
#define LINUX_RESOLVE_NO_MAGICLINKS 0x02u
#define LINUX_RESOLVE_IN_ROOT       0x10u
#define LINUX_OPEN_HOW_SIZE         24u /* u64 flags, u64 mode, u64 resolve */

/* include/uapi/asm-generic/signal-defs.h, signal.h */
#define LINUX_SIG_BLOCK   0u
#define LINUX_SIG_SETMASK 2u
#define LINUX_SIGSET_SIZE 8u /* _NSIG / 8 */
#define LINUX_NSIG        64u

/* include/uapi/asm-generic/errno-base.h, errno.h; include/linux/errno.h (kernel-internal
 * restart codes, which user space never sees but an interrupted call can return to the
 * exit path) */
#define LINUX_EPERM        1
#define LINUX_ENOENT       2
#define LINUX_ESRCH        3
#define LINUX_EINTR        4
#define LINUX_EAGAIN       11
#define LINUX_EACCES       13
#define LINUX_EEXIST       17
#define LINUX_ENOTDIR      20
#define LINUX_EISDIR       21
#define LINUX_EINVAL       22
#define LINUX_EFBIG        27
#define LINUX_ENOSPC       28
#define LINUX_EROFS        30
#define LINUX_ENAMETOOLONG 36
#define LINUX_ELOOP        40
#define LINUX_EXDEV        18
#define LINUX_MAX_ERRNO    4095 /* include/linux/err.h: -4095..-1 are errors */

/* x86-64 instruction bytes (SDM Vol. 2B SYSCALL) */
#define X86_SYSCALL_LEN 2u

#endif
