/* The injection engine's side of the operations' programs (inject/ops.h), for tests that
 * step a program by hand: the scratch area is a host buffer at SCRATCH_VA, and each call
 * is answered with the result a kernel would give. Host code, test-only. */
#ifndef TESTS_UNIT_OPS_HARNESS_H
#define TESTS_UNIT_OPS_HARNESS_H

#include <stdint.h>

#include "inject/ops.h"

#define SCRATCH_VA 0x7f0000000000ull

extern uint8_t scratch[INJECT_SCRATCH_SIZE];
extern struct ops_request q;
extern struct inject_env env;
extern struct inject_call call;
extern enum inject_step step;

/* A fresh request, scratch area and environment (ctx 0, now_ns 0). */
void harness_reset(void);
/* ops_prepare for `kind`, then step 0. */
void begin(enum ops_kind kind);
/* The result of the call in flight; the program's next step. */
void feed(int64_t result);
/* The step is a call of `nr`. */
void expect_call(uint64_t nr);
/* A NUL-terminated string the program put in the scratch area. */
const char *scratch_string(uint64_t va);

#endif
