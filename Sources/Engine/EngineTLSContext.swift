#if canImport(Glibc)
import COpenSSL
import GatewayCore

/// One OpenSSL `SSL_CTX` for the engine's public listener, made from `[server] tls_certificate` and
/// `tls_private_key` with the settings of the NIO listener (`TLSContextBox.makeContext`): TLS 1.2 or later (RFC 8996),
/// HTTP/1.1 through ALPN (RFC 7301), swift-nio-ssl's default cipher list. Immutable once made, so every worker makes
/// its connections' `SSL` from it (OpenSSL allows `SSL_new` on a shared context from several threads).
final class EngineTLSContext: @unchecked Sendable {
    let context: OpaquePointer

    /// swift-nio-ssl's `defaultCipherSuites` (TLS 1.2; TLS 1.3's suites are OpenSSL's defaults, as BoringSSL's).
    static let cipherList =
        "ECDH+AESGCM:ECDH+CHACHA20:DH+AESGCM:DH+CHACHA20:ECDH+AES256:DH+AES256:ECDH+AES128:DH+AES:RSA+AESGCM:RSA+AES:"
        + "!aNULL:!eNULL:!MD5"

    init(_ files: ServerConfig.TLSFiles) throws(EngineError) {
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw .tls(Self.lastError("SSL_CTX_new")) }
        self.context = context
        guard gw_ssl_ctx_set_min_tls12(context) == 1 else { throw .tls(Self.lastError("TLS 1.2 minimum")) }
        gw_ssl_ctx_set_engine_modes(context)
        guard SSL_CTX_set_cipher_list(context, Self.cipherList) == 1 else { throw .tls(Self.lastError("cipher list")) }
        guard SSL_CTX_use_certificate_chain_file(context, files.certificate) == 1 else {
            throw .tls(Self.lastError("server.tls_certificate \"\(files.certificate)\""))
        }
        guard SSL_CTX_use_PrivateKey_file(context, files.privateKey, gw_ssl_filetype_pem()) == 1 else {
            throw .tls(Self.lastError("server.tls_private_key \"\(files.privateKey)\""))
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw .tls(Self.lastError("server.tls_private_key \"\(files.privateKey)\" does not match the certificate"))
        }
        gw_ssl_ctx_offer_http11(context)
    }

    deinit {
        SSL_CTX_free(context)
    }

    /// A new connection's TLS state over `fd`, as the server side; nil when OpenSSL cannot make one (out of memory).
    func session(fd: Int32) -> EngineTLSSession? {
        guard let ssl = SSL_new(context) else { return nil }
        guard SSL_set_fd(ssl, fd) == 1 else {
            SSL_free(ssl)
            return nil
        }
        SSL_set_accept_state(ssl)
        return EngineTLSSession(ssl)
    }

    /// `what`, and the reason OpenSSL left on this thread's error queue (which it empties).
    static func lastError(_ what: String) -> String {
        var reasons: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            var text = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &text, text.count)
            reasons.append(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return reasons.isEmpty ? what : "\(what): \(reasons.joined(separator: "; "))"
    }
}
#endif
