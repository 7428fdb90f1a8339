/* SPDX-License-Identifier: MIT */
/*
 * A register-file model of an Intel 82540EM ("e1000") or 82574L ("e1000e")
 * on the mock backend, for unit tests of drivers/e1000 without hardware.
 * Modelled ([SDM] = 8254x SDM): CTRL.RST (self-clearing, registers back to
 * their reset values, RAR0 loaded from the EEPROM), EERD in each model's
 * layout, STATUS with link up at 1000 Mb/s full duplex, MDIC reads of a PHY
 * ID, ICR clear-on-read with IMS/IMC and an INTx (or MSI-X vector 0..2 on the
 * 82574) raised when ICR & IMS, legacy TX descriptors consumed on a TDT write
 * (DD written back when RS is set), legacy RX descriptors filled from frames
 * the test injects (as soon as RDH != RDT), and the clear-on-read statistics
 * registers. Device memory is reached only through vdf_mock_dma_ptr.
 *
 * Calling context: single-threaded; the model runs inside the MMIO accesses
 * of the code under test (and inside mock_e1000_inject).
 */
#ifndef VDF_TESTS_MOCK_E1000_H
#define VDF_TESTS_MOCK_E1000_H

#include <stdbool.h>
#include <stdint.h>

#include "vdf/hal.h"
#include "vdf/hw/e1000.h"
#include "vdf/mock.h"

#define MOCK_E1000_MAX_FRAMES 4096u

struct mock_e1000;

/* device_id: E1000_DEV_82540EM or E1000_DEV_82574L; mac: what the EEPROM holds. */
int mock_e1000_create(uint16_t device_id, const uint8_t mac[6],
		      struct mock_e1000 **out) VDF_MUST_CHECK;
/* Closes the device too. Accepts NULL. */
void mock_e1000_destroy(struct mock_e1000 *m);
struct vdf_dev *mock_e1000_dev(struct mock_e1000 *m);
struct vdf_mock *mock_e1000_mock(struct mock_e1000 *m);

/* A register's current value (no side effects) and a raw store (no side effects). */
uint32_t mock_e1000_reg(struct mock_e1000 *m, uint32_t off);
void mock_e1000_set_reg(struct mock_e1000 *m, uint32_t off, uint32_t val);
/* Overwrite an EEPROM word (RAR0 keeps what it loaded at power-up). */
void mock_e1000_set_eeprom(struct mock_e1000 *m, unsigned word, uint16_t val);
/* Transmitter hangs: TDT writes are recorded but nothing is fetched. */
void mock_e1000_set_tx_stopped(struct mock_e1000 *m, bool stopped);

/* An injected frame and, optionally, what the descriptor reports about it. */
struct mock_e1000_rx {
	const void *data;
	uint16_t len;
	uint8_t errors; /* RX descriptor errors field */
	bool no_eop;	/* report it without EOP */
	bool bad_len;	/* report length `fake_len` instead of len */
	uint16_t fake_len;
};
/* Queue a frame for reception; delivered now if a buffer is posted, else when
 * one is (RDT write). -ENOSPC when the model's queue is full. */
int mock_e1000_inject(struct mock_e1000 *m, const struct mock_e1000_rx *rx) VDF_MUST_CHECK;
/* Frames waiting for an RX buffer. */
unsigned mock_e1000_rx_pending(const struct mock_e1000 *m);

/* Frames the model transmitted: count, and a copy of the n-th (NULL if gone). */
unsigned mock_e1000_tx_count(const struct mock_e1000 *m);
const uint8_t *mock_e1000_tx_frame(const struct mock_e1000 *m, unsigned n, uint16_t *len);

struct mock_e1000_stats {
	uint64_t resets, eerd_reads, tdt_writes, rdt_writes, irqs, dma_errors;
};
void mock_e1000_get_stats(const struct mock_e1000 *m, struct mock_e1000_stats *st);

#endif
