/* hv/platform/vuart.c: the emulated 16550A, driven as Linux's 8250 driver drives a port
 * (drivers/tty/serial/8250/8250_port.c: autoconfig, the THRE test at startup, receiving). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "platform/vuart.h"

static struct vuart u;

static int setup(void **state)
{
	(void)state;
	vuart_reset(&u);
	return 0;
}

/* autoconfig(): the IER test, the loopback test (MCR = LOOP|OUT2|RTS must read back
 * CTS|DCD = 0x90 in MSR), then FIFO detection (IIR bits 7:6 = 3 after FCR enables the
 * FIFOs: a 16550A); the LSR safety check of startup (not 0xFF). */
static void test_linux_finds_a_16550a(void **state)
{
	(void)state;
	uint8_t saved = vuart_read(&u, VUART_IER);
	vuart_write(&u, VUART_IER, 0);
	assert_int_equal(vuart_read(&u, VUART_IER) & 0x0F, 0);
	vuart_write(&u, VUART_IER, 0x0F);
	assert_int_equal(vuart_read(&u, VUART_IER) & 0x0F, 0x0F);
	vuart_write(&u, VUART_IER, saved);
	uint8_t save_mcr = vuart_read(&u, VUART_MCR);
	vuart_write(&u, VUART_MCR, VUART_MCR_LOOP | 0x0A);
	assert_int_equal(vuart_read(&u, VUART_MSR) & 0xF0, 0x90);
	vuart_write(&u, VUART_MCR, save_mcr);
	vuart_write(&u, VUART_LCR, 0);
	vuart_write(&u, VUART_IIR_FCR, VUART_FCR_FIFO);
	assert_int_equal(vuart_read(&u, VUART_IIR_FCR) >> 6, 3);
	/* the 16750 test: IIR bit 5 never set, with or without DLAB */
	vuart_write(&u, VUART_IIR_FCR, VUART_FCR_FIFO | 0x20);
	assert_int_equal(vuart_read(&u, VUART_IIR_FCR) >> 5, 6);
	vuart_write(&u, VUART_LCR, VUART_LCR_DLAB);
	assert_int_equal(vuart_read(&u, VUART_IIR_FCR) >> 5, 6);
	vuart_write(&u, VUART_LCR, 0);
	/* the XScale test: IER bit 6 does not stick */
	vuart_write(&u, VUART_IER, 0x40);
	assert_int_equal(vuart_read(&u, VUART_IER) & 0x40, 0);
	assert_int_not_equal(vuart_read(&u, VUART_LSR), 0xFF);
	assert_int_equal(vuart_read(&u, VUART_LSR), VUART_LSR_IDLE);
	/* scratch and divisor latches keep what is written */
	vuart_write(&u, VUART_SCR, 0x5A);
	assert_int_equal(vuart_read(&u, VUART_SCR), 0x5A);
	vuart_write(&u, VUART_LCR, VUART_LCR_DLAB);
	vuart_write(&u, VUART_RBR_THR, 0x01);
	vuart_write(&u, VUART_IER, 0x00);
	assert_int_equal(vuart_read(&u, VUART_RBR_THR), 0x01);
	assert_int_equal(vuart_read(&u, VUART_IER), 0x00);
	vuart_write(&u, VUART_LCR, 0x03);
	assert_int_equal(vuart_read(&u, VUART_IER), 0x00); /* the real IER again */
}

/* startup's THRE test: enabling THRI with the transmitter empty raises THRE in IIR, and
 * again after IER is cleared and set (a UART that does not would get UART_BUG_THRE). */
static void test_thre_is_raised_when_enabled_and_cleared_by_iir(void **state)
{
	(void)state;
	vuart_write(&u, VUART_MCR, VUART_MCR_OUT2 | 0x03);
	vuart_write(&u, VUART_IER, VUART_IER_THRI);
	assert_true(vuart_irq(&u));
	assert_int_equal(vuart_read(&u, VUART_IIR_FCR) & 0x0F, VUART_IIR_THRE);
	assert_false(vuart_irq(&u)); /* reported: cleared */
	assert_int_equal(vuart_read(&u, VUART_IIR_FCR) & 0x0F, VUART_IIR_NONE);
	vuart_write(&u, VUART_IER, 0);
	vuart_write(&u, VUART_IER, VUART_IER_THRI);
	assert_int_equal(vuart_read(&u, VUART_IIR_FCR) & 0x0F, VUART_IIR_THRE);
	/* a byte sent empties the holding register at once: THRE again */
	vuart_write(&u, VUART_RBR_THR, 'x');
	assert_true(vuart_irq(&u));
	assert_int_equal(u.tx_bytes, 1);
}

