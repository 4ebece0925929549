#include "cli.h"

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
