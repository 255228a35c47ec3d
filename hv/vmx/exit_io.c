/* SPDX-License-Identifier: MIT */
/*
 * I/O exits, and which ports exit (one policy read by the I/O bitmaps, vmcs_setup.c, and
 * by the handler). Exit qualification: SDM 27.2.1 Table 27-5.
 *
 *   the console UART's ports: the guest must neither reach the console nor learn anything
 *     from it: writes are dropped, and reads return a fixed view that never depends on the
 *     console: all ones, as from an empty ISA bus, so Linux's 8250 probe finds no UART
 *     there (its IER test fails) — except the line status register, which reads
 *     "transmitter empty, no data". Firmware that found the UART before the monitor started
 *     (OVMF puts its terminal on every serial port) then neither spins on "data ready"
 *     reading 0xFF bytes nor waits for room to send: it costs one exit per access.
 *   the Super I/O configuration ports (0x2E/0x2F, 0x4E/0x4F): the same empty-bus view, so
 *     the guest cannot move the console UART's decode (its base address or IRQ) through the
 *     Super I/O chip that implements it. PCI/LPC bridge decode is not filtered (README).
 *   the ACPI sleep registers (PM1a/PM1b control, sleep control; platform/acpi_sleep.h):
 *     passed through, except a write that enters a sleep state other than S5: after S3/S4
 *     the firmware would resume the guest without the monitor, so the guest is stopped
 *     instead (fail closed) and the console stays up.
 *   PCI configuration mechanism #1 (0xCF8-0xCFF): passed through, except a write that
 *     would move the PM1 block's I/O base (platform/pci_guard.h), which is dropped.
 *   the wake port (platform/wake_port.h): an emulated 16550A the resident helper blocks on.
 */
#include "console/uart.h"
#include "core/monitor.h"
#include "platform/acpi_sleep.h"
#include "platform/pci_guard.h"
#include "platform/wake_port.h"
#include "vmx/exit_handlers.h"
#include "vmx/vmx.h"

#define IO_QUAL_SIZE(q) (((q)&7u) + 1u) /* 1, 2 or 4 bytes */
#define IO_QUAL_IN      (1u << 3)
#define IO_QUAL_STRING  (1u << 4)

#define UART_LSR_OFFSET 5u
#define UART_LSR_IDLE   0x60u /* THRE | TEMT: nothing received, nothing to send */

static const uint16_t superio_ports[] = {0x2E, 0x2F, 0x4E, 0x4F};

uint64_t io_blocked_reads, io_blocked_writes, io_blocked_string, io_sleep_refused;
struct pci_guard pm_base_guard; /* found at start (core/entry.c), read-only after */

/* What the guest reads from one of the console's ports (see above). */
uint8_t console_port_guest_view(uint16_t port)
{
	return (uint16_t)(port - machine.console_port) == UART_LSR_OFFSET ? UART_LSR_IDLE : 0xFFu;
}

static bool is_console(uint16_t port)
{
	return (uint16_t)(port - machine.console_port) < UART_PORT_COUNT;
}

static void set_port(uint8_t *a, uint8_t *b, uint16_t port)
{
	uint8_t *bm = port < 0x8000 ? a : b;
	uint32_t bit = port & 0x7FFFu;
	bm[bit / 8] |= (uint8_t)(1u << (bit % 8));
}

void io_policy_fill_bitmaps(uint8_t *a, uint8_t *b)
{
	for (uint32_t p = machine.console_port; p < machine.console_port + UART_PORT_COUNT; p++)
		set_port(a, b, (uint16_t)p);
	for (unsigned int i = 0; i < sizeof(superio_ports) / sizeof(superio_ports[0]); i++)
		set_port(a, b, superio_ports[i]);
	for (int r = 0; r < 2; r++) {
		if (machine.sleep.pm1_cnt[r] != 0) {
			set_port(a, b, machine.sleep.pm1_cnt[r]);
			set_port(a, b, (uint16_t)(machine.sleep.pm1_cnt[r] + 1u));
		}
	}
	if (machine.sleep.sleep_ctl != 0)
		set_port(a, b, machine.sleep.sleep_ctl);
	if (pm_base_guard.found)
		for (uint16_t p = PCI_CONFIG_ADDRESS; p < PCI_CONFIG_DATA + 4u; p++)
			set_port(a, b, p);
	uint16_t wake = wake_port_stats()->base;
	for (uint32_t i = 0; wake != 0 && i < UART_PORT_COUNT; i++)
		set_port(a, b, (uint16_t)(wake + i));
}

static void set_rax(struct vcpu *v, unsigned int size, uint32_t value)
{
	/* IN AL/AX keeps the rest of RAX; IN EAX zero-extends (SDM Vol. 1 3.4.1.1). */
	if (size == 4)
		v->regs->rax = value;
	else
		v->regs->rax = (v->regs->rax & ~(size == 1 ? 0xFFull : 0xFFFFull)) | value;
}

