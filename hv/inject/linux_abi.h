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
#define LINUX_NR_read               0u
#define LINUX_NR_pread64            17u
#define LINUX_NR_write              1u
#define LINUX_NR_close              3u
#define LINUX_NR_mmap               9u
#define LINUX_NR_munmap             11u
#define LINUX_NR_rt_sigprocmask     14u
#define LINUX_NR_rt_sigreturn       15u
#define LINUX_NR_restart_syscall    219u
#define LINUX_NR_nanosleep          35u
#define LINUX_NR_getpid             39u
#define LINUX_NR_getppid            110u
#define LINUX_NR_kill               62u
#define LINUX_NR_fsync              74u
#define LINUX_NR_ftruncate          77u
#define LINUX_NR_pipe2              293u
#define LINUX_NR_dup2               33u
#define LINUX_NR_clone              56u
#define LINUX_NR_execve             59u
#define LINUX_NR_exit_group         231u
#define LINUX_NR_wait4              61u
#define LINUX_NR_fcntl              72u
#define LINUX_NR_rt_sigaction       13u
#define LINUX_NR_setns              308u
#define LINUX_NR_setsid             112u
#define LINUX_NR_setgroups          116u
#define LINUX_NR_setresuid          117u
#define LINUX_NR_setresgid          119u
#define LINUX_NR_chdir              80u
#define LINUX_NR_openat             257u
#define LINUX_NR_ioctl              16u
#define LINUX_NR_close_range        436u
#define LINUX_NR_openat2            437u
#define LINUX_NR_ppoll              271u
#define LINUX_NR_capset             126u
#define LINUX_NR_prctl              157u
#define LINUX_NR_seccomp            317u
#define LINUX_NR_fstat              5u
#define LINUX_NR_alarm              37u
#define LINUX_NR_setpriority        141u
#define LINUX_NR_sched_setscheduler 144u
#define LINUX_NR_keyctl             250u
#define LINUX_NR_madvise            28u
/* include/uapi/linux/prctl.h, capability.h, seccomp.h, sched.h */
#define LINUX_PR_SET_PDEATHSIG            1u
#define LINUX_PR_SET_DUMPABLE             4u
#define LINUX_PR_CAPBSET_DROP             24u
#define LINUX_PR_SET_NO_NEW_PRIVS         38u
#define LINUX_PR_CAP_AMBIENT              47u
#define LINUX_PR_CAP_AMBIENT_RAISE        2u
#define LINUX_CAPABILITY_VERSION_3        0x20080522u /* struct __user_cap_header_struct */
#define LINUX_SECCOMP_SET_MODE_FILTER     1u
#define LINUX_SECCOMP_FILTER_FLAG_LOG     2u
#define LINUX_CLONE_NEWUSER               0x10000000u
#define LINUX_SCHED_OTHER                 0u  /* include/uapi/linux/sched.h */
#define LINUX_PRIO_PROCESS                0u  /* include/uapi/linux/resource.h */
#define LINUX_KEYCTL_JOIN_SESSION_KEYRING 1u  /* include/uapi/linux/keyctl.h */
#define LINUX_MADV_POPULATE_WRITE         23u /* include/uapi/asm-generic/mman-common.h */
#define LINUX_CLOSE_RANGE_CLOEXEC         4u  /* include/uapi/linux/close_range.h */

/* include/uapi/asm-generic/mman-common.h, mman.h */
#define LINUX_MAP_SHARED    0x01u
#define LINUX_PROT_READ     0x1u
#define LINUX_PROT_WRITE    0x2u
#define LINUX_PROT_EXEC     0x4u
#define LINUX_MAP_PRIVATE   0x02u
#define LINUX_MAP_ANONYMOUS 0x20u
#define LINUX_MAP_POPULATE  0x8000u

/* include/uapi/linux/sched.h, include/uapi/asm-generic/signal.h, wait.h */
#define LINUX_SIGILL     4u
#define LINUX_SIGTRAP    5u
#define LINUX_SIGKILL    9u
#define LINUX_SIGTERM    15u
#define LINUX_SIGSEGV    11u
#define LINUX_SIGSTOP    19u
#define LINUX_SIGCHLD    17u
#define LINUX_SIGALRM    14u
#define LINUX_SIG_DFL    0u
#define LINUX_WNOHANG    0x00000001u
#define LINUX___WALL     0x40000000u
#define LINUX_F_SETFL    4u
#define LINUX_O_NONBLOCK 0x800u

/* include/uapi/asm-generic/poll.h (struct pollfd: int fd; short events, revents) */
#define LINUX_POLLIN  0x0001u
#define LINUX_POLLPRI 0x0002u /* kernfs: the file changed (cgroup.events) */

/* include/uapi/asm-generic/ioctls.h and termbits.h (x86): a tty taken for one opener, in
 * raw mode (struct termios: four flag words, the line discipline, 19 control characters) */
#define LINUX_TCSETS       0x5402u
#define LINUX_TIOCEXCL     0x540Cu
#define LINUX_TERMIOS_SIZE 36u
#define LINUX_TERMIOS_CC   17u /* c_cc[] in struct termios */
#define LINUX_VTIME        5u
#define LINUX_VMIN         6u
#define LINUX_CFLAG_RAW    (0x0Fu | 0x30u | 0x80u | 0x800u) /* B38400 CS8 CREAD CLOCAL */

/* include/uapi/asm-generic/fcntl.h */
#define LINUX_O_RDONLY    0x0u
#define LINUX_O_WRONLY    0x1u
#define LINUX_O_RDWR      0x2u
#define LINUX_O_CREAT     0x40u
#define LINUX_O_EXCL      0x80u
#define LINUX_O_NOCTTY    0x100u
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
#define LINUX_SIG_UNBLOCK 1u
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
#define LINUX_ENOEXEC      8
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
#define LINUX_ENOSYS       38
#define LINUX_EFAULT       14
#define LINUX_EBADF        9
#define LINUX_ECHILD       10
#define LINUX_EMFILE       24
#define LINUX_MAX_ERRNO    4095 /* include/linux/err.h: -4095..-1 are errors */

/* x86-64 instruction bytes (SDM Vol. 2B SYSCALL) */
#define X86_SYSCALL_LEN 2u

#endif
