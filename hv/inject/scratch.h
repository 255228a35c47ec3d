/* SPDX-License-Identifier: MIT */
/*
 * The scratch area an operation maps in its target (inject/engine.h), every slot in one
 * place: the engine's own, then each operation's (the operations never run together, so
 * their slots share the operation part). Offsets from the area's start, each with its
 * size; a string put into a slot is bounded by it (ops_put_string). The checks at the end
 * keep each layout inside its part and its slots apart.
 */
#ifndef HV_INJECT_SCRATCH_H
#define HV_INJECT_SCRATCH_H

#include <stdint.h>

struct scratch_slot {
	uint32_t off, size;
};

/* ---- the engine */
#define INJECT_SCRATCH_SLED 0u /* SYSCALL, SYSCALL, SYSCALL, VMCALL, then INT3 */
#define INJECT_SLED_TRAP_RETURN                                                                    \
	2u                          /* a hijacked task's call comes back: a SYSCALL the trap sees  \
				     */
#define INJECT_SLED_CALL        4u  /* another process's call goes in: the SYSCALL */
#define INJECT_SLED_RETURN      6u  /* and comes back here: the VMCALL, which exits */
#define INJECT_SCRATCH_FULLMASK 16u /* sigset_t with every signal */
#define INJECT_SCRATCH_OLDMASK  24u /* the task's own mask while the chain runs */
#define INJECT_SCRATCH_OP       64u /* the operation's strings and small buffers */
#define INJECT_SCRATCH_OP_SIZE  4016u /* up to the helper's nap */
#define INJECT_SCRATCH_NAP      4080u /* struct timespec: the resident helper's nap */
#define INJECT_SCRATCH_DATA     4096u /* the operation's data buffer (cp, stats) */
#define INJECT_DATA_MAX         (64u * 1024u)
/* One page more than the data: a read of INJECT_DATA_MAX + 1 bytes (cp's way of seeing a
 * file too big) must land inside the mapping. */
#define INJECT_SCRATCH_SIZE (INJECT_SCRATCH_DATA + INJECT_DATA_MAX + 4096u)

/* A slot of the operation part by name: SCRATCH_SLOT(SCRATCH_EXEC_PATH) */
#define SCRATCH_SLOT(name) ((struct scratch_slot){name##_OFF, name##_SIZE})
#define SCRATCH_END(name)  (name##_OFF + name##_SIZE)
#define SCRATCH_OP_END     (INJECT_SCRATCH_OP + INJECT_SCRATCH_OP_SIZE)

/* ---- pause, unpause, stop, kill, stats (ops.c) */
#define SCRATCH_OPS_TIMESPEC_OFF  (INJECT_SCRATCH_OP + 0u) /* struct timespec */
#define SCRATCH_OPS_TIMESPEC_SIZE (16u)
#define SCRATCH_OPS_VALUE_OFF     (INJECT_SCRATCH_OP + 16u) /* a short value to write */
#define SCRATCH_OPS_VALUE_SIZE    (40u)
#define SCRATCH_OPS_POLLFD_OFF    (INJECT_SCRATCH_OP + 56u) /* struct pollfd */
#define SCRATCH_OPS_POLLFD_SIZE   (8u)
#define SCRATCH_OPS_PATH_OFF      (INJECT_SCRATCH_OP + 64u) /* a path */
#define SCRATCH_OPS_PATH_SIZE     (INJECT_SCRATCH_OP_SIZE - 64u)

/* ---- cp (ops_cp.c) */
#define SCRATCH_CP_HOW_OFF   (INJECT_SCRATCH_OP + 64u) /* struct open_how */
#define SCRATCH_CP_HOW_SIZE  (64u)
#define SCRATCH_CP_PATH_OFF  (INJECT_SCRATCH_OP + 128u) /* the path in the container */
#define SCRATCH_CP_PATH_SIZE (256u)
#define SCRATCH_CP_STAT_OFF  (INJECT_SCRATCH_OP + 384u) /* struct stat */
#define SCRATCH_CP_STAT_SIZE (144u)

/* ---- exec (ops_exec.c) */
#define SCRATCH_EXEC_TIMESPEC_OFF  (INJECT_SCRATCH_OP + 0u) /* struct timespec */
#define SCRATCH_EXEC_TIMESPEC_SIZE (16u)
#define SCRATCH_EXEC_PIPES_OFF     (INJECT_SCRATCH_OP + 16u) /* int[4] */
#define SCRATCH_EXEC_PIPES_SIZE    (16u)
#define SCRATCH_EXEC_STATUS_OFF    (INJECT_SCRATCH_OP + 32u) /* int */
#define SCRATCH_EXEC_STATUS_SIZE   (8u)
#define SCRATCH_EXEC_SIGACT_OFF    (INJECT_SCRATCH_OP + 40u) /* struct sigaction, zero: SIG_DFL */
#define SCRATCH_EXEC_SIGACT_SIZE   (32u)
#define SCRATCH_EXEC_EMPTYSET_OFF  (INJECT_SCRATCH_OP + 72u) /* sigset_t 0 */
#define SCRATCH_EXEC_EMPTYSET_SIZE (8u)
#define SCRATCH_EXEC_ZERO_OFF      (INJECT_SCRATCH_OP + 80u) /* "0" */
#define SCRATCH_EXEC_ZERO_SIZE     (8u)
#define SCRATCH_EXEC_ALRMSET_OFF   (INJECT_SCRATCH_OP + 88u) /* sigset_t of SIGALRM */
#define SCRATCH_EXEC_ALRMSET_SIZE  (8u)
#define SCRATCH_EXEC_PATH_OFF      (INJECT_SCRATCH_OP + 96u) /* a host path; later the pollfds */
#define SCRATCH_EXEC_PATH_SIZE     (256u)
#define SCRATCH_EXEC_EXEPATH_OFF   (INJECT_SCRATCH_OP + 368u) /* the candidate for execve */
#define SCRATCH_EXEC_EXEPATH_SIZE  (272u)
#define SCRATCH_EXEC_ARGV_OFF      (INJECT_SCRATCH_OP + 640u) /* char *[16] */
#define SCRATCH_EXEC_ARGV_SIZE     (128u)
#define SCRATCH_EXEC_ENVP_OFF      (INJECT_SCRATCH_OP + 768u) /* char *[4] */
#define SCRATCH_EXEC_ENVP_SIZE     (32u)
#define SCRATCH_EXEC_STRINGS_OFF   (INJECT_SCRATCH_OP + 800u) /* argv, envp */
#define SCRATCH_EXEC_STRINGS_SIZE  (INJECT_SCRATCH_OP_SIZE - 800u)

