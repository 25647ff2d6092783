/*
 * The baseline for the CurlHTTP benchmark: plain C driving one curl multi handle the way CurlHTTP's event thread
 * does (curl_multi_perform + curl_multi_poll, easy handles reset and reused, the same options and header list, a
 * header and a write callback), with CONCURRENCY GET requests in flight until TOTAL have finished.
 *
 *   cc -O2 -o multi_bench multi_bench.c -lcurl
 *   ./multi_bench URL CONCURRENCY TOTAL
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long long body_bytes;

static size_t on_header(char *buffer, size_t size, size_t count, void *context) {
    (void)buffer;
    (void)context;
    return size * count;
}

static size_t on_body(char *buffer, size_t size, size_t count, void *context) {
    (void)buffer;
    (void)context;
    body_bytes += (long long)(size * count);
    return size * count;
}

static void configure(CURL *easy, const char *url, struct curl_slist *headers) {
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(easy, CURLOPT_HTTP_CONTENT_DECODING, 0L);
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s URL CONCURRENCY TOTAL\n", argv[0]);
        return 2;
    }
    const char *url = argv[1];
    int concurrency = atoi(argv[2]);
    long total = atol(argv[3]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, 256L);
    struct curl_slist *headers = NULL;
    headers = curl_slist_append(headers, "Expect:");
    headers = curl_slist_append(headers, "Accept:");

    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long started = 0, finished = 0, failed = 0;
    for (int i = 0; i < concurrency && started < total; i++, started++) {
        CURL *easy = curl_easy_init();
        configure(easy, url, headers);
        curl_multi_add_handle(multi, easy);
    }
    while (finished < total) {
        int running = 0;
        curl_multi_perform(multi, &running);
        CURLMsg *message;
        int left;
        while ((message = curl_multi_info_read(multi, &left))) {
            if (message->msg != CURLMSG_DONE) continue;
            CURL *easy = message->easy_handle;
            if (message->data.result != CURLE_OK) failed++;
            finished++;
            curl_multi_remove_handle(multi, easy);
            if (started < total) {
                started++;
                curl_easy_reset(easy);
                configure(easy, url, headers);
                curl_multi_add_handle(multi, easy);
            } else {
                curl_easy_cleanup(easy);
            }
        }
        if (finished < total) curl_multi_poll(multi, NULL, 0, 1000, NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    printf("multi_bench: %ld requests in %.3f s = %.0f req/s (%ld failed, %lld body bytes)\n", total, seconds,
           (double)total / seconds, failed, body_bytes);
    curl_slist_free_all(headers);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    return failed ? 1 : 0;
}
