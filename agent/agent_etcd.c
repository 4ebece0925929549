/*
 * The local etcd member through its v3 HTTP/JSON gateway, with the
 * healthcheck client certificate kubeadm issues (lab.md §5): where the
 * member listens, one JSON call, and handing leadership off before the
 * member is stopped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_int.h"
#include "clock.h"
#include "jv.h"
#include "xmalloc.h"

void
agent_etcd_clear(struct agent_etcd *ec)
{
	free(ec->ca);
	free(ec->cert);
	free(ec->key);
	memset(ec, 0, sizeof(*ec));
}

enum cr_err
agent_etcd_init(const char *kdir, const char *endpoint, struct agent_etcd *ec,
    char *why, size_t whylen)
{
	char *path = xasprintf("%s/manifests/etcd.yaml", kdir);
	struct manifest *m = NULL;
	struct manifest_endpoints eps;
	struct manifest_diag d;
	enum cr_err err;

	memset(ec, 0, sizeof(*ec));
	memset(&d, 0, sizeof(d));
	if (endpoint != NULL)
		err = manifest_url_endpoint(endpoint, "2379", &ec->ep, &d);
	else if ((err = manifest_load(path, &m, &d)) == CR_ERR_SYS &&
	    errno == ENOENT)
		err = manifest_endpoints(NULL, MANIFEST_ETCD, &eps, &d);
	else if (err == CR_OK)
		err = manifest_endpoints(m, MANIFEST_ETCD, &eps, &d);
	if (err == CR_OK && endpoint == NULL)
		ec->ep = eps.v[0];
	if (err == CR_ERR_SYS)
		snprintf(why, whylen, "read '%s': %s", path, strerror(errno));
	else if (err != CR_OK && endpoint != NULL)
		snprintf(why, whylen, "--endpoint: %s", d.msg);
	else if (err != CR_OK)
		snprintf(why, whylen, "'%s':%u:%u: %s", path, d.line, d.col,
		    d.msg);
	manifest_free(m);
	free(path);
	if (err != CR_OK)
		return err;
	ec->ca = xasprintf("%s/pki/etcd/ca.crt", kdir);
	ec->cert = xasprintf("%s/pki/etcd/healthcheck-client.crt", kdir);
	ec->key = xasprintf("%s/pki/etcd/healthcheck-client.key", kdir);
	snprintf(ec->url, sizeof(ec->url),
	    strchr(ec->ep.host, ':') != NULL ? "https://[%s]:%s" :
					       "https://%s:%s",
	    ec->ep.host, ec->ep.port);
	return CR_OK;
}

struct tlsc_opts
agent_etcd_opts(const struct agent_etcd *ec, int64_t deadline)
{
	struct tlsc_opts o = TLSC_OPTS_INIT;

	o.host = ec->ep.host;
	o.port = ec->ep.port;
	o.ca_file = ec->ca;
	o.cert_file = ec->cert;
	o.key_file = ec->key;
	o.deadline = deadline;
	return o;
}

enum cr_err
agent_etcd_call(struct agent_etcd *ec, const char *path, const char *body,
    int64_t deadline, json_object **docp)
{
	struct tlsc_opts o = agent_etcd_opts(ec, deadline);
	struct tlsc_req rq = TLSC_REQ_INIT;
	struct tlsc_resp rs = TLSC_RESP_INIT;
	struct tlsc_diag d;
	enum cr_err err;

	*docp = NULL;
	rq.method = "POST";
	rq.path = path;
	rq.body = body;
	rq.body_len = strlen(body);
	if ((err = tlsc_fetch(&o, &rq, &rs, &d)) != CR_OK) {
		snprintf(ec->why, sizeof(ec->why), "%.100s: %.180s", ec->url,
		    d.msg);
	} else if (rs.status != 200 ||
	    jv_parse((const char *)rs.body.data, rs.body.len, docp, NULL, 0) !=
		CR_OK) {
		err = CR_ERR_PROTO;
		snprintf(ec->why, sizeof(ec->why),
		    "%.100s%.60s: HTTP %d %.120s", ec->url, path, rs.status,
		    buf_cstr(&rs.body));
	}
	tlsc_resp_clear(&rs);
	return err;
}

/* A member ID as text: the gateway writes uint64s as strings, but a
 * number is taken too. NULL when absent. */
static const char *
id_at(json_object *obj, const char *path)
{
	json_object *v = jv_path(obj, path);

	if (v == NULL ||
	    (!json_object_is_type(v, json_type_string) &&
		!json_object_is_type(v, json_type_int)))
		return NULL;
	return json_object_get_string(v);
}

/* The started member that is not self, first in the list; NULL if none. */
static json_object *
successor(json_object *members, const char *self)
{
	size_t i, n = members != NULL ? json_object_array_length(members) : 0;
	json_object *m, *urls;

	for (i = 0; i < n; i++) {
		m = json_object_array_get_idx(members, i);
		urls = jv_arr(m, "clientURLs");
		if (id_at(m, "ID") != NULL &&
		    strcmp(id_at(m, "ID"), self) != 0 && urls != NULL &&
		    json_object_array_length(urls) > 0 &&
		    !jv_bool(m, "isLearner"))
			return m;
	}
	return NULL;
}

enum cr_err
agent_etcd_hand_off(struct agent_etcd *ec, int64_t deadline, char *msg,
    size_t len)
{
	json_object *status = NULL, *list = NULL, *moved = NULL, *to = NULL;
	const char *self = NULL, *leader = NULL;
	char *body;
	enum cr_err err;

	err = agent_etcd_call(ec, "/v3/maintenance/status", "{}", deadline,
	    &status);
	if (err == CR_OK) {
		self = id_at(status, "header.member_id");
		leader = id_at(status, "leader");
	}
	if (err == CR_OK && (self == NULL || leader == NULL)) {
		snprintf(ec->why, sizeof(ec->why),
		    "%.200s: the status names no member or leader", ec->url);
		err = CR_ERR_PROTO;
	} else if (err == CR_OK && strcmp(self, leader) != 0) {
		snprintf(msg, len,
		    "this member does not lead; nothing to hand "
		    "off");
	} else if (err == CR_OK &&
	    (err = agent_etcd_call(ec, "/v3/cluster/member/list", "{}",
		 deadline, &list)) == CR_OK &&
	    (to = successor(jv_arr(list, "members"), self)) == NULL) {
		snprintf(msg, len,
		    "this member leads and no other member is "
		    "started; nothing to hand off to");
	} else if (err == CR_OK) {
		body = xasprintf("{\"targetID\":\"%s\"}", id_at(to, "ID"));
		err = agent_etcd_call(ec, "/v3/maintenance/transfer-leadership",
		    body, deadline, &moved);
		free(body);
		if (err == CR_OK)
			snprintf(msg, len,
			    "this member led; leadership moved to '%s' first",
			    jv_str(to, "name") != NULL ? jv_str(to, "name") :
							 id_at(to, "ID"));
	}
	if (err != CR_OK)
		snprintf(msg, len, "%s", ec->why);
	json_object_put(status);
	json_object_put(list);
	json_object_put(moved);
	return err;
}
