/* One delivery attempt with libcurl: a signed JSON POST to a webhook, or a
 * plain-text e-mail over SMTP. The handle is kept between attempts so that
 * its connections are reused. */
#include "followup/followup_int.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static CURL *handle(struct followup *f)
{
    if (!f->curl)
        f->curl = curl_easy_init();
    else
        curl_easy_reset(f->curl);
    return f->curl;
}

void notify_send_free(struct followup *f)
{
    if (f->curl)
        curl_easy_cleanup(f->curl);
    f->curl = NULL;
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

/* v1 = hex(HMAC-SHA256(secret, t + "." + body)) */
static void sign(const char *secret, const char *t, const char *body, char hex[65])
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)t, strlen(t));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
    crypto_auth_hmacsha256_final(&st, mac);
    es_hex(mac, sizeof mac, hex);
}

static int webhook(struct followup *f, const struct notify_config *nc,
                   const struct notify_message *m, int64_t now, char why[256])
{
    CURL *c = handle(f);
    if (!c) {
        snprintf(why, 256, "libcurl could not start");
        return 1;
    }
    char t[24], hex[65], h_event[96], h_id[96], h_sig[160];
    snprintf(t, sizeof t, "%lld", (long long)(now / 1000));
    snprintf(h_event, sizeof h_event, "X-Earshot-Event: %s", m->event);
    snprintf(h_id, sizeof h_id, "X-Earshot-Id: %s", m->uuid);
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, h_event);
    h = curl_slist_append(h, h_id);
    if (m->rule->secret[0]) {
        sign(m->rule->secret, t, m->body, hex);
        snprintf(h_sig, sizeof h_sig, "X-Earshot-Signature: t=%s,v1=%s", t, hex);
        h = curl_slist_append(h, h_sig);
    }
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, m->target);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, m->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(m->body));
    curl_easy_setopt(c, CURLOPT_USERAGENT, "earshot");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)nc->timeout_s);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)ES_MIN(nc->timeout_s, 5));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    if (rc != CURLE_OK) {
        snprintf(why, 256, "%s", curl_easy_strerror(rc));
        return 1;
    }
    if (status < 200 || status > 299) {
        snprintf(why, 256, "HTTP %ld", status);
        return 1;
    }
    return 0;
}

/* ---- e-mail ---------------------------------------------------------------------- */
struct reader {
    const char *p;
    size_t left;
};

static size_t read_message(char *out, size_t size, size_t n, void *ud)
{
    struct reader *r = ud;
    size_t k = ES_MIN(size * n, r->left);
    memcpy(out, r->p, k);
    r->p += k;
    r->left -= k;
    return k;
}

/* Header values from outside (numbers, queue names) keep to one line. */
static void one_line(struct es_buf *b, const char *s)
{
    for (; *s; s++)
        es_buf_append(b, (unsigned char)*s < 0x20 || *s == 0x7f ? " " : s, 1);
}

static void text_of(struct es_buf *b, const char *prefix, json_t *v)
{
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        if (json_is_object(x) || json_is_array(x)) {
            char *t = json_dumps(x, JSON_COMPACT | JSON_SORT_KEYS);
            es_buf_appendf(b, "%s%-18s ", prefix, k);
            one_line(b, t ? t : "");
            es_buf_append(b, "\r\n", 2);
            free(t);
        } else if (!json_is_null(x)) {
            char *t = json_dumps(x, JSON_ENCODE_ANY);
            const char *s = json_is_string(x) ? json_string_value(x) : t;
            es_buf_appendf(b, "%s%-18s ", prefix, k);
            one_line(b, s ? s : "");
            es_buf_append(b, "\r\n", 2);
            free(t);
        }
    }
}

static void subject(struct es_buf *b, const char *event, json_t *data)
{
    const char *number = json_string_value(json_object_get(data, "number"));
    if (!number)
        number = json_string_value(json_object_get(data, "caller"));
    const char *queue = json_string_value(json_object_get(data, "queue"));
    es_buf_appendf(b, "Subject: [earshot] %s", event);
    if (!strcmp(event, "digest")) {
        es_buf_appendf(b, ": %lld events",
                       (long long)json_integer_value(json_object_get(data, "count")));
    } else if (number && number[0]) {
        es_buf_append(b, ": ", 2);
        one_line(b, number);
        if (queue && queue[0]) {
            es_buf_append(b, " (", 2);
            one_line(b, queue);
            es_buf_append(b, ")", 1);
        }
    }
    es_buf_append(b, "\r\n", 2);
}

