/* The anchor of bench/notify: N JSON POSTs, one after another on one libcurl
 * handle (connections reused), to URL; prints the posts per second. What a
 * sender with no outbox, rules or retries could do against the same receiver.
 * usage: curl_post URL N */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: curl_post URL N\n");
        return 2;
    }
    long n = strtol(argv[2], NULL, 10);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");
    const char *body = "{\"id\":\"00000000-0000-7000-8000-000000000000\",\"event\":\"call.missed\","
                       "\"at\":\"2026-12-01T10:00:00Z\",\"data\":{\"caller\":\"+4930123456\","
                       "\"queue\":\"sales\",\"attempts\":1}}";
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    long ok = 0;
    for (long i = 0; i < n; i++) {
        curl_easy_setopt(c, CURLOPT_URL, argv[1]);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        long status = 0;
        if (curl_easy_perform(c) == CURLE_OK &&
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status / 100 == 2)
            ok++;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("%.1f %ld\n", (double)ok / s, ok);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    curl_global_cleanup();
    return ok == n ? 0 : 1;
}
