#ifndef GATEWAY_CCURL_SHIM_H
#define GATEWAY_CCURL_SHIM_H
// libcurl's setters are C variadics, which Swift cannot call. Each wrapper below fixes one
// argument type so the Swift side stays type-checked (docs/libcurl.md, "Linking from SwiftPM").
#include <curl/curl.h>

static inline CURLcode gw_easy_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode gw_easy_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode gw_easy_setopt_ptr(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode gw_easy_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode gw_easy_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode gw_easy_setopt_write(CURL *h, CURLoption o, curl_write_callback v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode gw_easy_setopt_read(CURL *h, CURLoption o, curl_read_callback v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode gw_easy_setopt_xferinfo(CURL *h, CURLoption o, curl_xferinfo_callback v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode gw_easy_setopt_header(CURL *h, CURLoption o, curl_write_callback v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode gw_easy_setopt_sockopt(CURL *h, CURLoption o, curl_sockopt_callback v) { return curl_easy_setopt(h, o, v); }
static inline CURLMcode gw_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }
static inline CURLcode gw_easy_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode gw_easy_getinfo_ptr(CURL *h, CURLINFO i, void **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode gw_easy_getinfo_double(CURL *h, CURLINFO i, double *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode gw_easy_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode gw_easy_getinfo_socket(CURL *h, CURLINFO i, curl_socket_t *v) { return curl_easy_getinfo(h, i, v); }

// Macros that Swift cannot import as constants.
static inline size_t gw_readfunc_pause(void) { return CURL_READFUNC_PAUSE; }
static inline size_t gw_readfunc_abort(void) { return CURL_READFUNC_ABORT; }
static inline size_t gw_writefunc_pause(void) { return CURL_WRITEFUNC_PAUSE; }
static inline int gw_pause_cont(void) { return CURLPAUSE_CONT; }
static inline int gw_pause_all(void) { return CURLPAUSE_ALL; }
static inline int gw_pause_recv(void) { return CURLPAUSE_RECV; }
static inline int gw_pause_send(void) { return CURLPAUSE_SEND; }
static inline long gw_global_default(void) { return CURL_GLOBAL_DEFAULT; }
// The engine's slice (issue 23) drives a multi handle with curl_multi_socket_action from its own epoll set.
static inline CURLMcode gw_multi_setopt_ptr(CURLM *m, CURLMoption o, void *v) { return curl_multi_setopt(m, o, v); }
static inline CURLMcode gw_multi_setopt_socketfn(CURLM *m, curl_socket_callback v) { return curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, v); }
static inline CURLMcode gw_multi_setopt_timerfn(CURLM *m, curl_multi_timer_callback v) { return curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, v); }
static inline CURLcode gw_easy_setopt_opensocket(CURL *h, curl_opensocket_callback v) { return curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, v); }
static inline CURLcode gw_easy_setopt_closesocket(CURL *h, curl_closesocket_callback v) { return curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, v); }
static inline int gw_poll_remove(void) { return CURL_POLL_REMOVE; }
static inline int gw_poll_in(void) { return CURL_POLL_IN; }
static inline int gw_poll_out(void) { return CURL_POLL_OUT; }
static inline curl_socket_t gw_socket_timeout(void) { return CURL_SOCKET_TIMEOUT; }
static inline int gw_cselect_in(void) { return CURL_CSELECT_IN; }
static inline int gw_cselect_out(void) { return CURL_CSELECT_OUT; }
static inline int gw_cselect_err(void) { return CURL_CSELECT_ERR; }
#endif