static int email(struct followup *f, const struct notify_config *nc, const struct notify_message *m,
                 int64_t now, char why[256])
{
    json_t *body = json_loads(m->body, 0, NULL);
    json_t *data = json_object_get(body, "data");
    const char *from = nc->smtp_from[0] ? nc->smtp_from : "earshot@localhost";
    struct es_buf msg;
    es_buf_init(&msg, 1 << 20);
    char date[64];
    time_t t = (time_t)(now / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    es_buf_appendf(&msg, "Date: %s\r\nFrom: ", date);
    one_line(&msg, from);
    es_buf_append(&msg, "\r\nTo: ", 6);
    one_line(&msg, m->target);
    es_buf_appendf(&msg,
                   "\r\nMessage-ID: <%s@earshot>\r\nX-Earshot-Event: %s\r\n"
                   "X-Earshot-Id: %s\r\n",
                   m->uuid, m->event, m->uuid);
    subject(&msg, m->event, data);
    es_buf_appendf(&msg, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                         "Content-Transfer-Encoding: 8bit\r\n\r\n");
    if (!strcmp(m->event, "digest")) {
        json_t *ev;
        size_t i;
        es_buf_appendf(&msg, "%lld events from %s to %s:\r\n",
                       (long long)json_integer_value(json_object_get(data, "count")),
                       json_string_value(json_object_get(data, "from")),
                       json_string_value(json_object_get(data, "to")));
        json_array_foreach(json_object_get(data, "events"), i, ev)
        {
            es_buf_appendf(&msg, "\r\n%s at %s\r\n",
                           json_string_value(json_object_get(ev, "event")),
                           json_string_value(json_object_get(ev, "at")));
            text_of(&msg, "  ", json_object_get(ev, "data"));
        }
    } else {
        es_buf_appendf(&msg, "%s at %s\r\n\r\n", m->event,
                       json_string_value(json_object_get(body, "at")));
        text_of(&msg, "", data);
    }
    json_decref(body);
    if (!msg.data) {
        es_buf_free(&msg);
        snprintf(why, 256, "out of memory");
        return 1;
    }
    CURL *c = handle(f);
    if (!c) {
        es_buf_free(&msg);
        snprintf(why, 256, "libcurl could not start");
        return 1;
    }
    struct curl_slist *rcpt = NULL;
    char to[512];
    snprintf(to, sizeof to, "%s", m->target);
    for (char *save, *a = strtok_r(to, ", ", &save); a; a = strtok_r(NULL, ", ", &save))
        rcpt = curl_slist_append(rcpt, a);
    struct reader r = {(const char *)msg.data, msg.len};
    curl_easy_setopt(c, CURLOPT_URL, nc->smtp_url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    /* a password never goes out in clear: with one, STARTTLS (or smtps) is required */
    curl_easy_setopt(c, CURLOPT_USE_SSL,
                     nc->smtp_user[0] ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY);
    if (nc->smtp_user[0]) {
        curl_easy_setopt(c, CURLOPT_USERNAME, nc->smtp_user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, nc->smtp_password);
    }
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_message);
    curl_easy_setopt(c, CURLOPT_READDATA, &r);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)nc->timeout_s);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)ES_MIN(nc->timeout_s, 5));
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(rcpt);
    es_buf_free(&msg);
    if (rc != CURLE_OK) {
        snprintf(why, 256, "%s", curl_easy_strerror(rc));
        return 1;
    }
    return 0;
}

int notify_send(struct followup *f, const struct notify_config *nc, const struct notify_message *m,
                int64_t now, char why[256])
{
    why[0] = '\0';
    return m->rule->channel == NOTIFY_WEBHOOK ? webhook(f, nc, m, now, why)
                                              : email(f, nc, m, now, why);
}
