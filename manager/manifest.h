/* SPDX-License-Identifier: MIT */
/*
 * Driver manifests: one JSON file per driver saying which devices it drives
 * (match rules), what it may be granted (capabilities), how it is restarted
 * and what it may consume (limits). The same manifest decides what matches
 * and what is granted, so the parser is strict: unknown keys, wrong types,
 * out-of-range values, duplicate keys and anything that is not RFC 8259 JSON
 * are errors, each reported as "<origin>: <json path>: <what is wrong>".
 * The format is documented in docs/MANIFESTS.md.
 *
 * Manifests are configuration an operator installs, but they are parsed as
 * untrusted bytes: the parser has an input size limit, a nesting limit and a
 * libFuzzer target (tests/fuzz/fuzz_manifest.c).
 */
#ifndef VDF_MANAGER_MANIFEST_H
#define VDF_MANAGER_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vdf/common.h"
#include "vdf/driver.h"

#define VDF_MANIFEST_MAX_BYTES	 (64u * 1024) /* larger inputs are refused */
#define VDF_MANIFEST_MAX_DEPTH	 8	      /* JSON nesting limit */
#define VDF_MANIFEST_NAME_MAX	 31	      /* [a-z0-9_-]{1,31} */
#define VDF_MANIFEST_VERSION_MAX 31
#define VDF_MANIFEST_BINARY_MAX	 1023
#define VDF_MANIFEST_MAX_ARGS	 32
#define VDF_MANIFEST_ARG_MAX	 255
#define VDF_MANIFEST_MAX_RULES	 64
#define VDF_MANIFEST_COMPAT_MAX	 63
#define VDF_MANIFEST_MAX_BARS	 6
#define VDF_MANIFEST_MAX_MSIX	 2048
#define VDF_MANIFEST_MAX_MSI	 32
#define VDF_MANIFEST_MAX_DMA	 (64ull << 30) /* 64 GiB */
#define VDF_MANIFEST_ERR_MAX	 512	       /* a good size for error buffers */

/* A driver's class. The first six equal enum vdf_device_class; "test" is for test drivers. */
enum vdf_manifest_class {
	VDF_MANIFEST_CLASS_BLOCK = VDF_CLASS_BLOCK,
	VDF_MANIFEST_CLASS_NET = VDF_CLASS_NET,
	VDF_MANIFEST_CLASS_DISPLAY = VDF_CLASS_DISPLAY,
	VDF_MANIFEST_CLASS_USB_HOST = VDF_CLASS_USB_HOST,
	VDF_MANIFEST_CLASS_INPUT = VDF_CLASS_INPUT,
	VDF_MANIFEST_CLASS_CHAR = VDF_CLASS_CHAR,
	VDF_MANIFEST_CLASS_TEST,
	VDF_MANIFEST_CLASS_COUNT
};

/* "block", "net", "display", "usb-host", "input", "char", "test"; "?" if out of range. */
const char *vdf_manifest_class_name(enum vdf_manifest_class c);
/* The class named `name`, or -EINVAL. */
int vdf_manifest_class_parse(const char *name);

enum vdf_match_bus {
	VDF_MATCH_BUS_PCI,
	VDF_MATCH_BUS_USB, /* parsed and kept for the USB bus driver; never matches a PCI device */
	VDF_MATCH_BUS_DT,  /* device-tree "compatible"; likewise */
};

/* Which criteria a rule names (vdf_match_rule.fields). USB rules use VENDOR,
 * DEVICE (= idProduct) and CLASS (class << 16 | subclass << 8 | protocol). */
#define VDF_MATCH_VENDOR	BIT(0)
#define VDF_MATCH_DEVICE	BIT(1)
#define VDF_MATCH_SUBSYS_VENDOR BIT(2)
#define VDF_MATCH_SUBSYS_DEVICE BIT(3)
#define VDF_MATCH_CLASS		BIT(4)

#define VDF_MATCH_BONUS_MIN (-1000)
#define VDF_MATCH_BONUS_MAX 1000

struct vdf_match_rule {
	enum vdf_match_bus bus;
	uint32_t fields; /* VDF_MATCH_* */
	uint16_t vendor, device;
	uint16_t subsys_vendor, subsys_device;
	uint32_t class_code, class_mask; /* 0xCCSSPP; mask defaults to 0xffffff */
	int bonus;			 /* "score": added to the specificity score */
	char compatible[VDF_MANIFEST_COMPAT_MAX + 1];
};

/* What the driver may be granted; also what the device must offer (see vdf_match_check_caps). */
struct vdf_manifest_caps {
	uint8_t bars;	     /* bit n: BAR n is granted as MMIO */
	uint8_t io_bars;     /* bit n: BAR n is granted as I/O ports */
	uint64_t dma_window; /* bytes of IOVA space; 0 = no DMA */
	unsigned msix;	     /* at most this many MSI-X vectors */
	unsigned msix_min;   /* the device must offer at least this many */
	unsigned msi, msi_min;
	bool intx; /* INTx may be granted, and the device must have it */
	bool cfg_write;
};

