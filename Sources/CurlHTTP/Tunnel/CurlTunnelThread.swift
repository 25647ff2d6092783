import CCurl
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One thread driving tunnels over libcurl connect-only connections, with a multi handle of its own.
///
/// The multi handle connects (and runs the TLS handshake); once it reports a connection done, the handle stays in
/// it, because libcurl closes a connect-only connection when its handle is removed, and the thread moves bytes
/// itself with `curl_easy_send`/`curl_easy_recv`, polling the connection's socket (`CURLINFO_ACTIVESOCKET`) as an
/// extra descriptor of `curl_multi_poll`. The multi handle holds tunnels only: none of the proxy's keep-alive
/// connections share its cache, so libcurl's pruning of idle connections never looks at a tunnel, and a tunnel
/// never lengthens the proxy's connection lookups (docs/libcurl.md, "Tunnels").
final class CurlTunnelThread: @unchecked Sendable {
    enum Command {
        case open(CurlTunnel)
        case service(CurlTunnel)
        /// The buffer budget has room again: held tunnels are looked at on this pass.
        case wake
        case shutdown
    }

    private let multi: UnsafeMutableRawPointer
    private let mailbox: CurlThreadMailbox<Command>
    private let thread: NIOLockedValueBox<pthread_t?>
    /// Tunnels this thread holds (connecting or open), readable from any thread.
    let tunnelCount = Atomic<Int>(0)

    // Owned by the thread.
    private var connecting: [UnsafeMutableRawPointer: CurlTunnel] = [:]
    private var live: [ObjectIdentifier: CurlTunnel] = [:]
    private var pollTunnels: [CurlTunnel] = []
    private var pollDescriptors: [curl_waitfd] = []
    /// Open tunnels that can read without waiting (see `CurlTunnelEngineState.mayRead`): served after the poll.
    private var readyTunnels: [CurlTunnel] = []
    private var polled = false
    private var lastSweep: UInt64 = 0
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    /// Bytes one tunnel may read per pass before the others get their turn.
    private static let readBudget = 256 * 1024
    /// Reads of an upgrade answer: what follows a 101 in the same read reaches the caller before any limit is
    /// checked, so it is kept small (a head is far smaller; a larger one takes a few reads).
    private static let answerReadSize = 4096

