#include <stdarg.h>

#include "agent.h"

int
agent_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "certroll-agent %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'certroll-agent %s --help'.\n", cmd);
	return AGENT_EXIT_USAGE;
}
