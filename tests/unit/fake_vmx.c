/* See fake_vmx.h. */
#include "fake_vmx.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/cpus.h"
#include "core/log.h"
#include "vmx/exit_handlers.h"
#include "vmx/vmx.h"

struct fake_vmx_calls fake_vmx;

void fake_vmx_reset(void)
{
	memset(&fake_vmx, 0, sizeof(fake_vmx));
}

void vmx_inject_gp0(struct vcpu *v)
{
	(void)v;
	fake_vmx.gp++;
}

void vmx_advance_rip(struct vcpu *v)
{
	(void)v;
	fake_vmx.advances++;
}

void vmx_stop_guest(struct vcpu *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(fake_vmx.stop_reason, sizeof(fake_vmx.stop_reason), fmt, ap);
	va_end(ap);
	v->guest_stopped = true;
	fake_vmx.stops++;
}

bool cpus_invept_all(struct vcpu *self, char *why, size_t cap)
{
	(void)self, (void)why, (void)cap;
	fake_vmx.invept_all++;
	return true;
}

void log_printf(const char *fmt, ...)
{
	(void)fmt;
}

void handle_unexpected(struct vcpu *v)
{
	vmx_stop_guest(v, "unexpected");
}
