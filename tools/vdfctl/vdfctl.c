// SPDX-License-Identifier: MIT
/*
 * vdfctl: talk to vdfd over its control socket (docs/CONTROL.md).
 *
 *   vdfctl [--socket PATH] [--json] COMMAND [ARGS]
 *
 * Read commands print tables by default and the raw JSON "data" object with
 * --json. A hidden `discover [--sysfs ROOT]` command shows what discovery
 * finds on this machine without asking vdfd (for bring-up and debugging).
 *
 * Exit status: 0 done; 1 vdfd answered with an error; 2 usage error;
 * 3 vdfd could not be reached or answered something unreadable.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "vdf/ctl.h"
#include "../../manager/devtree.h"
#include "../../manager/discovery.h"

#define EXIT_REMOTE	 1
#define EXIT_USAGE	 2
#define EXIT_UNREACHABLE 3

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: vdfctl [--socket PATH] [--json] COMMAND [ARGS]\n"
	    "\n"
	    "commands:\n"
	    "  list               the device tree with kernel driver, VDF driver and state\n"
	    "  info DEV           everything vdfd knows about one device\n"
	    "  start DEV          start the driver of a device\n"
	    "  stop DEV           stop it\n"
	    "  restart DEV        restart it\n"
	    "  bind DEV           hand the device to vfio-pci (from its kernel driver)\n"
	    "  unbind DEV         give the device back to its kernel driver\n"
	    "  stats [DEV]        per-driver IRQs, I/Os, bytes, errors, drops, restarts\n"
	    "  log-level [LEVEL]  show or set vdfd's log level (emerg .. debug)\n"
	    "  explain DEV        why a driver did or did not bind to a device\n"
	    "  check DEV [--lba N] [--count N]\n"
	    "                     have the driver read N blocks (default 8) and print a checksum\n"
	    "  open DEV [--ro] [--unit N]\n"
	    "                     open a block client session through vdfd (waits while the\n"
	    "                     driver restarts), print it, and close it again\n"
	    "\n"
	    "DEV is a PCI address (0000:00:04.0 or 00:04.0) or a device tree path\n"
	    "(/pci/0000:00:06.0/usb1-1).\n"
	    "\n"
	    "options:\n"
	    "  -s, --socket PATH  vdfd's control socket (default: $%s or %s)\n"
	    "  -j, --json         print the answer's JSON data instead of tables\n"
	    "  -h, --help         this help\n"
	    "\n"
	    "exit status: 0 ok, 1 vdfd reported an error, 2 usage error, 3 vdfd unreachable\n",
	    VDF_CTL_SOCKET_ENV, VDF_CTL_DEFAULT_SOCKET);
}

/* Text from the daemon goes to a terminal: no control characters. */
static void put_safe(const char *s)
{
	for (; s && *s; s++)
		putchar(((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s);
}

static const char *str_or(json_object *o, const char *key, const char *dflt)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return dflt;
	if (json_object_is_type(v, json_type_string))
		return json_object_get_string_len(v) ? json_object_get_string(v) : dflt;
	return json_object_get_string(v); /* numbers and booleans print as JSON */
}

static void print_json(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						   JSON_C_TO_STRING_NOSLASHESCAPE));
}

static void format_size(uint64_t v, char *buf, size_t len)
{
	static const char units[] = "KMGTP";
	unsigned u = 0;

	if (v < 1024 || v % 1024) {
		snprintf(buf, len, "%" PRIu64, v);
		return;
	}
	v /= 1024;
	while (v >= 1024 && v % 1024 == 0 && u + 1 < sizeof(units) - 1) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%" PRIu64 "%c", v, units[u]);
}

