import CurlHTTP
import NIOConcurrencyHelpers
import NIOCore

/// Carries tunnel events from a curl tunnel thread to one event loop in batches, as `UpstreamEventInbox` does for
/// transfers: queued under a lock, the loop woken at most once per pass of the curl thread, and each connection that
/// was written to flushed once per batch.
final class TunnelEventInbox: @unchecked Sendable {
    let eventLoop: any EventLoop
    /// The tunnel thread this loop's tunnels are pinned to.
    let index: Int
    private let lock = NIOLock()
    private var pending: [(TunnelSession, CurlTunnelEvent)] = []
    private var drainScheduled = false
    private var batch: [(TunnelSession, CurlTunnelEvent)] = []

    init(eventLoop: any EventLoop, index: Int, client: CurlTunnelClient) {
        self.eventLoop = eventLoop
        self.index = index
        client.addPassObserver(thread: index) { [weak self] in self?.wake() }
    }

    /// Any thread.
    func post(_ session: TunnelSession, _ event: CurlTunnelEvent) {
        lock.withLock { pending.append((session, event)) }
    }

    private func wake() {
        let schedule = lock.withLock { () -> Bool in
            if pending.isEmpty || drainScheduled { return false }
            drainScheduled = true
            return true
        }
        if schedule { eventLoop.execute { self.drain() } }
    }

    private func drain() {
        lock.withLock {
            drainScheduled = false
            swap(&pending, &batch)
        }
        var touched: [TunnelSession] = []
        for (session, event) in batch where session.deliver(event) {
            touched.append(session)
        }
        batch.removeAll(keepingCapacity: true)
        for session in touched { session.flush() }
    }
}
