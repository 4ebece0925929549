#include "cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <string.h>

#include "duration.h"

int
cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "certroll %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'certroll %s --help'.\n", cmd);
	return CLI_EXIT_USAGE;
}

int
cli_bad_option(const char *cmd, int c, char *const *argv)
{
	const char *opt = optind > 0 ? argv[optind - 1] : "?";

	if (c == ':')
		return cli_usage(cmd, "option '%s' needs a value", opt);
	return cli_usage(cmd, "unknown option '%s'", opt);
}

int
cli_backend(const char *cmd, const char *arg, enum proto_backend *out)
{
	unsigned b;

	for (b = 0; b < PROTO_BACKEND__MAX; b++)
		if (strcmp(arg, proto_backend_name(b)) == 0) {
			*out = b;
			return CLI_EXIT_OK;
		}
	return cli_usage(cmd, "--backend: '%s' is not auto, kubeadm or native",
	    arg);
}

int
cli_key_algorithm(const char *cmd, const char *arg, const char **out)
{
	static const char *const algs[] = { "rsa-2048", "rsa-3072", "rsa-4096",
		"ecdsa-p256" };
	size_t i;

	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strcmp(arg, algs[i]) == 0) {
			*out = arg;
			return CLI_EXIT_OK;
		}
	return cli_usage(cmd,
	    "--key-algorithm: '%s' is not rsa-2048, rsa-3072, rsa-4096 or "
	    "ecdsa-p256",
	    arg);
}

int
cli_seconds(const char *cmd, const char *opt, const char *arg, int64_t *out)
{
	if (duration_parse(arg, out) == CR_OK && *out > 0)
		return CLI_EXIT_OK;
	return cli_usage(cmd, "%s: '%s' is not a duration such as 90s or 5m",
	    opt, arg);
}

bool
cli_answer_yes(void)
{
	char answer[16];

	return fgets(answer, sizeof(answer), stdin) != NULL &&
	    (answer[0] == 'y' || answer[0] == 'Y');
}
