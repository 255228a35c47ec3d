/* hv/platform/wake_port.c: where the port is, and the console UART's interrupt line
 * following the emulated UART's interrupt output as the guest's 8250 driver and the
 * monitor's rings drive it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "platform/vuart.h"
#include "platform/wake_port.h"

static bool line, tx_busy;
static int raises, lowers;

void console_irq_line(bool high)
{
	line = high;
	raises += high;
	lowers += !high;
}

bool console_irq_line_up(void)
{
	return line;
}

bool console_tx_idle(void)
{
	return !tx_busy;
}

static int setup(void **state)
{
	(void)state;
	line = tx_busy = false;
	raises = lowers = 0;
	wake_port_init(0x2F8);
	return 0;
}

static void test_the_port_shares_the_consoles_irq(void **state)
{
	(void)state;
	assert_int_equal(wake_port_stats()->base, 0x2E8);
	assert_string_equal(wake_port_device(), "/dev/ttyS3");
	assert_true(wake_port_is(0x2E8) && wake_port_is(0x2EF));
	assert_false(wake_port_is(0x2E7) || wake_port_is(0x2F0) || wake_port_is(0x2F8));
	wake_port_init(0x3F8);
	assert_int_equal(wake_port_stats()->base, 0x3E8);
	assert_string_equal(wake_port_device(), "/dev/ttyS2");
	wake_port_init(0x3E8); /* any other console: no wake port */
	assert_int_equal(wake_port_stats()->base, 0);
	assert_null(wake_port_device());
	assert_false(wake_port_is(0x2E8));
	wake_port_ring(0); /* nothing to ring */
	assert_int_equal(raises, 0);
}

/* The driver opened the port (OUT2, receive interrupts on): a ring raises the line; the
 * driver's handler reads IIR and the byte, and the line drops. A ring while the line is up
 * lowers it first: the guest's edge-triggered controller sees a new edge. */
static void test_a_ring_raises_the_line_until_the_driver_takes_the_byte(void **state)
{
	(void)state;
	wake_port_ring(1); /* before the driver enabled anything: the byte waits, no line */
	assert_int_equal(raises, 0);
	wake_port_out(0x2E8 + VUART_MCR, VUART_MCR_OUT2 | 0x03);
	wake_port_out(0x2E8 + VUART_IER, VUART_IER_RDI);
	assert_false(line); /* the guest's own accesses never raise it */
	wake_port_ring(2);
	assert_true(line);
	assert_int_equal(wake_port_in(0x2E8 + VUART_IIR_FCR) & 0x0F, VUART_IIR_RDA);
	assert_int_equal(wake_port_in(0x2E8 + VUART_RBR_THR), '\n');
	assert_true(line); /* the second byte still waits */
	assert_int_equal(wake_port_in(0x2E8 + VUART_RBR_THR), '\n');
	assert_false(line);
	wake_port_ring(3);
	assert_true(line);
	wake_port_ring(4); /* still up: down and up again */
	assert_true(line);
	assert_int_equal(raises, 3);
	assert_int_equal(lowers, 2);
	assert_int_equal(wake_port_stats()->rings, 4);
	assert_int_equal(wake_port_stats()->line_raises, 3);
}

/* While the console sends, a ring waits: the line rises at the first poll that finds the
 * console idle. A line nobody serves comes down after the hold time. The guest enabling
 * THRI (its echo) raises nothing by itself. */
static void test_the_line_waits_for_the_console_and_is_held_briefly(void **state)
{
	(void)state;
	wake_port_out(0x2E8 + VUART_MCR, VUART_MCR_OUT2 | 0x03);
	wake_port_out(0x2E8 + VUART_IER, VUART_IER_THRI);
	assert_false(line);
	tx_busy = true;
	wake_port_out(0x2E8 + VUART_IER, VUART_IER_RDI | VUART_IER_THRI);
	wake_port_ring(100);
	assert_false(line);
	wake_port_poll(110, 50);
	assert_false(line);
	tx_busy = false;
	wake_port_poll(120, 50);
	assert_true(line);
	wake_port_poll(169, 50);
	assert_true(line);
	wake_port_poll(170, 50); /* held 50: down, unserved */
	assert_false(line);
	wake_port_poll(500, 50);
	assert_false(line); /* not raised again without a ring */
	assert_int_equal(raises, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_the_port_shares_the_consoles_irq, setup),
		cmocka_unit_test_setup(test_a_ring_raises_the_line_until_the_driver_takes_the_byte,
				       setup),
		cmocka_unit_test_setup(test_the_line_waits_for_the_console_and_is_held_briefly,
				       setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
