/* PCI DSS: a card number never reaches a recording. An agent desktop or CRM
 * pauses the call while the number is taken (the control socket, fed by the
 * review server's POST /api/v1/recording-control), or the operator presses a
 * DTMF sequence. While paused, both channels go to the archive as silence and
 * DTMF digits are dropped; the call lists its pauses as pci_pauses. */
#include "recorder/record_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static recorder_audit_fn audit_hook;

void recorder_set_audit_hook(recorder_audit_fn fn)
{
    audit_hook = fn;
}

bool rec_pci_set(struct rec_call *rc, bool pause, const char *by, int64_t now_us)
{
    if (rc->paused == pause)
        return false;
    rc->paused = pause;
    if (pause) {
        if (rc->npauses == REC_MAX_PAUSES) { /* silent all the same; the list is full */
            rc->pauses_unlisted++;
            return true;
        }
        struct rec_pause *p = &rc->pauses[rc->npauses++];
        p->from_us = now_us;
        p->to_us = 0;
        snprintf(p->by, sizeof p->by, "%s", by);
    } else if (rc->npauses && !rc->pauses[rc->npauses - 1].to_us) {
        rc->pauses[rc->npauses - 1].to_us = now_us;
    }
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = suffix ? strlen(suffix) : 0;
    return b && a >= b && !memcmp(s + a - b, suffix, b);
}

void rec_pci_digit(struct rec_call *rc, char digit, int64_t ts_us)
{
    const struct recorder_opts *o = &rc->r->o;
    if (!o->pci_pause_dtmf || !o->pci_resume_dtmf)
        return;
    size_t len = strlen(rc->dtmf_seq);
    if (len == sizeof rc->dtmf_seq - 1) {
        memmove(rc->dtmf_seq, rc->dtmf_seq + 1, len);
        len--;
    }
    rc->dtmf_seq[len] = digit;
    rc->dtmf_seq[len + 1] = '\0';
    if (ends_with(rc->dtmf_seq, rc->paused ? o->pci_resume_dtmf : o->pci_pause_dtmf)) {
        rec_pci_set(rc, !rc->paused, "dtmf", ts_us);
        rc->dtmf_seq[0] = '\0';
        ES_INFO("record", "call %s: recording %s by DTMF", rc->sip ? rc->sip->call_id : "(unknown)",
                rc->paused ? "paused" : "resumed");
    }
}

json_t *rec_pci_json(const struct rec_call *rc, int64_t origin_us, int64_t end_us)
{
    json_t *a = json_array();
    for (int i = 0; i < rc->npauses; i++) {
        const struct rec_pause *p = &rc->pauses[i];
        int64_t from = p->from_us > origin_us ? (p->from_us - origin_us) / 1000 : 0;
        int64_t to = ((p->to_us ? p->to_us : end_us) - origin_us) / 1000;
        json_array_append_new(a, json_pack("{s:I, s:I, s:s}", "from_ms", (json_int_t)from, "to_ms",
                                           (json_int_t)(to > from ? to : from), "by", p->by));
    }
    return a;
}

void recorder_audit_pauses(struct rec_call *rc, struct catalog *cat)
{
    if (!audit_hook || !rc->call)
        return;
    int64_t origin = rc->first_audio_us ? rc->first_audio_us : rc->first_rtp_us;
    int64_t end = rc->sip && rc->sip->end_us ? rc->sip->end_us : rc->last_rtp_us;
    for (int i = 0; i < rc->npauses; i++) {
        const struct rec_pause *p = &rc->pauses[i];
        if (strcmp(p->by, "dtmf")) /* asked through the API: audited there, at once */
            continue;
        for (int k = 0; k < 2; k++) {
            int64_t at = k ? (p->to_us ? p->to_us : end) : p->from_us;
            json_t *d = json_pack(
                "{s:s, s:s, s:I, s:b}", "by", "dtmf", "operator", rc->call->operator_, "at_ms",
                (json_int_t)(at > origin ? (at - origin) / 1000 : 0), "call_ended", k && !p->to_us);
            char *ds = d ? json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
            audit_hook(cat, "recorder", k ? "pci.resume" : "pci.pause", rc->call->id, ds);
            free(ds);
            json_decref(d);
        }
    }
}

