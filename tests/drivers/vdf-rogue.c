// SPDX-License-Identifier: MIT
/*
 * vdf-rogue: a hostile driver for the sandbox tests. It is started exactly
 * like a real driver (by the manager, or tests/drivers/vdf-grant-launch.c):
 * it receives a real grant on a socket, builds its device from it, locks
 * itself down (vdf_sandbox_lockdown), and then tries everything a driver must
 * not be able to do, printing one line per attempt:
 *
 *   PASS: <action> refused (<errno>)      or      FAIL: <action> succeeded
 *
 * The last attempt is a stray DMA: its device (an NVMe controller in the
 * test) is programmed, through a correctly set-up admin queue, to write an
 * Identify page to an IOVA right after a mapped canary buffer that was never
 * mapped itself. The IOMMU must block it: the canary stays intact and a
 * DMAR fault appears in the kernel log (checked by tests/vm/sandbox.sh).
 *
 *   vdf-rogue --grant-fd 3 [--other 0000:00:05.0]
 *
 * Exit status: 0 when every attempt was refused, 1 otherwise, 2 on set-up errors.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/vfio.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vdf/dma.h"
#include "vdf/event.h"
#include "vdf/grant.h"
#include "vdf/hal.h"
#include "vdf/hw/nvme.h"
#include "vdf/hw/pci.h"
#include "vdf/irq.h"
#include "vdf/log.h"
#include "vdf/mmio.h"
#include "vdf/sandbox.h"

#define ROGUE_QUEUE_DEPTH 16u
#define ROGUE_CANARY_BYTE 0xa5u
#define ROGUE_CID_GOOD	  1u
#define ROGUE_CID_STRAY	  2u
/* Far above the HAL's IOVAs (4 GiB up) and below the emulated VT-d's 2^39. */
#define ROGUE_RAW_IOVA 0x7000000000ull

static unsigned passes, fails;

static const char *errno_name(int err)
{
	const char *n = strerrorname_np(err);

	return n ? n : "?";
}

/* A syscall-style result: -1 with errno set means refused. */
static void expect_refused_sys(const char *action, long rc)
{
	int err = errno;

	if (rc == -1) {
		printf("PASS: %s refused (%s)\n", action, errno_name(err));
		passes++;
	} else {
		printf("FAIL: %s succeeded\n", action);
		fails++;
	}
}

/* A HAL-style result: 0 or a negative errno, which must be `want`. */
static void expect_refused_hal(const char *action, int rc, int want)
{
	if (rc == want) {
		printf("PASS: %s refused (%s)\n", action, errno_name(-rc));
		passes++;
	} else if (rc < 0) {
		printf("FAIL: %s failed with %s, want %s\n", action, errno_name(-rc),
		       errno_name(-want));
		fails++;
	} else {
		printf("FAIL: %s succeeded\n", action);
		fails++;
	}
}