/* Byte counts for people: 1023, 1.0K, 386.0M, ... */
static void format_bytes(uint64_t v, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	double d = (double)v;
	unsigned u = 0;

	if (v < 1024) {
		snprintf(buf, len, "%" PRIu64, v);
		return;
	}
	d /= 1024;
	while (d >= 1024 && u + 1 < sizeof(units) - 1) {
		d /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f%c", d, units[u]);
}

/* --- generic rendering (info, unknown shapes) ----------------------------- */

static void indent(int n)
{
	for (int i = 0; i < n; i++)
		fputs("  ", stdout);
}

static bool is_scalar(json_object *v)
{
	return !v || (!json_object_is_type(v, json_type_object) &&
		      !json_object_is_type(v, json_type_array));
}

static void print_scalar(json_object *v)
{
	if (!v)
		fputs("null", stdout);
	else
		put_safe(json_object_get_string(v));
}

static void print_value(json_object *v, int depth);

static void print_object(json_object *o, int depth)
{
	json_object_object_foreach(o, key, val)
	{
		indent(depth);
		put_safe(key);
		if (is_scalar(val)) {
			fputs(": ", stdout);
			print_scalar(val);
			putchar('\n');
		} else if (json_object_is_type(val, json_type_object) &&
			   json_object_object_length(val) == 0) {
			fputs(": -\n", stdout);
		} else if (json_object_is_type(val, json_type_array) &&
			   json_object_array_length(val) == 0) {
			fputs(": -\n", stdout);
		} else {
			fputs(":\n", stdout);
			print_value(val, depth + 1);
		}
	}
}

/* An object whose values are all scalars, on one line: "k=v k=v". */
static bool print_flat(json_object *o)
{
	bool first = true;

	json_object_object_foreach(o, key, val)
	{
		(void)key;
		if (!is_scalar(val))
			return false;
	}
	json_object_object_foreach(o, key2, val2)
	{
		if (!first)
			putchar(' ');
		first = false;
		put_safe(key2);
		putchar('=');
		print_scalar(val2);
	}
	putchar('\n');
	return true;
}

static void print_value(json_object *v, int depth)
{
	if (is_scalar(v)) {
		indent(depth);
		print_scalar(v);
		putchar('\n');
		return;
	}
	if (json_object_is_type(v, json_type_object)) {
		print_object(v, depth);
		return;
	}
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *e = json_object_array_get_idx(v, i);

		indent(depth);
		fputs("- ", stdout);
		if (is_scalar(e)) {
			print_scalar(e);
			putchar('\n');
		} else if (!json_object_is_type(e, json_type_object) || !print_flat(e)) {
			putchar('\n');
			print_value(e, depth + 1);
		}
	}
}

/* --- list: the device tree ------------------------------------------------ */

#define TREE_NAME_W 28

static void tree_header(void)
{
	printf("%-*s %-10s %-22s %-10s %-12s %-10s %s\n", TREE_NAME_W, "DEVICE", "ID", "CLASS",
	       "KERNEL", "DRIVER", "STATE", "RESTARTS");
}

/* Print s (sanitized) left-aligned in a column of `width`, then a space. */
static void cell(const char *s, size_t width)
{
	size_t len = strlen(s);

	put_safe(s);
	for (; len < width; len++)
		putchar(' ');
	putchar(' ');
}

static void tree_row(json_object *node, int depth)
{
	json_object *pci = json_object_object_get(node, "pci");
	json_object *props = json_object_object_get(node, "properties");
	json_object *kids = json_object_object_get(node, "children");
	char name[TREE_NAME_W * 2 + 8], id[16];

	if (depth >= 0) {
		snprintf(name, sizeof(name), "%*s%.*s", depth * 2, "", TREE_NAME_W + 4,
			 str_or(node, "name", "?"));
		if (pci)
			snprintf(id, sizeof(id), "%.4s:%.4s", str_or(pci, "vendor", "?"),
				 str_or(pci, "device", "?"));
		else
			snprintf(id, sizeof(id), "%.10s", str_or(props, "id", "-"));
		cell(name, TREE_NAME_W);
		cell(id, 10);
		cell(pci ? str_or(pci, "class_name", "-") : str_or(props, "class", "-"), 22);
		cell(pci ? str_or(pci, "kernel_driver", "-") : "-", 10);
		cell(str_or(props, "driver", "-"), 12);
		cell(str_or(node, "state", "-"), 10);
		put_safe(str_or(props, "restarts", "-"));
		putchar('\n');
	}
	if (!kids || !json_object_is_type(kids, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(kids); i++)
		tree_row(json_object_array_get_idx(kids, i), depth + 1);
}

static void render_tree(json_object *tree)
{
	if (!tree || !json_object_is_type(tree, json_type_object)) {
		puts("(no device tree in the answer)");
		return;
	}
	tree_header();
	/* the root "/" itself is not a row */
	tree_row(tree, strcmp(str_or(tree, "name", ""), "/") ? 0 : -1);
}

/* --- stats ---------------------------------------------------------------- */

static void render_stats(json_object *data)
{
	static const char *const cols[] = {"dev", "driver", "state",  "restarts", "irqs",
					   "ios", "bytes",  "errors", "drops",	  "clients_opened"};
	json_object *list = json_object_object_get(data, "drivers");

	if (!list || !json_object_is_type(list, json_type_array)) {
		print_value(data, 0);
		return;
	}
	if (json_object_array_length(list) == 0) {
		puts("no drivers running");
		return;
	}
	printf("%-18s %-12s %-10s %8s %10s %10s %10s %8s %8s %8s\n", "DEVICE", "DRIVER", "STATE",
	       "RESTARTS", "IRQS", "IOS", "BYTES", "ERRORS", "DROPS", "CLIENTS");
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *e = json_object_array_get_idx(list, i);
		char cells[VDF_ARRAY_SIZE(cols)][40];

		for (size_t c = 0; c < VDF_ARRAY_SIZE(cols); c++) {
			json_object *v = json_object_object_get(e, cols[c]);

			if (!strcmp(cols[c], "bytes") && v && json_object_is_type(v, json_type_int))
				format_bytes((uint64_t)json_object_get_int64(v), cells[c],
					     sizeof(cells[c]));
			else
				snprintf(cells[c], sizeof(cells[c]), "%s", str_or(e, cols[c], "-"));
			for (char *p = cells[c]; *p; p++)
				if ((unsigned char)*p < 0x20 || *p == 0x7f)
					*p = '?';
		}
		printf("%-18s %-12s %-10s %8s %10s %10s %10s %8s %8s %8s\n", cells[0], cells[1],
		       cells[2], cells[3], cells[4], cells[5], cells[6], cells[7], cells[8],
		       cells[9]);
	}
	/* anything else vdfd reports per driver: in the JSON (--json) */
}