    init() throws(CurlError) {
        guard let multi = curl_multi_init() else { throw CurlError.other(code: -1, "curl_multi_init failed") }
        self.multi = multi
        self.mailbox = CurlThreadMailbox(multi: multi)
        self.thread = NIOLockedValueBox(nil)
        // Never let libcurl close a tunnel's connection to make room in its cache.
        _ = gw_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, 1 << 30)
        guard let started = mailbox.startThread({ self.run() }) else {
            curl_multi_cleanup(multi)
            throw CurlError.other(code: -1, "pthread_create failed")
        }
        thread.withLockedValue { $0 = started }
    }

    @discardableResult
    func submit(_ command: Command) -> Bool {
        if case .shutdown = command { return mailbox.submit(command, isLast: true) }
        return mailbox.submit(command)
    }

    func addPassObserver(_ observer: @escaping @Sendable () -> Void) {
        mailbox.addPassObserver(observer)
    }

    func open(_ tunnel: CurlTunnel) {
        if !submit(.open(tunnel)) {
            tunnel.withShared { $0.ended = true }
            let delegate = tunnel.engine.delegate
            tunnel.engine.delegate = nil
            delegate?.tunnel(tunnel, didReport: .closed(.closedByGateway("shutdown")))
            for observer in mailbox.observers { observer() }
        }
    }

    /// Ends every tunnel (`.closedByGateway("shutdown")`), stops the thread and waits for it.
    func shutdownAndJoin() {
        submit(.shutdown)
        let joinable: pthread_t? = thread.withLockedValue { handle in
            defer { handle = nil }
            return handle
        }
        guard let joinable, !mailbox.isOwnerThread else { return }
        pthread_join(joinable, nil)
        curl_multi_cleanup(multi)
        scratch.deallocate()
    }

    // MARK: The loop

    private func run() {
        var batch: [Command] = []
        var observers: [@Sendable () -> Void] = []
        var shuttingDown = false
        while !shuttingDown {
            observers = mailbox.take(into: &batch)
            for command in batch {
                switch command {
                case .open(let tunnel): add(tunnel)
                case .service(let tunnel):
                    tunnel.withShared { $0.serviceQueued = false }
                    service(tunnel, readable: false, writable: false)
                case .wake: break
                case .shutdown: shuttingDown = true
                }
            }
            batch.removeAll(keepingCapacity: true)
            if shuttingDown { break }
            var running: Int32 = 0
            _ = curl_multi_perform(multi, &running)
            finishConnects()
            if polled {
                polled = false
                for index in pollDescriptors.indices where pollDescriptors[index].revents != 0 {
                    let events = Int32(pollDescriptors[index].revents)
                    service(
                        pollTunnels[index], readable: events & CURL_WAIT_POLLIN != 0,
                        writable: events & CURL_WAIT_POLLOUT != 0)
                }
            }
            for tunnel in readyTunnels { service(tunnel, readable: false, writable: false) }
            readyTunnels.removeAll(keepingCapacity: true)
            let now = Self.monotonicMilliseconds()
            if now &- lastSweep >= 1000 {
                lastSweep = now
                sweep(now: now)
            }
            let busy = buildPollSet()
            for observer in observers { observer() }
            if mailbox.isEmpty {
                let timeout: Int32 = busy ? 0 : 1000
                let count = UInt32(pollDescriptors.count)
                if pollDescriptors.isEmpty {
                    _ = curl_multi_poll(multi, nil, 0, timeout, nil)
                } else {
                    _ = pollDescriptors.withUnsafeMutableBufferPointer { fds in
                        curl_multi_poll(multi, fds.baseAddress, count, timeout, nil)
                    }
                }
                polled = true
            }
        }
        for tunnel in Array(connecting.values) + Array(live.values) {
            end(tunnel, .closedByGateway("shutdown"))
        }
        for observer in observers { observer() }
    }

    /// The descriptors to wait on and what for, and the tunnels that can read without waiting (`readyTunnels`).
    /// Returns whether there are any of those: then the poll does not wait.
    private func buildPollSet() -> Bool {
        pollTunnels.removeAll(keepingCapacity: true)
        pollDescriptors.removeAll(keepingCapacity: true)
        var busy = false
        for tunnel in live.values {
            let engine = tunnel.engine
            var events: Int32 = 0
            switch engine.phase {
            case .sendingHead: events = CURL_WAIT_POLLOUT
            case .readingAnswer: events = CURL_WAIT_POLLIN
            case .open:
                // One look under the tunnel's lock: whether its upstream may be read, and whether a `send` held for
                // room in the budget may go on.
                let (receiveBlocked, canSendMore) = tunnel.pollState()
                if canSendMore { report(tunnel, .canSendMore) }
                if !tunnel.isHeldByBudget() && !receiveBlocked {
                    if tunnel.engine.mayRead {
                        busy = true
                        readyTunnels.append(tunnel)
                    } else {
                        events |= CURL_WAIT_POLLIN
                    }
                }
                if engine.wantsWrite { events |= CURL_WAIT_POLLOUT }
            default: continue
            }
            guard events != 0 else { continue }
            pollTunnels.append(tunnel)
            pollDescriptors.append(curl_waitfd(fd: engine.socket, events: Int16(events), revents: 0))
        }
        return busy
    }

    // MARK: Connecting

    private func add(_ tunnel: CurlTunnel) {
        tunnelCount.add(1, ordering: .relaxed)
        guard let easy = curl_easy_init() else {
            return end(tunnel, .failed(.other(code: -1, "curl_easy_init failed")))
        }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        tunnel.engine.easy = easy
        tunnel.engine.errorBuffer = errorBuffer
        if let failure = Self.configure(easy, errorBuffer: errorBuffer, for: tunnel.request) {
            return end(tunnel, .failed(failure))
        }
        if tunnel.withShared({ $0.closeReason }) != nil {
            return end(tunnel, .closedByGateway(tunnel.withShared { $0.closeReason } ?? "closed"))
        }
        let code = curl_multi_add_handle(multi, easy)
        guard code == CURLM_OK else {
            return end(tunnel, .failed(.other(code: Int(code.rawValue), String(cString: curl_multi_strerror(code)))))
        }
        tunnel.engine.phase = .connecting
        connecting[easy] = tunnel
    }

    private func finishConnects() {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                let tunnel = connecting.removeValue(forKey: easy)
            else { continue }
            let code = message.pointee.data.result
            guard code == CURLE_OK else {
                let text = Self.message(tunnel, code)
                end(tunnel, .failed(CurlError(curlCode: Int(code.rawValue), message: text, requestWasSent: false)))
                continue
            }
            var socket: curl_socket_t = -1
            _ = gw_easy_getinfo_socket(easy, CURLINFO_ACTIVESOCKET, &socket)
            guard socket >= 0 else {
                end(tunnel, .failed(.couldNotConnect("no socket after connecting")))
                continue
            }
            tunnel.engine.socket = socket
            tunnel.engine.isTLS = tunnel.request.url.hasPrefix("https:")
            tunnel.engine.phase = .sendingHead(offset: 0)
            let now = Self.monotonicMilliseconds()
            tunnel.engine.lastActivity = now
            // A route without a timeout of its own still bounds the wait for the answer, by the idle timeout: an
            // upstream that never answers must not hold a place under max_tunnels for ever.
            let request = tunnel.request
            let answerTimeout =
                request.answerTimeoutMilliseconds > 0
                ? request.answerTimeoutMilliseconds : request.idleTimeoutMilliseconds
            tunnel.engine.answerDeadline = answerTimeout > 0 ? now + UInt64(answerTimeout) : 0
            live[ObjectIdentifier(tunnel)] = tunnel
            service(tunnel, readable: false, writable: true)
        }
    }

    // MARK: Moving bytes

    private func service(_ tunnel: CurlTunnel, readable: Bool, writable: Bool) {
        if tunnel.engine.isEnded { return }
        // Closed before it was opened (`CurlTunnelClient.makeTunnel`): its `.open` comes next and ends it there.
        if case .created = tunnel.engine.phase { return }
        if let reason = tunnel.withShared({ $0.closeReason }) {
            return end(tunnel, .closedByGateway(reason))
        }
        switch tunnel.engine.phase {
        case .created, .connecting, .ended:
            return
        case .sendingHead(let offset):
            sendHead(tunnel, from: offset)
        case .readingAnswer:
            if readable { readAnswer(tunnel) }
        case .open:
            if readable { tunnel.engine.mayRead = true }
            relay(tunnel)
        }
    }

    private func sendHead(_ tunnel: CurlTunnel, from offset: Int) {
        guard let easy = tunnel.engine.easy else { return }
        var offset = offset
        let head = tunnel.request.head
        while offset < head.count {
            var sent = 0
            let code = head.withUnsafeBytes { bytes in
                curl_easy_send(easy, bytes.baseAddress! + offset, bytes.count - offset, &sent)
            }
            if code == CURLE_AGAIN { break }
            guard code == CURLE_OK else {
                return end(
                    tunnel, .failed(.couldNotConnect("sending the upgrade request: \(Self.message(tunnel, code))")))
            }
            offset += sent
        }
        if offset < head.count {
            tunnel.engine.phase = .sendingHead(offset: offset)
            return
        }
        tunnel.engine.phase = .readingAnswer(UpgradeAnswerReader(expectedSwitch: tunnel.request.expectedSwitch))
        readAnswer(tunnel)
    }

    private func readAnswer(_ tunnel: CurlTunnel) {
        guard let easy = tunnel.engine.easy, case .readingAnswer(var reader) = tunnel.engine.phase else { return }
        while true {
            var received = 0
            let code = curl_easy_recv(easy, scratch.baseAddress, Self.answerReadSize, &received)
            if code == CURLE_AGAIN {
                tunnel.engine.phase = .readingAnswer(reader)
                return
            }
            guard code == CURLE_OK else {
                return end(
                    tunnel, .failed(.brokenResponse("reading the upgrade answer: \(Self.message(tunnel, code))")))
            }
            let step =
                received == 0 ? reader.finish() : reader.feed(UnsafeRawBufferPointer(rebasing: scratch[..<received]))
            switch step {
            case .needMore:
                continue
            case .invalid(let reason):
                return end(tunnel, .failed(.brokenResponse(reason)))
            case .refused(let head, let body):
                report(tunnel, .refused(head, body: ByteBuffer(bytes: body)))
                return end(tunnel, nil)
            case .switched(let head, let leftover):
                tunnel.engine.phase = .open
                tunnel.engine.lastActivity = Self.monotonicMilliseconds()
                report(tunnel, .switched(head))
                if !leftover.isEmpty { deliver(tunnel, ByteBuffer(bytes: leftover)) }
                tunnel.engine.mayRead = true
                return relay(tunnel)
            }
        }
    }

    /// Sends what the client queued, reads what the upstream sent (within the per-pass budget and the limit on
    /// bytes in flight to the client), and ends the tunnel when either side is done.
    private func relay(_ tunnel: CurlTunnel) {
        guard let easy = tunnel.engine.easy else { return }
        if !flushOutbound(tunnel, easy) { return }
        if tunnel.withShared({ $0.sendingFinished && $0.outbound.isEmpty }) {
            return end(tunnel, .clientClosed)
        }
        guard tunnel.engine.mayRead, tunnel.engine.budgetHeldSince == 0 else { return }
        var budget = Self.readBudget
        while budget > 0 {
            if tunnel.withShared({ $0.receiveBlocked }) { return }
            guard tunnel.budget.hasRoom(below: tunnel.request.totalBufferLimit) else {
                // All tunnels together hold their limit: this upstream waits until some of it has been passed on.
                tunnel.engine.budgetHeldSince = Self.monotonicMilliseconds()
                tunnel.budget.awaitRoom()
                return
            }
            var received = 0
            let code = curl_easy_recv(easy, scratch.baseAddress, scratch.count, &received)
            if code == CURLE_AGAIN {
                tunnel.engine.mayRead = false
                return
            }
            guard code == CURLE_OK else {
                return end(tunnel, .failed(.brokenResponse(Self.message(tunnel, code))))
            }
            if received == 0 { return end(tunnel, .upstreamClosed) }
            tunnel.engine.lastActivity = Self.monotonicMilliseconds()
            deliver(tunnel, ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: scratch[..<received])))
            budget -= received
            if received < scratch.count && !tunnel.engine.isTLS {
                // A short read of a plain socket emptied it: the poll says when more comes, and the read that would
                // only answer EAGAIN (a system call per message) is saved. TLS may hold a further record.
                tunnel.engine.mayRead = false
                return
            }
        }
    }

    private func deliver(_ tunnel: CurlTunnel, _ buffer: ByteBuffer) {
        tunnel.holdReceived(buffer.readableBytes, now: Self.monotonicMilliseconds())
        report(tunnel, .data(buffer))
    }

    /// Returns false if the tunnel ended.
    private func flushOutbound(_ tunnel: CurlTunnel, _ easy: UnsafeMutableRawPointer) -> Bool {
        while let front = tunnel.withShared({ $0.outbound.first }) {
            var sent = 0
            let code = front.withUnsafeReadableBytes { bytes in
                curl_easy_send(easy, bytes.baseAddress, bytes.count, &sent)
            }
            if code == CURLE_AGAIN {
                tunnel.engine.wantsWrite = true
                return true
            }
            guard code == CURLE_OK else {
                end(tunnel, .failed(.brokenResponse(Self.message(tunnel, code))))
                return false
            }
            tunnel.engine.lastActivity = Self.monotonicMilliseconds()
            if tunnel.sent(sent) { report(tunnel, .canSendMore) }
        }
        tunnel.engine.wantsWrite = false
        return true
    }

    // MARK: Time limits

    private func sweep(now: UInt64) {
        for tunnel in Array(live.values) {
            let engine = tunnel.engine
            switch engine.phase {
            case .sendingHead, .readingAnswer:
                if engine.answerDeadline != 0 && now >= engine.answerDeadline {
                    end(tunnel, .failed(.timedOut("the upstream did not answer the upgrade in time")))
                }
            case .open:
                let idle = UInt64(max(tunnel.request.idleTimeoutMilliseconds, 0))
                guard idle > 0 else { break }
                // Another thread may have stamped a delivery after `now` was read.
                let since = tunnel.idleSince()
                if since < now && now - since >= idle {
                    end(tunnel, .closedByGateway("idle_timeout"))
                }
            default:
                break
            }
        }
    }

    // MARK: The end

    /// Closes the upstream connection and tells the delegate how the tunnel ended (nothing after `.refused`).
    private func end(_ tunnel: CurlTunnel, _ reason: CurlTunnelEnd?) {
        if tunnel.engine.isEnded { return }
        tunnel.engine.phase = .ended
        tunnelCount.subtract(1, ordering: .relaxed)
        live.removeValue(forKey: ObjectIdentifier(tunnel))
        if let easy = tunnel.engine.easy {
            connecting.removeValue(forKey: easy)
            // Removing a connect-only handle closes its connection (libcurl's multi.c, curl_multi_remove_handle).
            _ = curl_multi_remove_handle(multi, easy)
            curl_easy_cleanup(easy)
            tunnel.engine.easy = nil
        }
        tunnel.engine.errorBuffer?.deallocate()
        tunnel.engine.errorBuffer = nil
        tunnel.markEnded()
        if let reason { report(tunnel, .closed(reason)) }
        tunnel.engine.delegate = nil
    }

    private func report(_ tunnel: CurlTunnel, _ event: CurlTunnelEvent) {
        tunnel.engine.delegate?.tunnel(tunnel, didReport: event)
    }
}