int recorder_pci(struct recorder *r, bool pause, const char *extension, const char *sip_call_id,
                 const char *by, int64_t now_us, struct rec_pci_result *out, size_t max, size_t *n,
                 struct es_err *err)
{
    *n = 0;
    for (struct rec_call *rc = r->all; rc; rc = rc->next_all) {
        const struct sip_call *c = rc->sip;
        if (!c || rc->discard || c->state != CALL_ANSWERED)
            continue;
        bool match = sip_call_id && sip_call_id[0]
                         ? !strcmp(c->call_id, sip_call_id)
                         : extension && extension[0] &&
                               (!strcmp(c->caller, extension) || !strcmp(c->callee, extension));
        if (!match)
            continue;
        bool changed = rec_pci_set(rc, pause, by, now_us);
        if (!rc->call) { /* the id, before the first audio made it */
            rc->call = calloc(1, sizeof *rc->call);
            if (rc->call)
                recorder_fill_call(rc, rc->call);
        }
        if (*n < max) {
            struct rec_pci_result *o = &out[(*n)++];
            memset(o, 0, sizeof *o);
            snprintf(o->id, sizeof o->id, "%s", rc->call ? rc->call->id : "");
            snprintf(o->sip_call_id, sizeof o->sip_call_id, "%s", c->call_id);
            int64_t origin = rc->first_rtp_us ? rc->first_rtp_us : now_us;
            o->at_ms = (now_us - origin) / 1000;
            o->changed = changed;
        }
        ES_INFO("record", "call %s: recording %s%s by %s", c->call_id, pause ? "paused" : "resumed",
                changed ? "" : " (already)", by);
    }
    if (!*n)
        return es_seterr(err, ES_ENOTFOUND, "no answered call in progress %s %s",
                         sip_call_id && sip_call_id[0] ? "with SIP Call-ID" : "for extension",
                         sip_call_id && sip_call_id[0] ? sip_call_id : extension);
    return 0;
}

static void reply_error(char *out, size_t n, const char *msg)
{
    json_t *o = json_pack("{s:s}", "error", msg);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    snprintf(out, n, "%s", s ? s : "{\"error\":\"out of memory\"}");
    free(s);
    json_decref(o);
}

void recorder_control_line(struct recorder *r, const char *line, int64_t now_us, char *out,
                           size_t n)
{
    json_t *req = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
    const char *action = json_string_value(json_object_get(req, "action"));
    const char *ext = json_string_value(json_object_get(req, "operator"));
    const char *cid = json_string_value(json_object_get(req, "sip_call_id"));
    const char *by = json_string_value(json_object_get(req, "by"));
    if (!json_is_object(req) || !action || (strcmp(action, "pause") && strcmp(action, "resume")) ||
        !ext == !cid) {
        reply_error(out, n,
                    "expected {\"action\": \"pause\" or \"resume\", \"operator\" or"
                    " \"sip_call_id\", \"by\"}");
        json_decref(req);
        return;
    }
    struct rec_pci_result res[8];
    size_t k;
    struct es_err err = {{0}};
    if (recorder_pci(r, !strcmp(action, "pause"), ext, cid, by && by[0] ? by : "api", now_us, res,
                     ES_ARRAY_LEN(res), &k, &err)) {
        reply_error(out, n, err.msg);
        json_decref(req);
        return;
    }
    json_t *calls = json_array();
    for (size_t i = 0; i < k; i++)
        json_array_append_new(calls,
                              json_pack("{s:s, s:s, s:I, s:b}", "id", res[i].id, "sip_call_id",
                                        res[i].sip_call_id, "at_ms", (json_int_t)res[i].at_ms,
                                        "changed", res[i].changed));
    json_t *o = json_pack("{s:b, s:s, s:o}", "ok", 1, "action", action, "calls", calls);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (s && strlen(s) < n)
        memcpy(out, s, strlen(s) + 1);
    else
        reply_error(out, n, "the answer does not fit");
    free(s);
    json_decref(o);
    json_decref(req);
}

/* ---- the control socket ----------------------------------------------------- */

#define CTL_LINE 2048

struct rec_control {
    char path[256];
    int fd, wake[2];
    pthread_t th;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    _Atomic int pending; /* a request waits for the capture loop */
    bool taken, answered;
    char req[CTL_LINE], reply[CTL_LINE];
};