/* What the monitor puts in is received: data ready, the interrupt (received data before
 * THRE), the byte, then nothing. Without OUT2 the interrupt stays off the bus. */
static void test_received_byte_raises_the_interrupt_until_read(void **state)
{
	(void)state;
	vuart_write(&u, VUART_IER, VUART_IER_RDI | VUART_IER_THRI);
	assert_true(vuart_rx_push(&u, '\n'));
	assert_false(vuart_irq(&u)); /* OUT2 clear */
	vuart_write(&u, VUART_MCR, VUART_MCR_OUT2 | 0x03);
	assert_true(vuart_irq(&u));
	assert_int_equal(vuart_read(&u, VUART_LSR) & VUART_LSR_DR, VUART_LSR_DR);
	assert_int_equal(vuart_read(&u, VUART_IIR_FCR) & 0x0F, VUART_IIR_RDA);
	assert_int_equal(vuart_read(&u, VUART_RBR_THR), '\n');
	assert_int_equal(vuart_read(&u, VUART_LSR) & VUART_LSR_DR, 0);
	/* THRE (raised when THRI was enabled) is next, then nothing */
	assert_int_equal(vuart_read(&u, VUART_IIR_FCR) & 0x0F, VUART_IIR_THRE);
	assert_int_equal(vuart_read(&u, VUART_IIR_FCR) & 0x0F, VUART_IIR_NONE);
	assert_false(vuart_irq(&u));
}

/* The FIFO holds 16 bytes; one more is dropped, counted, and shown as an overrun once. */
static void test_full_fifo_drops_and_reports_an_overrun(void **state)
{
	(void)state;
	for (uint32_t i = 0; i < VUART_RX_SIZE; i++)
		assert_true(vuart_rx_push(&u, (uint8_t)i));
	assert_false(vuart_rx_push(&u, 0xEE));
	assert_int_equal(u.rx_dropped, 1);
	assert_int_equal(vuart_read(&u, VUART_LSR) & VUART_LSR_OE, VUART_LSR_OE);
	assert_int_equal(vuart_read(&u, VUART_LSR) & VUART_LSR_OE, 0);
	for (uint32_t i = 0; i < VUART_RX_SIZE; i++)
		assert_int_equal(vuart_read(&u, VUART_RBR_THR), i);
	/* FCR's receive clear empties it */
	vuart_rx_push(&u, 1);
	vuart_write(&u, VUART_IIR_FCR, VUART_FCR_FIFO | VUART_FCR_CLR_RX);
	assert_int_equal(vuart_read(&u, VUART_LSR) & VUART_LSR_DR, 0);
}

/* Loopback: what is sent comes back to the receiver. */
static void test_loopback_returns_what_is_sent(void **state)
{
	(void)state;
	vuart_write(&u, VUART_MCR, VUART_MCR_LOOP);
	vuart_write(&u, VUART_RBR_THR, 0x42);
	assert_int_equal(vuart_read(&u, VUART_LSR) & VUART_LSR_DR, VUART_LSR_DR);
	assert_int_equal(vuart_read(&u, VUART_RBR_THR), 0x42);
	vuart_write(&u, VUART_MCR, 0);
	vuart_write(&u, VUART_RBR_THR, 0x43);
	assert_int_equal(vuart_read(&u, VUART_LSR) & VUART_LSR_DR, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_linux_finds_a_16550a, setup),
		cmocka_unit_test_setup(test_thre_is_raised_when_enabled_and_cleared_by_iir, setup),
		cmocka_unit_test_setup(test_received_byte_raises_the_interrupt_until_read, setup),
		cmocka_unit_test_setup(test_full_fifo_drops_and_reports_an_overrun, setup),
		cmocka_unit_test_setup(test_loopback_returns_what_is_sent, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
