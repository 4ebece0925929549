/*
 * A kubesim (tests/sim/kubesim) for one test program: started in a private
 * state directory, talked to with certroll's own client and the admin
 * credentials kubesim writes, stopped by PID (and killed with the test
 * program if that dies first, see bgproc.h). Objects are created through
 * POST /sim/bulk, faults injected through /sim/faults, and requests
 * counted through the simulator's request log (/sim/requests).
 *
 * Test code only: a failure to start is fatal (exit 2) with the reason.
 * JSON texts given to these functions may use ' for " (easier to read in
 * C strings); no JSON value the tests use contains a quote.
 */
#ifndef CR_KUBESIM_FIX_H
#define CR_KUBESIM_FIX_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "bgproc.h"
#include "kube.h"
#include "kubecfg.h"

struct ksf {
	struct bgproc proc;
	struct bgproc front; /* a second API server, see ksf_frontend() */
	char dir[256];       /* the state directory */
	char kubeconfig[320];
	char url[128]; /* the first listener, https://127.0.0.1:PORT */
	char front_url[128];
	struct kubecfg *cfg; /* the admin kubeconfig */
	struct kube *k;      /* an admin client on it */
};

/* Makes the state directory (f->dir) so a test can put files there. */
void ksf_init(struct ksf *f);

/*
 * Starts kubesim on 127.0.0.1 with the extra options (NULL-terminated, or
 * NULL) and waits until it writes its kubeconfig; loads it into f->cfg
 * and f->k.
 */
void ksf_start(struct ksf *f, const char *const *extra);

/*
 * Starts a second API server on the same state (kubesim frontend) as
 * listener name; f->front_url is its URL. The admin client knows it as
 * endpoint name.
 */
void ksf_frontend(struct ksf *f, const char *name);

/* Stops every process started, by PID, and removes the directory. */
void ksf_stop(struct ksf *f);

/* Creates the objects of a JSON array text; 0 when all were created. */
int ksf_bulk(struct ksf *f, const char *items_json);

/* Sets the fault configuration (a JSON object); NULL clears it. */
int ksf_faults(struct ksf *f, const char *json);

/* Pauses (false) or resumes a simulated controller ("kubelet", ...). */
int ksf_controller(struct ksf *f, const char *name, bool on);

/* The request log's sequence number now (for ksf_count() later). */
int64_t ksf_seq(struct ksf *f);

/*
 * Requests logged after seq whose method is method (NULL: any) and whose
 * target contains path (NULL: any); listener, when not NULL, must match
 * the "frontend" field.
 */
size_t ksf_count(struct ksf *f, int64_t seq, const char *method,
    const char *path, const char *listener);

/* Requests logged after seq whose target contains path, answered status. */
size_t ksf_count_status(struct ksf *f, int64_t seq, const char *path,
    int64_t status);

/* GET path with the admin client; NULL when it fails. Caller owns it. */
json_object *ksf_get(struct ksf *f, const char *path);

/* Sends one request with the admin client; returns the HTTP status. */
long ksf_send(struct ksf *f, const char *method, const char *path,
    const char *json_body);

/* Writes a kubeconfig for server url with the given user block (YAML). */
void ksf_kubeconfig(struct ksf *f, const char *file, const char *url,
    const char *user_yaml);

#endif /* CR_KUBESIM_FIX_H */