/* ---- the restrictions of the process exec and cp start (ops_restrict.c): in the data
 * buffer, after the first page, which exec's helper reads output into at the same time */
#define SCRATCH_EXEC_OUTPUT_OFF     INJECT_SCRATCH_DATA /* a read of the command's output */
#define SCRATCH_EXEC_OUTPUT_SIZE    (4096u)
#define SCRATCH_RESTRICT_CAPS_OFF   (INJECT_SCRATCH_DATA + 4096u) /* capset header, data[2] */
#define SCRATCH_RESTRICT_CAPS_SIZE  (32u)
#define SCRATCH_RESTRICT_FPROG_OFF  (INJECT_SCRATCH_DATA + 4128u) /* struct sock_fprog */
#define SCRATCH_RESTRICT_FPROG_SIZE (16u)
#define SCRATCH_RESTRICT_PATH_OFF   (INJECT_SCRATCH_DATA + 4144u) /* "thread-self/attr/exec" */
#define SCRATCH_RESTRICT_PATH_SIZE  (48u)
#define SCRATCH_RESTRICT_LABEL_OFF  (INJECT_SCRATCH_DATA + 4192u) /* "exec PROFILE" */
#define SCRATCH_RESTRICT_LABEL_SIZE (272u)
#define SCRATCH_RESTRICT_INSNS_OFF  (INJECT_SCRATCH_DATA + 8192u) /* struct sock_filter[] */
#define SCRATCH_RESTRICT_INSNS_SIZE (4096u * 8u)

_Static_assert(SCRATCH_END(SCRATCH_EXEC_OUTPUT) <= SCRATCH_RESTRICT_CAPS_OFF &&
		       SCRATCH_END(SCRATCH_RESTRICT_CAPS) <= SCRATCH_RESTRICT_FPROG_OFF &&
		       SCRATCH_END(SCRATCH_RESTRICT_FPROG) <= SCRATCH_RESTRICT_PATH_OFF &&
		       SCRATCH_END(SCRATCH_RESTRICT_PATH) <= SCRATCH_RESTRICT_LABEL_OFF &&
		       SCRATCH_END(SCRATCH_RESTRICT_LABEL) <= SCRATCH_RESTRICT_INSNS_OFF &&
		       SCRATCH_END(SCRATCH_RESTRICT_INSNS) <= INJECT_SCRATCH_DATA + INJECT_DATA_MAX,
	       "the restrictions' slots overlap or leave the data buffer");

_Static_assert(SCRATCH_END(SCRATCH_OPS_TIMESPEC) <= SCRATCH_OPS_VALUE_OFF &&
		       SCRATCH_END(SCRATCH_OPS_VALUE) <= SCRATCH_OPS_POLLFD_OFF &&
		       SCRATCH_END(SCRATCH_OPS_POLLFD) <= SCRATCH_OPS_PATH_OFF,
	       "the slots of pause and the other small operations overlap");
_Static_assert(SCRATCH_END(SCRATCH_OPS_PATH) <= SCRATCH_OP_END &&
		       SCRATCH_OP_END <= INJECT_SCRATCH_NAP &&
		       INJECT_SCRATCH_NAP + 16u <= INJECT_SCRATCH_DATA,
	       "the operation part, the nap and the data overlap");
_Static_assert(SCRATCH_END(SCRATCH_CP_PATH) <= SCRATCH_CP_STAT_OFF &&
		       SCRATCH_END(SCRATCH_CP_STAT) <= SCRATCH_OP_END,
	       "cp's slots leave the operation part");
_Static_assert(SCRATCH_END(SCRATCH_EXEC_SIGACT) == SCRATCH_EXEC_EMPTYSET_OFF &&
		       SCRATCH_END(SCRATCH_EXEC_ZERO) <= SCRATCH_EXEC_ALRMSET_OFF &&
		       SCRATCH_END(SCRATCH_EXEC_ALRMSET) <= SCRATCH_EXEC_PATH_OFF &&
		       SCRATCH_END(SCRATCH_EXEC_PATH) <= SCRATCH_EXEC_EXEPATH_OFF &&
		       SCRATCH_END(SCRATCH_EXEC_EXEPATH) <= SCRATCH_EXEC_ARGV_OFF &&
		       SCRATCH_END(SCRATCH_EXEC_ARGV) <= SCRATCH_EXEC_ENVP_OFF &&
		       SCRATCH_END(SCRATCH_EXEC_ENVP) <= SCRATCH_EXEC_STRINGS_OFF &&
		       SCRATCH_END(SCRATCH_EXEC_STRINGS) <= SCRATCH_OP_END,
	       "exec's slots overlap or leave the operation part");

#endif