/* Reads one line from a client, at most 2 s. */
static bool read_line(int fd, char *buf, size_t n)
{
    size_t got = 0;
    int64_t deadline = es_mono_us() + 2000000;
    while (got < n - 1) {
        int64_t left = (deadline - es_mono_us()) / 1000;
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
            return false;
        ssize_t k = recv(fd, buf + got, n - 1 - got, 0);
        if (k <= 0)
            return false;
        got += (size_t)k;
        buf[got] = '\0';
        char *nl = memchr(buf, '\n', got);
        if (nl) {
            *nl = '\0';
            return true;
        }
    }
    return false;
}

static void send_all(int fd, const char *s)
{
    size_t len = strlen(s), off = 0;
    while (off < len) {
        ssize_t k = send(fd, s + off, len - off, MSG_NOSIGNAL);
        if (k <= 0)
            return;
        off += (size_t)k;
    }
    send(fd, "\n", 1, MSG_NOSIGNAL);
}

static void serve_one(struct rec_control *c, int fd)
{
    char line[CTL_LINE], reply[CTL_LINE];
    if (!read_line(fd, line, sizeof line)) {
        send_all(fd, "{\"error\":\"expected one JSON line\"}");
        return;
    }
    pthread_mutex_lock(&c->mu);
    snprintf(c->req, sizeof c->req, "%s", line);
    c->taken = c->answered = false;
    atomic_store(&c->pending, 1);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 3;
    while (!c->answered) {
        if (pthread_cond_timedwait(&c->cv, &c->mu, &until) == ETIMEDOUT && !c->taken) {
            atomic_store(&c->pending, 0);
            break;
        }
    }
    if (c->answered)
        snprintf(reply, sizeof reply, "%s", c->reply);
    else
        snprintf(reply, sizeof reply, "{\"error\":\"the capture did not take the request\"}");
    pthread_mutex_unlock(&c->mu);
    send_all(fd, reply);
}

static void *control_main(void *arg)
{
    struct rec_control *c = arg;
    for (;;) {
        struct pollfd pf[2] = {{.fd = c->fd, .events = POLLIN},
                               {.fd = c->wake[0], .events = POLLIN}};
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pf[1].revents)
            break;
        if (!(pf[0].revents & POLLIN))
            continue;
        int fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        serve_one(c, fd);
        close(fd);
    }
    return NULL;
}

int rec_control_open(const char *path, struct rec_control **out, struct es_err *err)
{
    struct rec_control *c = calloc(1, sizeof *c);
    if (!c)
        return es_seterr(err, ES_ENOMEM, "out of memory");
    c->fd = c->wake[0] = c->wake[1] = -1;
    snprintf(c->path, sizeof c->path, "%s", path);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    int rc = es_unix_listen(path, 0660, &c->fd, err);
    if (!rc && pipe2(c->wake, O_CLOEXEC) != 0)
        rc = es_seterr(err, -errno, "pipe: %s", strerror(errno));
    if (!rc && pthread_create(&c->th, NULL, control_main, c) != 0)
        rc = es_seterr(err, ES_ENOMEM, "cannot start the control thread");
    if (rc) {
        rec_control_close(c);
        return rc;
    }
    c->started = true;
    *out = c;
    return 0;
}

void rec_control_poll(struct rec_control *c, struct recorder *r)
{
    if (!c || !atomic_load_explicit(&c->pending, memory_order_acquire))
        return;
    char line[CTL_LINE], reply[CTL_LINE];
    pthread_mutex_lock(&c->mu);
    bool mine = atomic_exchange(&c->pending, 0) != 0;
    if (mine) {
        c->taken = true;
        snprintf(line, sizeof line, "%s", c->req);
    }
    pthread_mutex_unlock(&c->mu);
    if (!mine)
        return;
    recorder_control_line(r, line, r->clock_us ? r->clock_us : es_now_ms() * 1000, reply,
                          sizeof reply);
    pthread_mutex_lock(&c->mu);
    snprintf(c->reply, sizeof c->reply, "%s", reply);
    c->answered = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

void rec_control_close(struct rec_control *c)
{
    if (!c)
        return;
    if (c->started) {
        ssize_t w = write(c->wake[1], "x", 1);
        (void)w;
        pthread_join(c->th, NULL);
    }
    if (c->fd >= 0) {
        close(c->fd);
        unlink(c->path);
    }
    if (c->wake[0] >= 0)
        close(c->wake[0]);
    if (c->wake[1] >= 0)
        close(c->wake[1]);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}
