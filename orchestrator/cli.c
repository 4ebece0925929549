#include "cli.h"

#include <getopt.h>
#include <stdarg.h>

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
