#if canImport(Glibc)
import Glibc

/// How a client connection's bytes travel: the socket itself, or TLS over it (`[server] tls_certificate`). The worker
/// calls these where it called read(2), write(2) and shutdown(2); the plain case is those calls and nothing more, so
/// a plain request's system calls stay as they were.
enum EngineTransport {
    case plain
    case tls(EngineTLSSession)

    /// read(2)'s contract: bytes, 0 at the end of the stream, -1 with errno.
    @inline(__always)
    func read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        switch self {
        case .plain: return Glibc.read(fd, buffer, count)
        case .tls(let session): return session.read(buffer, count)
        }
    }

    /// write(2)'s contract: bytes taken, or -1 with errno.
    @inline(__always)
    func write(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
        switch self {
        case .plain: return Glibc.write(fd, bytes, count)
        case .tls(let session): return session.write(bytes, count)
        }
    }

    /// The answer is complete and nothing more will be written (lingering, a close): over TLS the client is told
    /// with close_notify first, since a bare FIN reads as a truncation attack (RFC 8446 section 6.1).
    func endOutput() {
        if case .tls(let session) = self { session.sendCloseNotify() }
    }

    /// The client speaks TLS: the scheme the upstream is told (`X-Forwarded-Proto: https`).
    var isTLS: Bool {
        if case .tls = self { return true }
        return false
    }

    /// Bytes wait inside the transport, where epoll cannot see them.
    var hasPendingInput: Bool {
        if case .tls(let session) = self { return session.hasPending }
        return false
    }

    /// After an EAGAIN: whether the transport waits for the socket to become writable (TLS reading a handshake or a
    /// session ticket out), rather than for what the caller asked.
    var waitsForWritable: Bool {
        if case .tls(let session) = self { return session.wants == .writable }
        return false
    }
}
#endif
