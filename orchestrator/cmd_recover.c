/*
 * certroll recover: for a control plane whose certificates have expired.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ctx.h"
#include "recover.h"

enum {
	OPT_BACKEND = CTX_OPT_LAST,
	OPT_KEY_ALGORITHM,
	OPT_VALIDITY,
	OPT_KEEP,
	OPT_TIMEOUT,
	OPT_NO_REFRESH,
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: certroll recover -i INVENTORY [options]\n\n"
	    "For a control plane whose certificates have already expired, "
	    "so that the API\nrefuses everyone ('x509: certificate has "
	    "expired or is not yet valid').\nOver SSH only, with every node "
	    "reachable: backs up and renews every node\nfirst, then restarts "
	    "etcd on all nodes at once (members whose peer\ncertificates all "
	    "expired cannot form a quorum one at a time), then the\nother "
	    "control-plane components, and waits until every node is "
	    "healthy and\nserves its new certificates. There is no drain: the "
	    "API is down anyway.\nAt the end your kubeconfig's client "
	    "certificate, probably expired too, is\nreplaced with the renewed "
	    "admin.conf one. 'certroll plan' and 'certroll\napply' point "
	    "here when they find this state.\n\n"
	    "Options:\n");
	fputs(CTX_USAGE, fp);
	fprintf(fp,
	    "  -y, --yes                   do not ask for confirmation\n"
	    "      --backend B             auto (kubeadm where installed), "
	    "kubeadm or native\n"
	    "      --key-algorithm A       native backend: rsa-2048, "
	    "rsa-3072, rsa-4096 or\n"
	    "                              ecdsa-p256 (default: keep each "
	    "certificate's)\n"
	    "      --validity DURATION     of the new certificates (default "
	    "365d)\n"
	    "      --keep N                backups kept on each node (default "
	    "5)\n"
	    "      --timeout DURATION      per restart and for the final "
	    "health wait\n"
	    "                              (default 10m)\n"
	    "      --no-refresh-kubeconfig leave your kubeconfig alone (by "
	    "default its client\n"
	    "                              certificate is replaced at the end "
	    "with the renewed\n"
	    "                              admin.conf one, as 'certroll "
	    "kubeconfig refresh'\n"
	    "                              does, when it is the same "
	    "identity)\n"
	    "  -h, --help                  this text\n\n"
	    "Examples:\n"
	    "  certroll recover -i hosts.ini\n"
	    "  certroll recover -i hosts.ini --yes --kubeconfig "
	    "~/.kube/prod-admin.conf\n\n"
	    "Exit status: 0 every node renewed and healthy, 1 the recovery "
	    "stopped, 2\nusage or input error.\n");
}

static int
own(struct recover_opts *o, int c, const char *arg)
{
	char *end;
	long v;

	switch (c) {
	case 'y':
		o->yes = true;
		return CLI_EXIT_OK;
	case OPT_BACKEND:
		return cli_backend("recover", arg, &o->backend);
	case OPT_KEY_ALGORITHM:
		return cli_key_algorithm("recover", arg, &o->key_algorithm);
	case OPT_VALIDITY:
		return cli_seconds("recover", "--validity", arg,
		    &o->validity_s);
	case OPT_TIMEOUT:
		return cli_seconds("recover", "--timeout", arg, &o->timeout_s);
	case OPT_NO_REFRESH:
		o->refresh_kubeconfig = false;
		return CLI_EXIT_OK;
	case OPT_KEEP:
		v = strtol(arg, &end, 10);
		if (*arg == '\0' || *end != '\0' || v < 1 || v > 1000)
			return cli_usage("recover",
			    "--keep: '%s' is not a number from 1 to 1000", arg);
		o->keep = (unsigned)v;
		return CLI_EXIT_OK;
	default:
		return -1;
	}
}

static const struct option opts[] = {
	CTX_LONG_OPTIONS,
	{ "yes", no_argument, NULL, 'y' },
	{ "backend", required_argument, NULL, OPT_BACKEND },
	{ "key-algorithm", required_argument, NULL, OPT_KEY_ALGORITHM },
	{ "validity", required_argument, NULL, OPT_VALIDITY },
	{ "keep", required_argument, NULL, OPT_KEEP },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "no-refresh-kubeconfig", no_argument, NULL, OPT_NO_REFRESH },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Returns -1 after --help, else an exit code (CLI_EXIT_OK to go on). */
static int
parse(int argc, char **argv, struct ctx_opts *co, struct recover_opts *ro)
{
	int ch, rc;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":i:yh", opts, NULL)) != -1) {
		if ((rc = ctx_opts_parse(co, "recover", ch, optarg)) != 0) {
			if (rc < 0)
				return CLI_EXIT_USAGE;
		} else if (ch == 'h') {
			usage(stdout);
			return -1;
		} else if (ch == ':' || ch == '?') {
			return cli_bad_option("recover", ch, argv);
		} else if ((rc = own(ro, ch, optarg)) != CLI_EXIT_OK) {
			return rc < 0 ? cli_bad_option("recover", '?', argv) :
					rc;
		}
	}
	if (optind < argc)
		return cli_usage("recover", "unexpected argument '%s'",
		    argv[optind]);
	return CLI_EXIT_OK;
}

int
cmd_recover(int argc, char **argv)
{
	struct ctx_opts co;
	struct recover_opts ro;
	struct ctx c;
	int rc;

	ctx_opts_init(&co);
	recover_opts_init(&ro);
	if ((rc = parse(argc, argv, &co, &ro)) != CLI_EXIT_OK)
		return rc < 0 ? CLI_EXIT_OK : rc;
	ctx_init(&c, "recover", &co);
	rc = ctx_load_inventory(&c) == CR_OK ? recover_run(&c, &ro) :
					       CLI_EXIT_USAGE;
	ctx_clear(&c);
	return rc;
}