/* check DEV [--lba N] [--count N]: the options follow the command, after getopt. */
static int parse_check_args(int argc, char **argv, struct vdf_ctl_request *req, int *nargs)
{
	char *end;

	req->count = VDF_CTL_CHECK_DEFAULT_BLOCKS;
	for (int i = optind; i < argc; i++) {
		unsigned long long v;

		if (strcmp(argv[i], "--lba") && strcmp(argv[i], "--count"))
			continue;
		if (i + 1 >= argc) {
			fprintf(stderr, "vdfctl: %s needs a number\n", argv[i]);
			return -EINVAL;
		}
		errno = 0;
		v = strtoull(argv[i + 1], &end, 0);
		if (errno || *end || end == argv[i + 1] ||
		    (argv[i][2] == 'c' && (v < 1 || v > VDF_CTL_CHECK_MAX_BLOCKS))) {
			fprintf(stderr, "vdfctl: bad %s '%s'\n", argv[i], argv[i + 1]);
			return -EINVAL;
		}
		if (argv[i][2] == 'l')
			req->lba = v;
		else
			req->count = (uint32_t)v;
		/* drop the option and its value from the arguments */
		memmove(&argv[i], &argv[i + 2], (size_t)(argc - i - 2) * sizeof(char *));
		argc -= 2;
		*nargs -= 2;
		i--;
	}
	return 0;
}

/* open DEV [--ro] [--unit N]: the options follow the command, after getopt. */
static int parse_open_args(int argc, char **argv, struct vdf_ctl_request *req, int *nargs)
{
	for (int i = optind; i < argc; i++) {
		int used = 1;

		if (!strcmp(argv[i], "--ro")) {
			req->read_only = true;
		} else if (!strcmp(argv[i], "--unit")) {
			unsigned long v;
			char *end;

			if (i + 1 >= argc) {
				fprintf(stderr, "vdfctl: --unit needs a number\n");
				return -EINVAL;
			}
			errno = 0;
			v = strtoul(argv[i + 1], &end, 0);
			if (errno || *end || end == argv[i + 1] || argv[i + 1][0] == '-' ||
			    v > VDF_CLIENT_UNIT_MAX) {
				fprintf(stderr, "vdfctl: bad --unit '%s' (0..%u)\n", argv[i + 1],
					VDF_CLIENT_UNIT_MAX);
				return -EINVAL;
			}
			req->unit = (uint32_t)v;
			used = 2;
		} else {
			continue;
		}
		/* drop the option (and its value) from the arguments */
		memmove(&argv[i], &argv[i + used], (size_t)(argc - i - used) * sizeof(char *));
		argc -= used;
		*nargs -= used;
		i--;
	}
	return 0;
}

static void render_open(const char *dev, json_object *data, int fd)
{
	printf("opened ");
	put_safe(dev);
	printf(": driver ");
	put_safe(str_or(data, "driver", "?"));
	printf(" instance ");
	put_safe(str_or(data, "instance", "?"));
	printf(" generation ");
	put_safe(str_or(data, "generation", "?"));
	printf(", client_id ");
	put_safe(str_or(data, "client_id", "?"));
	printf(" (");
	put_safe(str_or(data, "mode", "?"));
	printf(", unit ");
	put_safe(str_or(data, "unit", "0"));
	printf(")%s\n", fd >= 0 ? "; session closed" : "; but no session fd came with it");
}

