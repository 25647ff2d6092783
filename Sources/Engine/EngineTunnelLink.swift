#if canImport(Glibc)
import CCurl
import Glibc

/// One WebSocket tunnel's I/O side in a worker: the libcurl connect-only handle and its socket, and what waits for a
/// side that took less than it was given. Every decision is its `EngineTunnel` value's.
///
/// Idle, a tunnel holds no buffer: `toUpstream` and `toClient` are empty arrays (no storage) until a side is slow, and
/// are released again once drained; the upgrade request and the answer's bytes are released once the tunnel opens.
final class EngineTunnelLink {
    unowned let client: EngineClient
    /// The connect-only handle; nil once a plain upstream's socket was taken over from it (`EngineWorker.detach`).
    var easy: UnsafeMutableRawPointer?
    var state: EngineTunnel
    /// The upstream's socket once connected (`CURLINFO_ACTIVESOCKET`); -1 before.
    var socket: Int32 = -1
    /// The upgrade request, until it is sent.
    var head: [UInt8]
    /// The answer as it is read, until the switch.
    var answer: TunnelAnswer?
    /// The upstream answered with something else than a switch: its answer is passed on, then the tunnel closes.
    var refused = false
    /// Bytes read from one side that the other has not taken yet.
    var toUpstream = EngineTunnelBacklog()
    var toClient = EngineTunnelBacklog()
    /// How long the upstream has to answer the upgrade once connected, and until when (`CLOCK_MONOTONIC` ns).
    var answerTimeout: UInt64 = 0
    var answerDeadline: UInt64 = 0
    /// How the registry names this tunnel (nil for a worker without a service, which has no registry).
    var handle: EngineTunnelHandle?
    var serial: UInt64 = 0
    /// Which side ended first (`client_closed`, `upstream_closed`), for the metrics' outcome.
    var firstEnd: String?
    /// The caller, for `[websocket] max_tunnels_per_user`.
    var openid: String?
    /// A side reported a hang-up or an error while it was not read: not watched until it is read again.
    var upstreamHungUp = false
    var clientHungUp = false
    /// Bytes this tunnel counts in the tunnels' budget (`EngineTunnelBudget`).
    var budgeted = 0

    init(client: EngineClient, easy: UnsafeMutableRawPointer, state: EngineTunnel, head: [UInt8], accept: String) {
        self.client = client
        self.easy = easy
        self.state = state
        self.head = head
        self.answer = TunnelAnswer(expectedAccept: accept)
    }

    enum Transfer {
        case done(Int)
        case again
        case failed(String)
    }

    /// What waits for `side`.
    func backlog(toward side: EngineTunnel.Side) -> EngineTunnelBacklog {
        side == .client ? toClient : toUpstream
    }

    func withBacklog(toward side: EngineTunnel.Side, _ change: (inout EngineTunnelBacklog) -> Void) {
        if side == .client { change(&toClient) } else { change(&toUpstream) }
    }

    /// Reads `side`. A client's failure carries no text: the tunnel ends as `client_closed` whatever it was.
    func receive(from side: EngineTunnel.Side, into buffer: UnsafeMutableRawPointer, count: Int) -> Transfer {
        guard side == .client else { return receive(into: buffer, count: count) }
        let received = client.transport.read(client.fd, buffer, count)
        if received >= 0 { return .done(received) }
        return errno == EAGAIN || errno == EINTR ? .again : .failed("")
    }

    /// Writes to `side`; a write the kernel interrupted took nothing (`.done(0)`) and is tried again.
    func send(to side: EngineTunnel.Side, _ bytes: UnsafeRawPointer, count: Int) -> Transfer {
        guard side == .client else { return send(bytes, count: count) }
        let written = client.transport.write(client.fd, bytes, count)
        if written > 0 { return .done(written) }
        if written < 0 && errno == EINTR { return .done(0) }
        return written < 0 && errno == EAGAIN ? .again : .failed("")
    }

    /// Whether `side` may hold read bytes no epoll event reports: a TLS upstream inside libcurl, a TLS client with
    /// decrypted bytes inside OpenSSL. Such a side is read until `EAGAIN`, never left for the next event.
    func hidesInput(_ side: EngineTunnel.Side) -> Bool {
        side == .client ? client.transport.hasPendingInput : easy != nil
    }

    /// Reads the upstream: through libcurl while it holds the connection (TLS), else from the socket itself.
    func receive(into buffer: UnsafeMutableRawPointer, count: Int) -> Transfer {
        if let easy {
            var received = 0
            let code = curl_easy_recv(easy, buffer, count, &received)
            if code == CURLE_AGAIN { return .again }
            return code == CURLE_OK ? .done(received) : .failed(String(cString: curl_easy_strerror(code)))
        }
        let received = read(socket, buffer, count)
        if received >= 0 { return .done(received) }
        return errno == EAGAIN || errno == EINTR ? .again : .failed(String(cString: strerror(errno)))
    }

    /// Writes to the upstream, the same way.
    func send(_ bytes: UnsafeRawPointer, count: Int) -> Transfer {
        if let easy {
            var sent = 0
            let code = curl_easy_send(easy, bytes, count, &sent)
            if code == CURLE_AGAIN { return .again }
            return code == CURLE_OK ? .done(sent) : .failed(String(cString: curl_easy_strerror(code)))
        }
        let sent = write(socket, bytes, count)
        if sent >= 0 { return .done(sent) }
        return errno == EAGAIN || errno == EINTR ? .again : .failed(String(cString: strerror(errno)))
    }
}
#endif