struct vdf_manifest_restart {
	unsigned max_restarts; /* within window_s; one more crash marks the device failed */
	unsigned window_s;
	unsigned backoff_initial_ms;
	unsigned backoff_max_ms;
};

struct vdf_manifest_limits {
	unsigned memory_mb;  /* RLIMIT_AS */
	unsigned fds;	     /* RLIMIT_NOFILE */
	unsigned memlock_mb; /* RLIMIT_MEMLOCK; defaults to the DMA window rounded up */
};

/* Rate limits on each block client the manager brokers to the driver
 * (control "open"); 0 = unlimited. They travel in the CLIENT message. */
struct vdf_manifest_client_limits {
	uint64_t ops_per_sec, ops_burst;     /* a rate needs a burst */
	uint64_t bytes_per_sec, bytes_burst; /* burst >= VDF_MANIFEST_MIN_BYTES_BURST */
};

/* A bytes burst below this could refuse a single large request forever. */
#define VDF_MANIFEST_MIN_BYTES_BURST (1ull << 20)
/* The largest burst (a token bucket holds burst * 10^9 nano-tokens in 64 bits). */
#define VDF_MANIFEST_MAX_BURST (UINT64_MAX / 1000000000ull)

struct vdf_manifest {
	char name[VDF_MANIFEST_NAME_MAX + 1];
	char version[VDF_MANIFEST_VERSION_MAX + 1];
	enum vdf_manifest_class device_class;
	char *binary;	   /* as written in the file */
	char *binary_path; /* resolved (vdf_manifest_resolve); equals binary until then */
	char **args;	   /* nargs strings, may contain "{pci}" */
	unsigned nargs;
	struct vdf_match_rule *rules;
	unsigned nrules;
	struct vdf_manifest_caps caps;
	struct vdf_manifest_restart restart;
	struct vdf_manifest_limits limits;
	struct vdf_manifest_client_limits client_limits;
	unsigned heartbeat_ms; /* 0 = the driver sends no heartbeat */
	char *origin;	       /* where it came from (file path), for messages */
};

/* Defaults for what a manifest leaves out. */
#define VDF_MANIFEST_DEF_MAX_RESTARTS 5
#define VDF_MANIFEST_DEF_WINDOW_S     60
#define VDF_MANIFEST_DEF_BACKOFF_MS   100
#define VDF_MANIFEST_DEF_BACKOFF_MAX  5000
#define VDF_MANIFEST_DEF_MEMORY_MB    256
#define VDF_MANIFEST_DEF_FDS	      64

/*
 * Parse a manifest from `len` bytes of `text` (need not be NUL-terminated).
 * `origin` names the input in messages (a file name; NULL = "manifest").
 * On success fills *m (free with vdf_manifest_free) and returns 0. On failure
 * returns -EINVAL (bad input), -E2BIG (over VDF_MANIFEST_MAX_BYTES) or
 * -ENOMEM, writes one line naming origin and JSON path into err (errlen > 0;
 * VDF_MANIFEST_ERR_MAX is enough) and leaves *m zeroed. Never crashes on any
 * input. Thread-safe (no global state).
 */
int vdf_manifest_parse(const char *text, size_t len, const char *origin, struct vdf_manifest *m,
		       char *err, size_t errlen) VDF_MUST_CHECK;

/*
 * Read and parse the file at `path` (a regular file, not writable by others,
 * at most VDF_MANIFEST_MAX_BYTES). A relative "binary" is resolved against
 * `bindir`, or against the manifest's own directory when bindir is NULL.
 * Returns 0 or a negative errno (-ENOENT, -EACCES, -EPERM for a
 * world-writable file, -E2BIG, -EINVAL, ...) with the reason in err.
 */
int vdf_manifest_load(const char *path, const char *bindir, struct vdf_manifest *m, char *err,
		      size_t errlen) VDF_MUST_CHECK;

/* Set binary_path: `binary` itself if absolute, else bindir + "/" + binary
 * (bindir NULL: left as written). Returns 0 or -ENOMEM / -ENAMETOOLONG. */
int vdf_manifest_resolve(struct vdf_manifest *m, const char *bindir) VDF_MUST_CHECK;

/* Free what parse/load allocated and zero *m. Accepts NULL and zeroed manifests. */
void vdf_manifest_free(struct vdf_manifest *m);

/*
 * The driver's argv: binary_path, then args with every "{pci}" replaced by
 * pci_addr, then NULL. Allocated in one block: free(*argvp). 0 or -ENOMEM.
 */
int vdf_manifest_build_argv(const struct vdf_manifest *m, const char *pci_addr,
			    char ***argvp) VDF_MUST_CHECK;

/* Manifests loaded from a directory, plus a message for every file refused. */
struct vdf_manifest_set {
	struct vdf_manifest *items; /* sorted by name */
	size_t count;
	char **errors; /* one line each, naming the file */
	size_t nerrors;
};

