#ifndef GATEWAY_COPENSSL_SHIM_H
#define GATEWAY_COPENSSL_SHIM_H
// The system's OpenSSL (libssl-dev) for the engine's TLS listener (issue 23). swift-nio-ssl's BoringSSL is linked
// too, but its symbols carry the CNIOBoringSSL_ prefix, so the two never meet at link time; libcurl already loads
// this same libssl for HTTPS upstreams. Swift cannot call OpenSSL's macros, so they are wrapped here.
#include <openssl/ssl.h>
#include <openssl/err.h>

static inline int gw_ssl_ctx_set_min_tls12(SSL_CTX *ctx) {
    // RFC 8996 retires TLS 1.0 and 1.1.
    return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
}

static inline void gw_ssl_ctx_set_engine_modes(SSL_CTX *ctx) {
    // Partial writes: the worker keeps its own output offset, as with write(2). Moving buffer: a write retried after
    // SSL_ERROR_WANT_WRITE may come from a Swift array that has grown since. Released buffers: an idle keep-alive
    // connection holds no 34 KiB read and write buffers.
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    // No client-initiated renegotiation (RFC 5746's attacks, and a CPU cost a client could ask for at will); no
    // compression (CRIME).
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
}

// RFC 7301: http/1.1 is chosen when the client offers it; a client offering only other protocols (h2) gets no ALPN
// answer and may go on with HTTP/1.1 or give up, as swift-nio-ssl's listener does.
static int gw_alpn_select_http11(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                                 unsigned int inlen, void *arg) {
    (void)ssl;
    (void)arg;
    static const unsigned char offered[] = "\x08http/1.1";
    unsigned char *selected = NULL;
    if (SSL_select_next_proto(&selected, outlen, offered, sizeof(offered) - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_NOACK;
    }
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
}

static inline void gw_ssl_ctx_offer_http11(SSL_CTX *ctx) {
    SSL_CTX_set_alpn_select_cb(ctx, gw_alpn_select_http11, NULL);
}

static inline int gw_ssl_filetype_pem(void) { return SSL_FILETYPE_PEM; }
#endif
