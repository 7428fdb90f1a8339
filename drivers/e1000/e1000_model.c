// SPDX-License-Identifier: MIT
/*
 * What differs between the models: the 82540EM ([SDM]) and the 82574L
 * ([82574] datasheet): EERD layout, registers only the 82574 has, and how
 * interrupt causes reach vectors.
 */
#include <stddef.h>

#include "e1000.h"

/* Causes enabled with one vector (INTx or MSI): link, RX, TX write-back. */
#define IMS_LEGACY                                                                            \
	(E1000_ICR_LSC | E1000_ICR_RXT0 | E1000_ICR_RXO | E1000_ICR_RXDMT0 | E1000_ICR_TXDW | \
	 E1000_ICR_RXSEQ)

static void legacy_irq_enable(struct e1000_dev *e)
{
	if (!e->nvec)
		return;
	e1000_wr(e, E1000_REG_IMS, IMS_LEGACY);
}

static void e82540_init_hw(struct e1000_dev *e)
{
	(void)e; /* nothing beyond the shared core */
}

/*
 * 82574: tell the firmware a driver is loaded, the GCR bit the datasheet asks
 * software to set, TX queue 0 arbitration on, legacy RX descriptors (RFCTL.EXSTEN
 * clear; [82574] 7.1.4).
 */
static void e82574_init_hw(struct e1000_dev *e)
{
	e1000_wr(e, E1000_REG_CTRL_EXT, e1000_rd(e, E1000_REG_CTRL_EXT) | E1000E_CTRL_EXT_DRV_LOAD);
	e1000_wr(e, E1000E_REG_GCR, e1000_rd(e, E1000E_REG_GCR) | E1000E_GCR_INIT_BIT22);
	e1000_wr(e, E1000E_REG_TARC0, e1000_rd(e, E1000E_REG_TARC0) | E1000E_TARC_ENABLE);
	e1000_wr(e, E1000E_REG_RFCTL, e1000_rd(e, E1000E_REG_RFCTL) & ~E1000E_RFCTL_EXSTEN);
}

static uint32_t ivar_entry(unsigned vec)
{
	return vec | E1000E_IVAR_VALID;
}

/*
 * 82574 MSI-X ([82574] 7.4.2, 10.2.4.9): RX queue 0 -> vector 0, TX queue 0 ->
 * vector 1, other causes (link) -> vector 2. EIAC auto-clears those causes
 * when their message is sent and, with CTRL_EXT.IAME clear, masks them too:
 * the handler re-enables its cause in IMS when done (e1000_handle_irq).
 */
static void e82574_irq_enable(struct e1000_dev *e)
{
	if (e->irq_kind != VDF_IRQ_MSIX || !e->nvec) {
		legacy_irq_enable(e);
		return;
	}
	e1000_wr(e, E1000E_REG_IVAR,
		 (uint32_t)(FIELD_PREP(E1000E_IVAR_RXQ0, ivar_entry(E1000E_VEC_RX)) |
			    FIELD_PREP(E1000E_IVAR_TXQ0, ivar_entry(E1000E_VEC_TX)) |
			    FIELD_PREP(E1000E_IVAR_OTHER, ivar_entry(E1000E_VEC_OTHER))));
	e1000_wr(e, E1000_REG_CTRL_EXT,
		 (e1000_rd(e, E1000_REG_CTRL_EXT) & ~E1000E_CTRL_EXT_IAME) |
		     E1000E_CTRL_EXT_PBA_CLR);
	e1000_wr(e, E1000E_REG_EIAC, E1000E_ICR_RXQ0 | E1000E_ICR_TXQ0 | E1000E_ICR_OTHER);
	e1000_wr(e, E1000_REG_IMS,
		 E1000E_ICR_RXQ0 | E1000E_ICR_TXQ0 | E1000E_ICR_OTHER | E1000_ICR_LSC);
}

const struct e1000_model e1000_model_82540em = {
    .name = "82540EM (e1000)",
    .device_id = E1000_DEV_82540EM,
    .eerd_done = E1000_EERD_DONE,
    .eerd_addr = E1000_EERD_ADDR,
    .tipg = E1000_TIPG_COPPER,
    .has_msix = false,
    .rx_csum = false,
    .init_hw = e82540_init_hw,
    .irq_enable = legacy_irq_enable,
};

const struct e1000_model e1000_model_82574l = {
    .name = "82574L (e1000e)",
    .device_id = E1000_DEV_82574L,
    .eerd_done = E1000E_EERD_DONE,
    .eerd_addr = E1000E_EERD_ADDR,
    .tipg = E1000E_TIPG_DEFAULT,
    .has_msix = true,
    .rx_csum = true,
    .init_hw = e82574_init_hw,
    .irq_enable = e82574_irq_enable,
};

const struct e1000_model *e1000_model_find(uint16_t device_id)
{
	static const struct e1000_model *const models[] = {&e1000_model_82540em,
							   &e1000_model_82574l};

	for (size_t i = 0; i < VDF_ARRAY_SIZE(models); i++)
		if (models[i]->device_id == device_id)
			return models[i];
	return NULL;
}