/* --- explain / actions ---------------------------------------------------- */

static void render_explain(json_object *data)
{
	json_object *lines = json_object_object_get(data, "lines");

	if (lines && json_object_is_type(lines, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(lines); i++) {
			put_safe(json_object_get_string(json_object_array_get_idx(lines, i)));
			putchar('\n');
		}
		return;
	}
	if (json_object_object_get(data, "text")) {
		put_safe(str_or(data, "text", ""));
		putchar('\n');
		return;
	}
	print_value(data, 0);
}

static void render_action(const char *cmd, const char *dev, json_object *data)
{
	const char *msg = str_or(data, "message", NULL);

	if (msg) {
		put_safe(msg);
		putchar('\n');
	} else {
		printf("%s ", cmd);
		put_safe(dev);
		puts(": ok");
	}
}

/* --- discover (local, no daemon) ------------------------------------------ */

static int cmd_discover(const char *sysfs, bool json)
{
	struct vdf_pci_info *list;
	struct vdf_devtree *tree;
	unsigned n;
	int rc;

	rc = vdf_discover_pci(sysfs, &list, &n);
	if (rc) {
		fprintf(stderr, "vdfctl: discovery in %s failed: %s\n", sysfs ? sysfs : "/sys",
			strerror(-rc));
		return EXIT_UNREACHABLE;
	}
	if (json) {
		json_object *j = NULL;

		rc = vdf_devtree_create(NULL, &tree);
		if (!rc)
			rc = vdf_devtree_add_pci_list(tree, list, n);
		if (!rc) {
			j = vdf_devtree_to_json(tree);
			rc = j ? 0 : -ENOMEM;
		}
		if (!rc)
			print_json(j);
		json_object_put(j);
		vdf_devtree_destroy(tree);
		vdf_discover_free(list);
		if (rc)
			fprintf(stderr, "vdfctl: %s\n", strerror(-rc));
		return rc ? EXIT_UNREACHABLE : 0;
	}
	printf("%-13s %-10s %-10s %-24s %-5s %-10s %-18s %s\n", "ADDRESS", "ID", "SUBSYS", "CLASS",
	       "GROUP", "KERNEL", "IRQS", "BARS");
	for (unsigned i = 0; i < n; i++) {
		const struct vdf_pci_info *p = &list[i];
		char group[12] = "-", irqs[48] = "", bars[128] = "";
		size_t off = 0;

		if (p->iommu_group >= 0)
			snprintf(group, sizeof(group), "%d", p->iommu_group);
		snprintf(irqs, sizeof(irqs), "%s%s", p->has_intx ? "intx " : "",
			 !p->has_intx && !p->msi_count && !p->msix_count ? "none" : "");
		if (p->msi_count)
			snprintf(irqs + strlen(irqs), sizeof(irqs) - strlen(irqs), "msi:%u ",
				 p->msi_count);
		if (p->msix_count)
			snprintf(irqs + strlen(irqs), sizeof(irqs) - strlen(irqs), "msix:%u",
				 p->msix_count);
		for (unsigned b = 0; b < 6; b++) {
			char size[24];

			if (p->bar_kind[b] == VDF_BAR_NONE || off >= sizeof(bars))
				continue;
			format_size(p->bar_size[b], size, sizeof(size));
			off += (size_t)snprintf(bars + off, sizeof(bars) - off, "%s%u:%s:%s",
						off ? " " : "", b,
						vdf_bar_kind_name(p->bar_kind[b]), size);
		}
		printf("%-13s %04x:%04x  %04x:%04x  %-24s %-5s %-10s %-18s %s\n", p->addr,
		       p->vendor, p->device, p->subsys_vendor, p->subsys_device,
		       vdf_pci_class_name(vdf_pci_class24(p)), group,
		       p->driver[0] ? p->driver : "-", irqs, bars[0] ? bars : "-");
	}
	if (!n)
		puts("(no PCI functions)");
	vdf_discover_free(list);
	return 0;
}

