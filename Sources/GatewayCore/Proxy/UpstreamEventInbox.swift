import CurlHTTP
import NIOConcurrencyHelpers
import NIOCore

/// Carries upstream events from a curl thread to one event loop in batches.
///
/// Events are queued under a lock as they happen; the client's pass observer wakes the loop at most once
/// per pass over its transfers, and the loop delivers the whole batch, then flushes each connection it
/// wrote to once. A small response (head, body, end) therefore costs one hop and one `writev`, not three
/// (docs/performance.md).
final class UpstreamEventInbox: @unchecked Sendable {
    let eventLoop: any EventLoop
    /// The curl thread this loop's transfers are pinned to.
    let index: Int
    private let lock = NIOLock()
    private var pending: [(UpstreamExchange, any UpstreamTransfer, UpstreamEvent)] = []
    private var drainScheduled = false
    /// Loop-only: the batch being delivered (kept to reuse its storage).
    private var batch: [(UpstreamExchange, any UpstreamTransfer, UpstreamEvent)] = []

    init(eventLoop: any EventLoop, index: Int, client: any UpstreamClient) {
        self.eventLoop = eventLoop
        self.index = index
        client.addPassObserver(thread: index) { [weak self] in self?.wake() }
    }

    /// Any thread.
    func post(_ exchange: UpstreamExchange, _ transfer: any UpstreamTransfer, _ event: UpstreamEvent) {
        lock.withLock { pending.append((exchange, transfer, event)) }
    }

    private func wake() {
        let schedule = lock.withLock { () -> Bool in
            if pending.isEmpty || drainScheduled { return false }
            drainScheduled = true
            return true
        }
        if schedule {
            eventLoop.execute { self.drain() }
        }
    }

    private func drain() {
        lock.withLock {
            drainScheduled = false
            swap(&pending, &batch)
        }
        var touched: [ProxyHandler] = []
        for (exchange, transfer, event) in batch {
            let handler = exchange.handler.value
            if handler.receive(event, for: exchange, from: transfer) {
                touched.append(handler)
            }
        }
        batch.removeAll(keepingCapacity: true)
        for handler in touched { handler.flushIfNeeded() }
    }
}