/* The wake port, a byte at a time (IN AL/AX/EAX, OUT likewise). */
static void wake_port_access(struct vcpu *v, uint16_t port, unsigned int size, bool in)
{
	if (in) {
		uint32_t value = 0;
		for (unsigned int i = 0; i < size; i++) {
			uint16_t p = (uint16_t)(port + i);
			value |= (uint32_t)(wake_port_is(p) ? wake_port_in(p) : 0xFFu) << (8 * i);
		}
		set_rax(v, size, value);
	} else {
		for (unsigned int i = 0; i < size; i++) {
			uint16_t p = (uint16_t)(port + i);
			if (wake_port_is(p))
				wake_port_out(p, (uint8_t)(v->regs->rax >> (8 * i)));
		}
	}
	vmx_advance_rip(v);
}

static bool is_pci_config(uint16_t port)
{
	return (uint16_t)(port - PCI_CONFIG_ADDRESS) < 8u;
}

/* A configuration write: through, unless it is a data write that moves the PM1 base. */
static void pci_config_write(struct vcpu *v, uint16_t port, unsigned int size)
{
	uint32_t value = (uint32_t)v->regs->rax;
	if (port >= PCI_CONFIG_DATA) {
		uint32_t cf8 = io_in(PCI_CONFIG_ADDRESS, 4);
		if ((cf8 & 0x80FFFFFCu) == pm_base_guard.cf8) {
			uint32_t now = io_in(PCI_CONFIG_DATA, 4);
			if (!pci_guard_write_allowed(&pm_base_guard, cf8, port, size, value, now)) {
				pm_base_guard.refused++;
				vmx_advance_rip(v); /* dropped: the register keeps its base */
				return;
			}
		}
	}
	io_out(port, size, value);
	vmx_advance_rip(v);
}

/* A write that touches a sleep register: let it through, unless it enters a sleep
 * state the monitor would not survive. */
static void sleep_register_write(struct vcpu *v, uint16_t port, unsigned int size)
{
	uint32_t value = (uint32_t)v->regs->rax;
	/* Each register the access writes, as it will be: the bytes written over the
	 * register's current value. */
	for (unsigned int i = 0; i < size; i++) {
		unsigned int byte;
		enum acpi_sleep_reg reg =
			acpi_sleep_reg_of(&machine.sleep, (uint16_t)(port + i), &byte);
		if (reg == ACPI_SLEEP_NONE)
			continue;
		uint16_t base = (uint16_t)(port + i - byte);
		uint32_t now = reg == ACPI_SLEEP_CTL ? io_in(base, 1) : io_in(base, 2);
		uint32_t next = now;
		for (unsigned int j = 0; j < size; j++) {
			uint16_t p = (uint16_t)(port + j);
			unsigned int b2;
			if (acpi_sleep_reg_of(&machine.sleep, p, &b2) == reg &&
			    (uint16_t)(p - b2) == base)
				next = (next & ~(0xFFu << (8 * b2))) |
				       (((value >> (8 * j)) & 0xFFu) << (8 * b2));
		}
		uint8_t typ;
		if (!acpi_sleep_write_allowed(&machine.sleep, reg, next, &typ)) {
			io_sleep_refused++;
			vmx_stop_guest(
				v,
				"the guest asked for sleep state SLP_TYP=%u (port 0x%x, value "
				"0x%x): refused, since the firmware would resume the guest from "
				"S1-S4 without the monitor; the guest is stopped",
				typ, port, value);
			return;
		}
	}
	io_out(port, size, value);
	vmx_advance_rip(v);
}

void handle_io(struct vcpu *v)
{
	uint64_t q = v->exit_qualification;
	unsigned int size = IO_QUAL_SIZE(q);
	uint16_t port = (uint16_t)(q >> 16);
	if (q & IO_QUAL_STRING) {
		/* INS/OUTS to these ports: nothing legitimate does that to a UART we hide, a
		 * Super I/O index or a sleep register; refuse it the way a protection check
		 * would (#GP) rather than emulate string I/O through guest memory. */
		io_blocked_string++;
		vmx_inject_gp0(v);
		return;
	}
	bool sleep_reg = false;
	for (unsigned int i = 0; i < size; i++) {
		unsigned int byte;
		sleep_reg |= acpi_sleep_reg_of(&machine.sleep, (uint16_t)(port + i), &byte) !=
			     ACPI_SLEEP_NONE;
	}
	/* Reads of the ports that are passed through (configuration, sleep registers). */
	if ((is_pci_config(port) || sleep_reg) && (q & IO_QUAL_IN)) {
		set_rax(v, size, io_in(port, size));
		vmx_advance_rip(v);
		return;
	}
	if (is_pci_config(port)) {
		pci_config_write(v, port, size);
		return;
	}
	if (sleep_reg) {
		sleep_register_write(v, port, size);
		return;
	}
	if (wake_port_is(port)) {
		wake_port_access(v, port, size, (q & IO_QUAL_IN) != 0);
		return;
	}
	if (q & IO_QUAL_IN) {
		uint32_t value = 0;
		for (unsigned int i = 0; i < size; i++) {
			uint16_t p = (uint16_t)(port + i);
			value |= (uint32_t)(is_console(p) ? console_port_guest_view(p) : 0xFFu)
				 << (8 * i);
		}
		/* Super I/O (and any byte not the console's) reads as an empty bus. */
		set_rax(v, size, value);
		io_blocked_reads++;
	} else {
		io_blocked_writes++;
	}
	vmx_advance_rip(v);
}
