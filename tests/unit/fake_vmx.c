/* See fake_vmx.h. */
#include "fake_vmx.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

void handle_unexpected(struct vcpu *v)
{
	vmx_stop_guest(v, "unexpected");
}