/*
 * Load every regular "*.manifest" and "*.json" file in `dir` (hidden files
 * skipped, in name order) into *set, which this call initialises. Good
 * manifests are kept; bad ones, and any whose name repeats an earlier one,
 * are refused with a message in set->errors. Returns 0 when the directory
 * could be read (check set->nerrors), a negative errno otherwise (*set is then
 * empty). Free with vdf_manifest_set_free.
 */
int vdf_manifest_load_dir(const char *dir, const char *bindir,
			  struct vdf_manifest_set *set) VDF_MUST_CHECK;

/* Add *m to the set, which takes ownership (m is zeroed). -EEXIST if the name
 * is taken (m untouched), -ENOMEM. Keeps the set sorted by name. */
int vdf_manifest_set_add(struct vdf_manifest_set *set, struct vdf_manifest *m) VDF_MUST_CHECK;
/* Record a refused input's message (copied). -ENOMEM. */
int vdf_manifest_set_add_error(struct vdf_manifest_set *set, const char *msg) VDF_MUST_CHECK;
const struct vdf_manifest *vdf_manifest_set_find(const struct vdf_manifest_set *set,
						 const char *name);
/* Free everything and zero *set. Accepts NULL. */
void vdf_manifest_set_free(struct vdf_manifest_set *set);

/*
 * Parse a size: a non-negative decimal integer optionally followed by K, M or
 * G (binary units, either case), e.g. "64M". Returns 0 or -EINVAL / -ERANGE.
 */
int vdf_manifest_parse_size(const char *s, uint64_t *out) VDF_MUST_CHECK;

/*
 * Internal: the strict JSON front end and typed getters, shared with the
 * policy parser (manager/policy.c). Not for other callers.
 */
struct json_object;

#define VDF_MJSON_PATH_MAX 160

struct vdf_mjson {
	const char *origin;
	char *err;
	size_t errlen;
	char path[VDF_MJSON_PATH_MAX]; /* "capabilities.irqs.msix", "match[2]" */
	size_t plen;
};

/* Read a regular file of at most max bytes that others cannot write; the
 * text is malloc'd (not NUL-terminated). 0 or -errno with a message. */
int vdf_mjson_read_file(const char *path, size_t max, char **textp, size_t *lenp, char *err,
			size_t errlen) VDF_MUST_CHECK;
void vdf_mjson_init(struct vdf_mjson *j, const char *origin, char *err, size_t errlen);
/* Validate (strict RFC 8259, UTF-8, no NULs, no duplicate keys, depth and
 * size limits) and build the tree; the root must be an object. 0 or -errno. */
int vdf_mjson_parse(struct vdf_mjson *j, const char *text, size_t len, size_t max_bytes,
		    struct json_object **root) VDF_MUST_CHECK;
/* Format "<origin>: <path>: <msg>" into the error buffer; returns -EINVAL. */
int vdf_mjson_fail(struct vdf_mjson *j, const char *fmt, ...) VDF_PRINTF(2, 3);
size_t vdf_mjson_push_key(struct vdf_mjson *j, const char *key);
size_t vdf_mjson_push_index(struct vdf_mjson *j, size_t i);
void vdf_mjson_pop(struct vdf_mjson *j, size_t saved);

/*
 * If obj has `key`, set v to its value and evaluate `call` (an int
 * expression using v) with the key pushed on the error path; a non-zero
 * result is returned from the enclosing function.
 */
#define VDF_MJSON_FIELD(j, obj, key, v, call)                           \
	do {                                                            \
		if (json_object_object_get_ex((obj), (key), &(v))) {    \
			size_t saved_ = vdf_mjson_push_key((j), (key)); \
			int rc_ = (call);                               \
			if (rc_)                                        \
				return rc_;                             \
			vdf_mjson_pop((j), saved_);                     \
		}                                                       \
	} while (0)
/* Every key of `obj` must be in the NULL-terminated `known`. */
int vdf_mjson_check_keys(struct vdf_mjson *j, struct json_object *obj,
			 const char *const *known) VDF_MUST_CHECK;
/* Typed reads of the current path's value v; each fails with a message. */
int vdf_mjson_expect_object(struct vdf_mjson *j, struct json_object *v) VDF_MUST_CHECK;
int vdf_mjson_expect_array(struct vdf_mjson *j, struct json_object *v, size_t max,
			   size_t *n) VDF_MUST_CHECK;
int vdf_mjson_get_int(struct vdf_mjson *j, struct json_object *v, int64_t min, int64_t max,
		      int64_t *out) VDF_MUST_CHECK;
int vdf_mjson_get_bool(struct vdf_mjson *j, struct json_object *v, bool *out) VDF_MUST_CHECK;
/* A string of min..max bytes without NUL characters; returns a pointer into the tree. */
int vdf_mjson_get_string(struct vdf_mjson *j, struct json_object *v, size_t min, size_t max,
			 const char **out) VDF_MUST_CHECK;
/* An integer or a "0x..." hex string, 0..max. */
int vdf_mjson_get_hex(struct vdf_mjson *j, struct json_object *v, uint64_t max,
		      uint64_t *out) VDF_MUST_CHECK;

#endif
