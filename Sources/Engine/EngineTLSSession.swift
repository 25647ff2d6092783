#if canImport(Glibc)
import COpenSSL
import Glibc

/// One client connection's TLS state (an OpenSSL `SSL` over the client's non-blocking socket). Its `read` and `write`
/// keep the contract of read(2) and write(2) so that the worker drives both transports alike: bytes, 0 at the end of
/// the stream, or -1 with `errno` EAGAIN (OpenSSL wants the socket readable or writable: `wants`) or another errno
/// (the connection failed). The handshake needs no call of its own: the first `read` of a server in accept state
/// performs it, driven by the socket's readiness like any read.
final class EngineTLSSession {
    private let ssl: OpaquePointer
    /// After an EAGAIN: the socket readiness OpenSSL waits for. A read may need the socket writable (a handshake
    /// message or a session ticket to send) and a write readable.
    private(set) var wants = Want.nothing
    /// The connection failed at the TLS layer (a bad handshake, a corrupt record): no close_notify is sent.
    private(set) var failed = false
    /// The handshake completed once.
    private(set) var established = false
    private var shutdownSent = false

    enum Want: Equatable {
        case nothing, readable, writable
    }

    init(_ ssl: OpaquePointer) {
        self.ssl = ssl
    }

    deinit {
        SSL_free(ssl)
    }

    func read(_ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        ERR_clear_error()
        errno = 0
        let result = SSL_read(ssl, buffer, Int32(clamping: count))
        if result > 0 {
            wants = .nothing
            established = true
            return Int(result)
        }
        return failure(result)
    }

    func write(_ bytes: UnsafeRawPointer, _ count: Int) -> Int {
        ERR_clear_error()
        errno = 0
        let result = SSL_write(ssl, bytes, Int32(clamping: count))
        if result > 0 {
            wants = .nothing
            return Int(result)
        }
        return failure(result)
    }

    /// Decrypted bytes (or a whole record) wait inside OpenSSL, which epoll cannot see: read again without waiting.
    var hasPending: Bool { SSL_has_pending(ssl) == 1 }

    /// Sends close_notify once (RFC 8446 section 6.1), without waiting for the client's: the socket closes or only
    /// its sending side is shut after it. Skipped on a failed connection.
    func sendCloseNotify() {
        if failed { discardWaitingInput() }
        guard !failed, !shutdownSent, established else { return }
        shutdownSent = true
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    /// A connection that failed at the TLS layer (a plain-HTTP client's request) is closed with what it sent read, so
    /// that the close is a FIN rather than a reset that could take the alert OpenSSL sent with it.
    private func discardWaitingInput() {
        let fd = SSL_get_fd(ssl)
        guard fd >= 0 else { return }
        var scratch = [UInt8](repeating: 0, count: 16 * 1024)
        for _ in 0..<4 where recv(fd, &scratch, scratch.count, Int32(MSG_DONTWAIT)) == scratch.count {}
    }

    private func failure(_ result: Int32) -> Int {
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ:
            wants = .readable
            errno = EAGAIN
            return -1
        case SSL_ERROR_WANT_WRITE:
            wants = .writable
            errno = EAGAIN
            return -1
        case SSL_ERROR_ZERO_RETURN:
            // The client's close_notify: the end of its stream.
            return 0
        case SSL_ERROR_SYSCALL where errno == EINTR:
            return -1
        default:
            // SSL_ERROR_SSL (a plain-HTTP client, a bad record, no shared version or cipher) or the socket's
            // error: the connection is over. errno stays the socket's, or EPROTO for a TLS-level failure.
            failed = true
            if errno == 0 || errno == EAGAIN || errno == EINTR { errno = EPROTO }
            ERR_clear_error()
            return -1
        }
    }
}
#endif
