#if canImport(Glibc)
import Glibc

/// TLS on the worker's client connections (`[server] tls_certificate`): each connection's `EngineTransport` is an
/// OpenSSL session over its non-blocking socket. The handshake is the first reads' work (`EngineTLSSession`), so it
/// runs on the socket's readiness like any read and under the same idle timer; a failed one (a plain-HTTP client, no
/// shared version or cipher) ends in a close, as on the NIO listener, which logs nothing for it either.
extension EngineWorker {
    /// A new connection's TLS session from the current context; false (the socket closed) when none can be made.
    func startTLS(_ client: EngineClient, _ box: EngineTLSContextBox) -> Bool {
        guard let session = box.current().session(fd: client.fd) else {
            close(client.fd)
            return false
        }
        client.transport = .tls(session)
        return true
    }

    /// A TLS read found no application bytes: OpenSSL waits for the socket to be readable (asked already) or writable.
    func tlsReadWaits(_ client: EngineClient) {
        guard client.isOpen, !client.readsHeld else { return }
        tlsInterest(client)
    }

    /// After a TLS read's bytes were used: bytes OpenSSL already decrypted raise no epoll event, so the connection is
    /// read again before the worker waits; and a wait for writability it no longer has is dropped.
    func tlsReadDone(_ client: EngineClient) {
        guard client.isOpen else { return }
        if client.transport.hasPendingInput && !client.isTLSPendingRead {
            client.isTLSPendingRead = true
            tlsPendingReads.append(client)
        }
        if !client.readsHeld { tlsInterest(client) }
    }

    /// Readable always (reads are not held); writable while output waits or OpenSSL's read needs to write.
    private func tlsInterest(_ client: EngineClient) {
        let writable = client.pendingOutput > 0 || client.transport.waitsForWritable
        epoll.want(client.fd, events: EpollSet.readable | (writable ? EpollSet.writable : 0))
    }

    /// Whether a connection with bytes inside OpenSSL can be read now (the loop then does not wait in epoll).
    var hasTLSPendingReads: Bool {
        tlsPendingReads.contains { $0.isOpen && !$0.readsHeld && $0.tunnel == nil }
    }

    /// Reads every connection with bytes inside OpenSSL once; one whose reads are held stays for a later pass.
    func readTLSPending() {
        let waiting = tlsPendingReads
        tlsPendingReads.removeAll(keepingCapacity: true)
        for client in waiting {
            client.isTLSPendingRead = false
            // A tunnel's relay reads its client until EAGAIN when it opens (decrypted bytes included); until then
            // the client's bytes wait, and keeping the connection here would only spin the loop.
            guard client.isOpen, client.transport.hasPendingInput, client.tunnel == nil else { continue }
            if client.readsHeld {
                client.isTLSPendingRead = true
                tlsPendingReads.append(client)
            } else {
                read(client)
            }
        }
    }
}
#endif
