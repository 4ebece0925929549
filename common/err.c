#include "err.h"

#include <string.h>

static const struct {
	const char *name;
	const char *text;
} errs[CR_ERR__MAX] = {
	[CR_OK] = { "ok", "success" },
	[CR_ERR_SYS] = { "sys", "system error" },
	[CR_ERR_TIMEOUT] = { "timeout", "deadline exceeded" },
	[CR_ERR_PROTO] = { "proto", "protocol error" },
	[CR_ERR_TLS] = { "tls", "TLS or crypto error" },
	[CR_ERR_SSH] = { "ssh", "SSH error" },
	[CR_ERR_KUBE] = { "kube", "Kubernetes API error" },
	[CR_ERR_INVENTORY] = { "inventory", "invalid inventory" },
	[CR_ERR_CERT] = { "cert", "certificate error" },
	[CR_ERR_CONFIG] = { "config", "invalid configuration" },
	[CR_ERR_NOTFOUND] = { "notfound", "not found" },
	[CR_ERR_STATE] = { "state", "not allowed in the current state" },
	[CR_ERR_SUBPROC] = { "subproc", "child process failed" },
	[CR_ERR_VERIFY] = { "verify", "verification failed" },
	[CR_ERR_HEALTH] = { "health", "component not healthy" },
	[CR_ERR_CANCELED] = { "canceled", "interrupted" },
};

const char *
cr_strerror(enum cr_err err)
{
	if ((unsigned)err >= CR_ERR__MAX)
		return "unknown error";
	return errs[err].text;
}

const char *
cr_errname(enum cr_err err)
{
	if ((unsigned)err >= CR_ERR__MAX)
		return "unknown";
	return errs[err].name;
}

enum cr_err
cr_err_from_name(const char *name)
{
	unsigned i;

	for (i = 0; i < CR_ERR__MAX; i++)
		if (strcmp(errs[i].name, name) == 0)
			return (enum cr_err)i;
	return CR_ERR_PROTO;
}