/* --- main ----------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {"sysfs", required_argument, NULL, 'S'}, /* discover only, undocumented */
	    {NULL, 0, NULL, 0},
	};
	struct vdf_ctl_request req = {.level = -1};
	const char *sock = NULL, *sysfs = NULL, *cmdname;
	char err[512];
	json_object *data = NULL;
	bool json = false;
	int c, cmd, rc, nargs, fd = -1;

	while ((c = getopt_long(argc, argv, "+s:jh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sock = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'S':
			sysfs = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmdname = argv[optind++];
	nargs = argc - optind;

	if (!strcmp(cmdname, "discover")) {
		if (nargs) {
			fprintf(stderr, "vdfctl: discover takes no arguments (--sysfs ROOT)\n");
			return EXIT_USAGE;
		}
		return cmd_discover(sysfs, json);
	}
	if (!strcmp(cmdname, "help")) {
		usage(stdout);
		return 0;
	}
	cmd = vdf_ctl_cmd_parse(cmdname);
	if (cmd < 0) {
		fprintf(stderr, "vdfctl: unknown command '%s' (see vdfctl --help)\n", cmdname);
		return EXIT_USAGE;
	}
	req.cmd = (enum vdf_ctl_cmd)cmd;

	if (req.cmd == VDF_CTL_CHECK) {
		if (parse_check_args(argc, argv, &req, &nargs))
			return EXIT_USAGE;
	}
	if (req.cmd == VDF_CTL_OPEN) {
		if (parse_open_args(argc, argv, &req, &nargs))
			return EXIT_USAGE;
	}
	if (vdf_ctl_cmd_needs_dev(req.cmd) && nargs != 1) {
		fprintf(stderr, "vdfctl: usage: vdfctl %s DEV\n", cmdname);
		return EXIT_USAGE;
	}
	if (req.cmd == VDF_CTL_STATS && nargs > 1) {
		fprintf(stderr, "vdfctl: usage: vdfctl stats [DEV]\n");
		return EXIT_USAGE;
	}
	if (req.cmd == VDF_CTL_LIST && nargs) {
		fprintf(stderr, "vdfctl: usage: vdfctl list\n");
		return EXIT_USAGE;
	}
	if (req.cmd == VDF_CTL_LOG_LEVEL) {
		if (nargs > 1) {
			fprintf(stderr, "vdfctl: usage: vdfctl log-level [LEVEL]\n");
			return EXIT_USAGE;
		}
		if (nargs) {
			req.level = vdf_ctl_log_level_parse(argv[optind]);
			if (req.level < 0) {
				fprintf(stderr,
					"vdfctl: unknown log level '%s' (emerg, alert, crit, err, "
					"warning, notice, info, debug)\n",
					argv[optind]);
				return EXIT_USAGE;
			}
		}
	} else if (nargs == 1) {
		if (!vdf_ctl_dev_valid(argv[optind])) {
			fprintf(stderr,
				"vdfctl: '%s' is not a device: use a PCI address (0000:00:04.0) "
				"or a device tree path\n",
				argv[optind]);
			return EXIT_USAGE;
		}
		snprintf(req.dev, sizeof(req.dev), "%s", argv[optind]);
	}

	/* Only "open" is answered with an fd: the session, closed at exit. */
	rc = vdf_ctl_call_fd(sock, &req, &data, &fd, err, sizeof(err));
	if (rc == -EREMOTEIO) {
		fputs("vdfctl: ", stderr);
		for (const char *p = err; *p; p++)
			fputc(((unsigned char)*p < 0x20 || *p == 0x7f) ? '?' : *p, stderr);
		fputc('\n', stderr);
		return EXIT_REMOTE;
	}
	if (rc) {
		fprintf(stderr, "vdfctl: %s\n", err[0] ? err : strerror(-rc));
		return EXIT_UNREACHABLE;
	}

	if (json) {
		print_json(data);
	} else {
		switch (req.cmd) {
		case VDF_CTL_LIST:
			render_tree(json_object_object_get(data, "tree"));
			break;
		case VDF_CTL_STATS:
			render_stats(data);
			break;
		case VDF_CTL_LOG_LEVEL:
			printf("log level: ");
			put_safe(str_or(data, "level", "?"));
			putchar('\n');
			break;
		case VDF_CTL_EXPLAIN:
			render_explain(data);
			break;
		case VDF_CTL_INFO:
			print_value(data, 0);
			break;
		case VDF_CTL_CHECK:
			printf("checksum ");
			put_safe(str_or(data, "checksum", "?"));
			putchar('\n');
			break;
		case VDF_CTL_OPEN:
			render_open(req.dev, data, fd);
			break;
		default:
			render_action(cmdname, req.dev, data);
			break;
		}
	}
	json_object_put(data);
	if (fd >= 0)
		close(fd);
	if (req.cmd == VDF_CTL_OPEN && fd < 0) {
		fprintf(stderr, "vdfctl: vdfd accepted the open but sent no session\n");
		return EXIT_UNREACHABLE;
	}
	return 0;
}
