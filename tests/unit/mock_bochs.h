/* SPDX-License-Identifier: MIT */
/*
 * A model of QEMU's bochs-display on the mock backend, for unit tests of
 * drivers/bochs without hardware. As QEMU's device does: BAR0 is VRAM, BAR2
 * holds the EDID blob at 0 (plain memory the test fills), the DISPI registers
 * at 0x500 (ID reads 0xB0C5, VIDEO_MEMORY_64K the VRAM size, every other
 * register stores whatever is written, no validation) and the QEMU extended
 * registers at 0x600 (size 8, byte order). Faults through vdf_mock_inject.
 */
#ifndef VDF_TESTS_MOCK_BOCHS_H
#define VDF_TESTS_MOCK_BOCHS_H

#include <stdint.h>

#include "vdf/hal.h"
#include "vdf/hw/bochs.h"
#include "vdf/mock.h"

struct mock_bochs;

/* vram: bytes of BAR0 (a power of two). */
int mock_bochs_create(uint64_t vram, struct mock_bochs **out) VDF_MUST_CHECK;
/* Closes the device too. Accepts NULL. */
void mock_bochs_destroy(struct mock_bochs *m);
struct vdf_dev *mock_bochs_dev(struct mock_bochs *m);
struct vdf_mock *mock_bochs_mock(struct mock_bochs *m);
/* DISPI register state (what a write stored) and a raw store. */
uint16_t mock_bochs_dispi(struct mock_bochs *m, unsigned index);
void mock_bochs_set_dispi(struct mock_bochs *m, unsigned index, uint16_t val);
uint32_t mock_bochs_byteorder(struct mock_bochs *m);
/* The EDID window (BOCHS_EDID_MAX bytes) and VRAM. */
uint8_t *mock_bochs_edid(struct mock_bochs *m);
uint8_t *mock_bochs_vram(struct mock_bochs *m);

#endif
