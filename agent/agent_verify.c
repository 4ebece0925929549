/*
 * verify: checks renewed certificates on disk against the backup taken
 * before the renewal, before anything restarts on them (safety invariant
 * 3). Each problem is one sentence an operator can act on.
 */
#include <sys/stat.h>

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "agent_int.h"
#include "fileio.h"
#include "jv.h"
#include "log.h"
#include "timefmt.h"
#include "xmalloc.h"

static void problem(struct agent_verify_item *it, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
problem(struct agent_verify_item *it, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	strv_push(&it->problems, msg);
	it->ok = false;
}

/* The renewed certificate chains to its CA (a kubeconfig's own CA data). */
static void
check_chain(const struct agent_verify_opts *o, const struct pki_entry *e,
    const struct agent_material *m, struct agent_verify_item *it)
{
	const struct pki_entry *ca = pki_find(e->ca);
	char why[256],
	    *ca_file = file_path_join(agent_kdir(o->kubernetes_dir), ca->file);
	X509 *embedded = NULL;
	enum cr_err err;

	if (m->kc != NULL && m->kc->ca_pem.len > 0) {
		if (cert_parse(m->kc->ca_pem.data, m->kc->ca_pem.len,
			&embedded) != CR_OK) {
			problem(it,
			    "its certificate-authority-data is not a "
			    "PEM certificate");
			goto out;
		}
		err = cert_verify(m->cert, embedded, o->now, why, sizeof(why));
	} else {
		err = cert_verify_file(m->cert, ca_file, o->now, why,
		    sizeof(why));
	}
	if (err == CR_ERR_VERIFY)
		problem(it, "does not chain to its CA '%s': %s", e->ca, why);
	else if (err != CR_OK)
		problem(it, "its CA '%s' cannot be read from '%s'", e->ca,
		    ca_file);
out:
	X509_free(embedded);
	free(ca_file);
}

static void
check_key(const struct agent_material *m, struct agent_verify_item *it)
{
	struct stat st;

	if (m->key == NULL || !cert_key_matches(m->cert, m->key)) {
		problem(it, "the private key does not match the certificate");
		return;
	}
	if (m->key_file != NULL && stat(m->key_file, &st) == 0 &&
	    (st.st_mode & 077) != 0)
		problem(it, "'%s' is mode %04o: a private key must be 0600",
		    m->key_file, (unsigned)(st.st_mode & 07777));
}

static void
check_same(const struct cert_info *b, const struct cert_info *a,
    struct agent_verify_item *it)
{
	char was[TIMEFMT_MAX], now[TIMEFMT_MAX];

	if (strcmp(a->subject, b->subject) != 0)
		problem(it, "subject '%s' differs from '%s' before", a->subject,
		    b->subject);
	if (!strv_equal_set(&a->dns_names, &b->dns_names) ||
	    !strv_equal_set(&a->ip_addresses, &b->ip_addresses))
		problem(it, "subject alternative names differ from before");
	if (!strv_equal_set(&a->ext_key_usages, &b->ext_key_usages))
		problem(it, "extended key usages differ from before");
	if (!strv_has(&a->key_usages, "digitalSignature") || a->is_ca)
		problem(it, "key usage lacks digitalSignature or it is a CA");
	if (strcmp(a->serial, b->serial) == 0)
		problem(it, "serial %s is unchanged: it was not renewed",
		    a->serial);
	if (a->not_after <= b->not_after) {
		timefmt_rfc3339(b->not_after, was, sizeof(was));
		timefmt_rfc3339(a->not_after, now, sizeof(now));
		problem(it,
		    "not-after %s did not move forward from %s (a validity "
		    "shorter than what was left?)",
		    now, was);
	}
}

static void
check_server(const struct agent_material *b, const struct agent_material *a,
    struct agent_verify_item *it)
{
	const char *was = b->kc->server, *now = a->kc->server;

	if ((was == NULL) != (now == NULL) ||
	    (was != NULL && strcmp(was, now) != 0))
		problem(it, "server URL '%s' differs from '%s' before",
		    now != NULL ? now : "", was != NULL ? was : "");
}

static void
verify_one(const struct agent_verify_opts *o, const struct pki_entry *e,
    struct agent_verify_item *it)
{
	struct agent_load lb = { o->backup, NULL, false };
	struct agent_load la = { agent_kdir(o->kubernetes_dir), NULL, true };
	struct agent_material b, a;
	struct cert_info bi, ai;
	char why[512];

	memset(&bi, 0, sizeof(bi));
	memset(&ai, 0, sizeof(ai));
	it->name = xstrdup(e->name);
	it->ok = true;
	if (agent_material_load(&lb, e, &b, why, sizeof(why)) != CR_OK ||
	    cert_info_fill(b.cert, &bi) != CR_OK) {
		problem(it, "no usable copy in the backup: %s", why);
		agent_material_clear(&b);
		return;
	}
	if (agent_material_load(&la, e, &a, why, sizeof(why)) != CR_OK ||
	    cert_info_fill(a.cert, &ai) != CR_OK) {
		problem(it, "the renewed certificate cannot be used: %s", why);
		goto out;
	}
	check_key(&a, it);
	check_chain(o, e, &a, it);
	check_same(&bi, &ai, it);
	if (e->kind == PKI_KUBECONFIG)
		check_server(&b, &a, it);
out:
	certinfo_clear(&bi);
	certinfo_clear(&ai);
	agent_material_clear(&b);
	agent_material_clear(&a);
}

static struct agent_verify_item *
add_item(struct agent_verify_result *r)
{
	r->v = xreallocarray(r->v, r->n + 1, sizeof(*r->v));
	memset(&r->v[r->n], 0, sizeof(r->v[0]));
	return &r->v[r->n++];
}

/* The renewable entries the backup holds, when no names are given. */
static void
default_names(const char *backup, struct strv *names)
{
	const struct pki_entry *e;
	char *path;
	size_t i;

	for (i = 0; (e = pki_at(i)) != NULL; i++) {
		if (!pki_renewable(e))
			continue;
		path = file_path_join(backup, e->file);
		if (file_exists(path))
			strv_push(names, e->name);
		free(path);
	}
}

enum cr_err
agent_verify(const struct agent_verify_opts *o, struct agent_verify_result *r)
{
	struct strv all = { NULL, 0 };
	const struct strv *names = o->names;
	const struct pki_entry *e;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (names == NULL || names->n == 0) {
		default_names(o->backup, &all);
		names = &all;
	}
	for (i = 0; i < names->n; i++) {
		e = pki_find(names->v[i]);
		if (e == NULL || !pki_renewable(e)) {
			log_warnx("verify: '%s' is not a certificate kubeadm "
				  "renews",
			    names->v[i]);
			strv_clear(&all);
			agent_verify_result_clear(r);
			return CR_ERR_CONFIG;
		}
	}
	r->ok = true;
	for (i = 0; i < names->n; i++) {
		struct agent_verify_item *it = add_item(r);

		verify_one(o, pki_find(names->v[i]), it);
		r->ok = r->ok && it->ok;
		if (!it->ok)
			log_warnx("verify '%s': %s", it->name,
			    it->problems.v[0]);
	}
	strv_clear(&all);
	return CR_OK;
}

void
agent_verify_result_clear(struct agent_verify_result *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->v[i].name);
		strv_clear(&r->v[i].problems);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

json_object *
agent_verify_result_to_json(const struct agent_verify_result *r)
{
	json_object *o = json_object_new_object(), *a, *item, *p;
	size_t i, j;

	jv_add_bool(o, "ok", r->ok);
	a = json_object_new_array();
	for (i = 0; i < r->n; i++) {
		item = json_object_new_object();
		jv_add_str(item, "name", r->v[i].name);
		jv_add_bool(item, "ok", r->v[i].ok);
		p = json_object_new_array();
		for (j = 0; j < r->v[i].problems.n; j++)
			json_object_array_add(p,
			    json_object_new_string(r->v[i].problems.v[j]));
		json_object_object_add(item, "problems", p);
		json_object_array_add(a, item);
	}
	json_object_object_add(o, "results", a);
	return o;
}

static void
verify_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: certroll-agent verify [--backup BACKUP] "
	    "[--kubernetes-dir DIR]\n"
	    "           [--backup-dir DIR] [-o text|json] [NAME...]\n\n"
	    "Checks renewed certificates against the backup taken before the "
	    "renewal:\neach parses, chains to its CA, its key matches and is "
	    "0600, its subject,\nSANs and extended key usages are those of "
	    "before, its serial changed and\nits expiry moved forward; "
	    "kubeconfigs also keep their server URL. Without\nNAMEs, every "
	    "renewable certificate the backup holds. 'renew' runs this\n"
	    "itself; run it by hand after a manual renewal.\n\n"
	    "  --backup BACKUP     a path, a name under --backup-dir, or "
	    "'latest' (default)\n"
	    "  -o text|json        output format (default text)\n\n"
	    "Examples:\n"
	    "  certroll-agent verify\n"
	    "  certroll-agent verify --backup 20261128T130000Z-k3x9qa "
	    "apiserver etcd-server\n\n"
	    "Exit status: 0 all good, 1 a problem was found, 2 usage "
	    "error.\n");
}

