/*
 * The libmnl side of kbridge's netlink benchmark: libmnl's idiomatic work on a captured RTM_NEWLINK dump,
 * repeated for a fixed time. For every datagram: mnl_cb_run() with the sequence number and port id checked;
 * for every message: mnl_attr_parse() of the top-level attributes (after struct ifinfomsg) into a table,
 * mnl_attr_validate() of IFLA_IFNAME (string), IFLA_MTU and IFLA_TXQLEN (u32), and reading those values.
 *
 * usage: walk <dump.bin> <dump.lens> <seconds>   prints: <dumps per second> <messages per dump> <checksum>
 * build: gcc -O2 -o walk walk.c -lmnl          (Debian: apt-get install libmnl-dev)
 */
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct walk {
	unsigned long messages, checksum;
};

static int attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, IFLA_MAX) < 0)
		return MNL_CB_OK;
	switch (type) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(attr, MNL_TYPE_STRING) < 0)
			return MNL_CB_ERROR;
		break;
	case IFLA_MTU:
	case IFLA_TXQLEN:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		break;
	}
	tb[type] = attr;
	return MNL_CB_OK;
}

static int msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct walk *w = data;
	const struct nlattr *tb[IFLA_MAX + 1] = {0};

	if (mnl_attr_parse(nlh, sizeof(struct ifinfomsg), attr_cb, tb) < 0)
		return MNL_CB_ERROR;
	w->messages++;
	if (tb[IFLA_IFNAME])
		w->checksum += strlen(mnl_attr_get_str(tb[IFLA_IFNAME]));
	if (tb[IFLA_MTU])
		w->checksum += mnl_attr_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_TXQLEN])
		w->checksum += mnl_attr_get_u32(tb[IFLA_TXQLEN]);
	return MNL_CB_OK;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s dump.bin dump.lens seconds\n", argv[0]);
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	FILE *l = fopen(argv[2], "r");
	if (!f || !l) {
		perror("open");
		return 1;
	}
	static char buf[4 << 20];
	size_t size = fread(buf, 1, sizeof(buf), f);
	size_t lens[4096], n = 0;
	while (n < 4096 && fscanf(l, "%zu", &lens[n]) == 1)
		n++;
	const struct nlmsghdr *first = (const struct nlmsghdr *)buf;
	unsigned int seq = first->nlmsg_seq, portid = first->nlmsg_pid;
	double seconds = atof(argv[3]), start = now();
	unsigned long dumps = 0, per_dump = 0;
	struct walk w = {0, 0};
	do {
		size_t off = 0;
		w.messages = 0;
		for (size_t i = 0; i < n && off < size; off += lens[i], i++) {
			int ret = mnl_cb_run(buf + off, lens[i], seq, portid, msg_cb, &w);
			if (ret == MNL_CB_ERROR) {
				perror("mnl_cb_run");
				return 1;
			}
		}
		per_dump = w.messages;
		dumps++;
	} while (now() - start < seconds);
	printf("%.1f %lu %lu\n", dumps / (now() - start), per_dump, w.checksum);
	return 0;
}