static void pass(const char *fmt, ...) VDF_PRINTF(1, 2);
static void pass(const char *fmt, ...)
{
	va_list ap;

	printf("PASS: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	passes++;
}

static void fail(const char *fmt, ...) VDF_PRINTF(1, 2);
static void fail(const char *fmt, ...)
{
	va_list ap;

	printf("FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fails++;
}

/* ---- the system: files, sockets, processes ------------------------------ */

static void try_system(const char *other)
{
	char *const argv[] = {(char *)"true", NULL};
	char path[128];
	int sv[2];

	expect_refused_sys("open(\"/etc/passwd\")", open("/etc/passwd", O_RDONLY));
	expect_refused_sys("openat(AT_FDCWD, \"/etc/shadow\")",
			   openat(AT_FDCWD, "/etc/shadow", O_RDONLY));
	expect_refused_sys("creat(\"/tmp/rogue\")", creat("/tmp/rogue", 0600));
	expect_refused_sys("socket(AF_INET)", socket(AF_INET, SOCK_STREAM, 0));
	expect_refused_sys("socket(AF_UNIX)", socket(AF_UNIX, SOCK_STREAM, 0));
	expect_refused_sys("socketpair(AF_UNIX)", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	expect_refused_sys("execve(\"/bin/true\")", execve("/bin/true", argv, NULL));
	expect_refused_sys("fork()", fork());
	expect_refused_sys("ptrace(PTRACE_TRACEME)", ptrace(PTRACE_TRACEME, 0, NULL, NULL));
	expect_refused_sys("ptrace(PTRACE_ATTACH, parent)",
			   ptrace(PTRACE_ATTACH, getppid(), NULL, NULL));
	expect_refused_sys("kill(parent, SIGKILL)", kill(getppid(), SIGKILL));
	expect_refused_sys("setuid(0)", setuid(0));
	expect_refused_sys("mount(tmpfs)", mount("none", "/", "tmpfs", 0, NULL));
	expect_refused_sys("memfd_create", syscall(SYS_memfd_create, "rogue", 0));
	expect_refused_sys("mmap(PROT_EXEC)", mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
						   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED
						  ? -1
						  : 0);
	/* Another device: its VFIO nodes and its sysfs BAR files. */
	expect_refused_sys("open(\"/dev/vfio/vfio\")", open("/dev/vfio/vfio", O_RDWR));
	for (int g = 0; g < 8; g++) {
		snprintf(path, sizeof(path), "/dev/vfio/%d", g);
		int fd = open(path, O_RDWR);

		if (fd >= 0) {
			fail("open(\"%s\") succeeded", path);
			close(fd);
			return;
		}
	}
	pass("open(\"/dev/vfio/0..7\") refused (%s)", errno_name(errno));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource0", other);
	expect_refused_sys("open(other device's BAR0 resource file)", open(path, O_RDWR));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", other);
	expect_refused_sys("open(other device's config file)", open(path, O_RDONLY));
}

/* ---- its own device, beyond its rights ----------------------------------- */

static void try_device_rights(struct vdf_dev *dev, const struct vdf_grant *g)
{
	struct vdf_dma_buf *big = NULL;
	struct vdf_mmio mmio;
	uint8_t line = 0x42;
	uint32_t v;
	char what[96];

	for (unsigned bar = 1; bar < PCI_NUM_BARS; bar++) {
		if (g->rights.bars & BIT(bar))
			continue;
		snprintf(what, sizeof(what), "mapping ungranted BAR%u through the HAL", bar);
		expect_refused_hal(what, vdf_bar_map(dev, bar, &mmio), -EACCES);
		if (bar == 2 || bar == 5) {
			snprintf(what, sizeof(what), "reading ungranted BAR%u through the HAL",
				 bar);
			expect_refused_hal(what, vdf_bar_read(dev, bar, 0, &v, 4), -EACCES);
		}
	}
	snprintf(what, sizeof(what), "allocating %" PRIu64 " bytes of DMA (window %" PRIu64 ")",
		 g->rights.dma_window + VDF_PAGE_SIZE, g->rights.dma_window);
	expect_refused_hal(
	    what,
	    vdf_dma_alloc(dev, g->rights.dma_window + VDF_PAGE_SIZE, VDF_DMA_BIDIRECTIONAL, &big),
	    -ENOSPC);
	if (big)
		vdf_dma_free(big);
	if (!(g->rights.irq_kinds & BIT(VDF_IRQ_INTX)))
		expect_refused_hal("enabling ungranted INTx", vdf_irq_enable(dev, VDF_IRQ_INTX, 1),
				   -EACCES);
	if (!(g->rights.flags & VDF_RIGHT_CFG_WRITE))
		expect_refused_hal("config write to INTERRUPT_LINE",
				   vdf_cfg_write(dev, PCI_INTERRUPT_LINE, &line, 1), -EACCES);
}

/*
 * Past the HAL, straight to the kernel: pin more memory for DMA than
 * RLIMIT_MEMLOCK (the DMA window + slack) allows, with a raw VFIO ioctl on a
 * copy of the container fd.
 */
static void try_raw_dma_map(int container)
{
	struct vfio_iommu_type1_dma_map map = {.argsz = sizeof(map)};
	struct vfio_iommu_type1_dma_unmap unmap = {.argsz = sizeof(unmap)};
	struct rlimit rl;
	size_t len;
	void *p;
	int rc;

	if (getrlimit(RLIMIT_MEMLOCK, &rl) || rl.rlim_cur == RLIM_INFINITY) {
		fail("RLIMIT_MEMLOCK is not set: pinned DMA memory is not capped");
		return;
	}
	len = (size_t)rl.rlim_cur + (8u << 20);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		fail("mmap of %zu bytes: %s", len, strerror(errno));
		return;
	}
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	map.vaddr = (uintptr_t)p;
	map.iova = ROGUE_RAW_IOVA;
	map.size = len;
	rc = ioctl(container, VFIO_IOMMU_MAP_DMA, &map);
	if (rc == 0) {
		unmap.iova = map.iova;
		unmap.size = map.size;
		(void)ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap);
	}
	printf("rogue: raw VFIO_IOMMU_MAP_DMA of %zu MiB with RLIMIT_MEMLOCK %llu MiB\n", len >> 20,
	       (unsigned long long)rl.rlim_cur >> 20);
	expect_refused_sys("pinning DMA memory beyond RLIMIT_MEMLOCK (raw ioctl)", rc);
	munmap(p, len);
}

/* ---- the stray DMA ------------------------------------------------------- */

struct rogue_nvme {
	struct vdf_dev *dev;
	struct vdf_mmio bar;
	uint32_t stride;
	uint32_t timeout_ms;
	struct vdf_dma_buf *sq, *cq;
	uint16_t sq_tail, cq_head;
	uint8_t phase;
};

static int wait_ready(struct rogue_nvme *n, int want)
{
	uint64_t deadline = vdf_now_ns() + (uint64_t)n->timeout_ms * 1000000ull;
	uint32_t csts;

	for (;;) {
		if (vdf_mmio_read32_live(&n->bar, NVME_REG_CSTS, &csts))
			return -ENODEV;
		if (csts & NVME_CSTS_CFS)
			return -EIO;
		if (!!(csts & NVME_CSTS_RDY) == want)
			return 0;
		if (vdf_now_ns() > deadline)
			return -ETIMEDOUT;
		usleep(1000);
	}
}

/* NVMe 1.4c 7.6.1: disable, admin queue, configure, enable. Polled, no IRQs. */
static int nvme_up(struct rogue_nvme *n)
{
	uint64_t cap;
	uint32_t cc;
	int rc;

	rc = vdf_bar_map(n->dev, 0, &n->bar);
	if (rc)
		return rc;
	cap = vdf_mmio_read64(&n->bar, NVME_REG_CAP);
	if (cap == ~0ull)
		return -ENODEV;
	n->stride = 4u << FIELD_GET(NVME_CAP_DSTRD, cap);
	n->timeout_ms = (uint32_t)VDF_MAX(FIELD_GET(NVME_CAP_TO, cap), 1u) * NVME_CAP_TO_UNIT_MS;
	cc = vdf_mmio_read32(&n->bar, NVME_REG_CC);
	if (cc & NVME_CC_EN)
		vdf_mmio_write32(&n->bar, NVME_REG_CC, cc & ~NVME_CC_EN);
	rc = wait_ready(n, 0);
	if (rc)
		return rc;
	rc = vdf_dma_alloc(n->dev, ROGUE_QUEUE_DEPTH * sizeof(struct nvme_cmd), VDF_DMA_TO_DEVICE,
			   &n->sq);
	if (rc)
		return rc;
	rc = vdf_dma_alloc(n->dev, ROGUE_QUEUE_DEPTH * sizeof(struct nvme_cpl), VDF_DMA_FROM_DEVICE,
			   &n->cq);
	if (rc)
		return rc;
	n->phase = 1;
	vdf_mmio_write32(&n->bar, NVME_REG_AQA,
			 FIELD_PREP(NVME_AQA_ASQS, ROGUE_QUEUE_DEPTH - 1) |
			     FIELD_PREP(NVME_AQA_ACQS, ROGUE_QUEUE_DEPTH - 1));
	vdf_mmio_write64(&n->bar, NVME_REG_ASQ, n->sq->iova);
	vdf_mmio_write64(&n->bar, NVME_REG_ACQ, n->cq->iova);
	rc = vdf_dev_set_bus_master(n->dev, true);
	if (rc)
		return rc;
	vdf_mmio_write32(&n->bar, NVME_REG_CC,
			 NVME_CC_EN | FIELD_PREP(NVME_CC_IOSQES, NVME_SQE_SIZE_LOG2) |
			     FIELD_PREP(NVME_CC_IOCQES, NVME_CQE_SIZE_LOG2));
	return wait_ready(n, 1);
}

static void nvme_down(struct rogue_nvme *n)
{
	if (n->bar.len) {
		vdf_mmio_write32(&n->bar, NVME_REG_CC, 0);
		if (wait_ready(n, 0) || vdf_dev_set_bus_master(n->dev, false))
			printf("rogue: controller did not quiesce (the manager resets it)\n");
	}
	vdf_dma_free(n->cq);
	vdf_dma_free(n->sq);
}

/* Identify Controller with PRP1 = iova; returns the completion status field. */
static int identify(struct rogue_nvme *n, uint16_t cid, vdf_iova_t iova, uint16_t *status)
{
	struct nvme_cmd *cmds = n->sq->va, cmd;
	volatile struct nvme_cpl *cpl = (struct nvme_cpl *)n->cq->va + n->cq_head;
	uint64_t deadline = vdf_now_ns() + (uint64_t)n->timeout_ms * 1000000ull;
	uint16_t st;

	memset(&cmd, 0, sizeof(cmd));
	cmd.cdw0 =
	    htole32(FIELD_PREP(NVME_CMD_OPC, NVME_ADMIN_IDENTIFY) | FIELD_PREP(NVME_CMD_CID, cid));
	cmd.prp1 = htole64(iova);
	cmd.cdw10 = htole32(NVME_ID_CNS_CTRL);
	cmds[n->sq_tail] = cmd;
	n->sq_tail = (uint16_t)((n->sq_tail + 1) % ROGUE_QUEUE_DEPTH);
	vdf_dma_sync_for_device(n->sq, 0, n->sq->size);
	vdf_mmio_write32(&n->bar, NVME_SQ_TDBL(0, n->stride), n->sq_tail);
	for (;;) {
		vdf_dma_sync_for_cpu(n->cq, 0, n->cq->size);
		st = le16toh(cpl->status);
		if ((st & NVME_CPL_P) == n->phase)
			break;
		if (vdf_now_ns() > deadline)
			return -ETIMEDOUT;
		usleep(1000);
	}
	*status = st;
	n->cq_head = (uint16_t)((n->cq_head + 1) % ROGUE_QUEUE_DEPTH);
	if (!n->cq_head)
		n->phase ^= 1;
	vdf_mmio_write32(&n->bar, NVME_CQ_HDBL(0, n->stride), n->cq_head);
	return 0;
}

static int all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

static void try_stray_dma(struct vdf_dev *dev)
{
	struct rogue_nvme n = {.dev = dev};
	struct vdf_dma_buf *good = NULL, *canary = NULL;
	const struct nvme_id_ctrl *id;
	vdf_iova_t stray;
	uint16_t st;
	int rc;

	rc = nvme_up(&n);
	if (rc) {
		fail("stray DMA: bringing the NVMe admin queue up: %s", strerror(-rc));
		goto out;
	}
	/* Control: the same command into mapped memory works, so a blocked stray
	 * DMA is the IOMMU's doing and not a broken set-up. */
	rc = vdf_dma_alloc(dev, VDF_PAGE_SIZE, VDF_DMA_FROM_DEVICE, &good);
	if (!rc)
		rc = identify(&n, ROGUE_CID_GOOD, good->iova, &st);
	id = good ? good->va : NULL;
	if (rc || FIELD_GET(NVME_CPL_SC, st) || !id->mn[0]) {
		fail("control Identify into a mapped buffer: %s, status 0x%x",
		     rc ? strerror(-rc) : "no data", rc ? 0 : st);
		goto out;
	}
	printf("rogue: control Identify into mapped IOVA 0x%" PRIx64 ": model '%.16s'\n",
	       good->iova, id->mn);
	/* The canary is mapped last: the IOVA right after it is mapped by nobody. */
	rc = vdf_dma_alloc(dev, VDF_PAGE_SIZE, VDF_DMA_FROM_DEVICE, &canary);
	if (rc) {
		fail("stray DMA: allocating the canary: %s", strerror(-rc));
		goto out;
	}
	memset(canary->va, ROGUE_CANARY_BYTE, canary->size);
	vdf_dma_sync_for_device(canary, 0, canary->size);
	stray = canary->iova + canary->size;
	printf("rogue: stray Identify: PRP1 = unmapped IOVA 0x%" PRIx64 " (canary at 0x%" PRIx64
	       ")\n",
	       stray, canary->iova);
	rc = identify(&n, ROGUE_CID_STRAY, stray, &st);
	if (rc)
		printf("rogue: stray Identify: no completion (%s)\n", strerror(-rc));
	else
		printf("rogue: stray Identify completed with status 0x%x (SCT %u SC 0x%02x): "
		       "device status proves nothing, the kernel log does\n",
		       st, (unsigned)FIELD_GET(NVME_CPL_SCT, st),
		       (unsigned)FIELD_GET(NVME_CPL_SC, st));
	vdf_dma_sync_for_cpu(canary, 0, canary->size);
	if (all_bytes(canary->va, canary->size, ROGUE_CANARY_BYTE))
		pass("stray DMA to unmapped IOVA 0x%" PRIx64 " did not reach the canary", stray);
	else
		fail("stray DMA changed the canary buffer");
out:
	nvme_down(&n);
	vdf_dma_free(canary);
	vdf_dma_free(good);
}

static void send_heartbeat(int sock)
{
	struct vdf_grant_msg m = {.type = VDF_MSG_HEARTBEAT};
	int rc;

	m.u.hb.seq = 1;
	m.u.hb.rx_ios = passes;
	m.u.hb.errors = fails;
	rc = vdf_grant_msg_send(sock, &m);
	if (rc)
		fprintf(stderr, "vdf-rogue: heartbeat: %s\n", strerror(-rc));
}

int main(int argc, char **argv)
{
	const char *other = "0000:00:05.0";
	int sock = -1, fds[VDF_GRANT_NFDS], raw_container;
	struct vdf_dev *dev = NULL;
	struct vdf_grant g;
	unsigned n;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--grant-fd") && i + 1 < argc)
			sock = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--other") && i + 1 < argc)
			other = argv[++i];
		else {
			fprintf(stderr, "usage: vdf-rogue --grant-fd N [--other PCI-ADDR]\n");
			return 2;
		}
	}
	if (sock < 0) {
		fprintf(stderr, "usage: vdf-rogue --grant-fd N [--other PCI-ADDR]\n");
		return 2;
	}
	rc = vdf_grant_recv(sock, &g, fds, &n, VDF_GRANT_NFDS);
	if (rc) {
		fprintf(stderr, "vdf-rogue: no grant: %s\n", strerror(-rc));
		return 2;
	}
	/* Keep a copy of the container fd for the raw-ioctl attempt. */
	raw_container = fcntl(fds[VDF_GRANT_FD_CONTAINER], F_DUPFD_CLOEXEC, 0);
	rc = vdf_vfio_from_grant(&g, fds, n, &dev);
	if (rc || raw_container < 0) {
		fprintf(stderr, "vdf-rogue: building the device from the grant: %s\n",
			strerror(rc ? -rc : errno));
		return 2;
	}
	printf("rogue: %s driver '%s' instance %u, uid %u: BARs 0x%x, DMA window %" PRIu64
	       " bytes, IRQ kinds 0x%x\n",
	       g.pci_addr, g.driver, g.instance, (unsigned)getuid(), g.rights.bars,
	       g.rights.dma_window, g.rights.irq_kinds);
	rc = vdf_sandbox_lockdown();
	if (rc) {
		fprintf(stderr, "vdf-rogue: lockdown failed: %s\n", strerror(-rc));
		return 2;
	}
	try_system(other);
	try_device_rights(dev, &g);
	try_raw_dma_map(raw_container);
	try_stray_dma(dev);
	send_heartbeat(sock);
	printf("rogue: %u refused, %u not refused\n", passes, fails);
	close(raw_container);
	vdf_dev_close(dev);
	return fails ? 1 : 0;
}
