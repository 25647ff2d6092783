import CurlHTTP
import NIOConcurrencyHelpers
import NIOCore

/// Carries libcurl's callbacks from the curl threads to one event loop in batches.
///
/// A response is a head, body parts and an end, each a callback on a curl thread; hopping to the event
/// loop once per callback would cost an `execute` (a lock and often an eventfd wake-up) each. Instead the
/// events of every transfer owned by this loop are queued here, and the curl thread wakes the loop once at
/// the end of each pass of its own loop (`CurlClient.addPassObserver`). One task then drains the batch and
/// flushes each connection it wrote to once. A small response's head, body and end come in one pass, so
/// they leave in one write, and its end is seen before the client can send its next request.
final class UpstreamEventInbox: @unchecked Sendable {
    enum Event {
        case head(UpstreamExchange, CurlTransfer, CurlResponseHead)
        case body(UpstreamExchange, CurlTransfer, ByteBuffer)
        case canAcceptMoreBody(UpstreamExchange, CurlTransfer)
        case finish(UpstreamExchange, CurlTransfer, CurlError?, CurlTransferInfo)
    }

    let eventLoop: any EventLoop
    /// The loop's position in the group: its transfers all go to curl thread `index % curl_threads`.
    let index: Int
    private let lock = NIOLock()
    /// Guarded by `lock`.
    private var pending: [Event] = []
    /// Guarded by `lock`: a drain task is queued on the event loop and has not taken the batch yet.
    private var drainScheduled = false
    /// Event loop only.
    private var batch: [Event] = []

    /// Registers with `curl` to be woken at the end of each pass of curl thread `index % curl_threads`, the one
    /// that runs this loop's transfers.
    init(eventLoop: any EventLoop, index: Int, curl: CurlClient) {
        self.eventLoop = eventLoop
        self.index = index
        curl.addPassObserver(thread: index) { [weak self] in self?.wake() }
    }

    /// Called on curl threads; the event is handed over at the end of the curl thread's pass.
    func post(_ event: Event) {
        lock.withLock { pending.append(event) }
    }

    /// Called on the curl thread at the end of each pass: one wake-up for whatever that pass posted.
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
        for event in batch {
            let handler: ProxyHandler
            switch event {
            case .head(let exchange, let transfer, let head):
                handler = exchange.handler.value
                handler.exchange(exchange, transfer: transfer, didReceiveHead: head)
            case .body(let exchange, let transfer, let part):
                handler = exchange.handler.value
                handler.exchange(exchange, transfer: transfer, didReceiveBodyPart: part)
            case .canAcceptMoreBody(let exchange, let transfer):
                handler = exchange.handler.value
                handler.exchangeCanAcceptMoreBody(exchange, transfer: transfer)
            case .finish(let exchange, let transfer, let error, let info):
                handler = exchange.handler.value
                handler.exchange(exchange, transfer: transfer, didFinishWith: error, info: info)
            }
            if handler.needsFlush && !handler.flushQueued {
                handler.flushQueued = true
                touched.append(handler)
            }
        }
        batch.removeAll(keepingCapacity: true)
        for handler in touched { handler.flushIfNeeded() }
    }
}