struct verify_args {
	struct agent_verify_opts o;
	const char *backup;
	const char *backup_dir;
	struct strv names;
	bool json;
};

static int
verify_parse(int argc, char **argv, struct verify_args *a)
{
	static const struct option opts[] = {
		{ "backup", required_argument, NULL, 'B' },
		{ "kubernetes-dir", required_argument, NULL, 'k' },
		{ "backup-dir", required_argument, NULL, 'b' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(a, 0, sizeof(*a));
	a->backup = "latest";
	a->o.now = time(NULL);
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (c == 'h') {
			verify_usage(stdout);
			return -1;
		}
		if (c == 'B')
			a->backup = optarg;
		else if (c == 'k')
			a->o.kubernetes_dir = optarg;
		else if (c == 'b')
			a->backup_dir = optarg;
		else if (c != 'o' || !agent_output_parse(optarg, &a->json))
			return agent_usage("verify", "bad option");
	}
	for (; optind < argc; optind++) {
		if (pki_find(argv[optind]) == NULL ||
		    !pki_renewable(pki_find(argv[optind])))
			return agent_usage("verify",
			    "'%s' is not a certificate kubeadm renews",
			    argv[optind]);
		strv_push(&a->names, argv[optind]);
	}
	return 0;
}

static void
print_text(const struct agent_verify_result *r)
{
	size_t i, j;

	for (i = 0; i < r->n; i++) {
		if (r->v[i].ok)
			printf("ok      %s\n", r->v[i].name);
		for (j = 0; j < r->v[i].problems.n; j++)
			printf("FAILED  %s: %s\n", r->v[i].name,
			    r->v[i].problems.v[j]);
	}
}

int
agent_cmd_verify(int argc, char **argv)
{
	struct agent_verify_result r;
	struct verify_args a;
	char *path = NULL;
	int rc;

	if ((rc = verify_parse(argc, argv, &a)) != 0) {
		strv_clear(&a.names);
		return rc == -1 ? AGENT_EXIT_OK : rc;
	}
	rc = AGENT_EXIT_FAIL;
	if (agent_backup_resolve(a.backup_dir, a.backup, &path) != CR_OK)
		goto out;
	a.o.backup = path;
	a.o.names = &a.names;
	if (agent_verify(&a.o, &r) != CR_OK)
		goto out;
	if (a.json)
		agent_print_json(agent_verify_result_to_json(&r));
	else
		print_text(&r);
	rc = r.ok ? AGENT_EXIT_OK : AGENT_EXIT_FAIL;
	agent_verify_result_clear(&r);
out:
	strv_clear(&a.names);
	free(path);
	return rc;
}
