#if canImport(Glibc)
import CCurl
import GatewayCore
import Glibc
import Logging
import Synchronization

/// The engine serving the public listener of `serve` (issue 23): `[server] workers` workers, each on a thread of
/// its own with its own `SO_REUSEPORT` listener, `epoll` set and libcurl multi handle; the rest of the service
/// (admin listener, store, reload, drain) stays `GatewayService`'s.
public final class EngineWorkerPool: PublicEngine {
    private let connections = Atomic<Int>(0)
    private let mailboxes = Mutex<[EngineMailbox<EngineWorkerMail>]>([])
    private let gauges = Mutex<[EngineWorkerGauge]>([])
    /// `[websocket] max_buffered` counts the bytes every worker's tunnels hold together.
    let tunnelBudget = EngineTunnelBudget()

    public init() {}

    public func start(_ context: PublicEngineContext) throws -> ListenAddress {
        // A client that went away must fail a write (EPIPE), not end the process.
        signal(SIGPIPE, SIG_IGN)
        guard curl_global_init(gw_global_default()) == CURLE_OK else { throw EngineError.curl("curl_global_init") }
        let count = max(1, context.holder.current.config.server.workers)
        // Every worker is made first, so a listener that cannot bind fails the start before any thread runs.
        // One TLS context for every worker, renewed from the files of the snapshot a reload installs.
        let logger = context.logger
        let tls = try context.holder.current.config.server.tls.map { files throws(EngineError) in
            try EngineTLSContextBox(files, holder: context.holder) { logger.error("\($0)") }
        }
        var made: [EngineWorker] = []
        var madeGauges: [EngineWorkerGauge] = []
        // Port 0 asks the system for a port once: the first worker's. The others join it, so the workers share one
        // listening port rather than each holding a port nobody was told about.
        var bound = context.holder.current.config.server.listen
        for index in 0..<count {
            let source = EngineRuntimeSource(
                holder: context.holder, accessLogger: context.accessLogger, metrics: context.metrics)
            var settings = source.settings()
            settings.listen = bound
            let worker = try EngineWorker(settings: settings)
            if bound.port == 0 { bound.port = try EngineListener.port(of: worker.listener) }
            worker.source = source
            madeGauges.append(source.gauge)
            worker.pool = self
            worker.tls = tls
            worker.tunnels.registry = context.tunnelRegistry
            worker.tunnels.metrics = context.metrics
            worker.tunnels.budget = tunnelBudget
            worker.tunnels.budgetBit = EngineTunnelBudget.bit(ofWorker: index)
            made.append(worker)
        }
        let boxes = made.map(\.mailbox)
        mailboxes.withLock { $0 = boxes }
        gauges.withLock { $0 = madeGauges }
        for worker in made { try EngineWorkerThread.start(worker) }
        return bound
    }

    public func drain() { post(.drain) }

    public var openConnections: Int { connections.load(ordering: .relaxed) }

    public var upstreamTransfersInFlight: Int {
        gauges.withLock { $0.reduce(0) { $0 + $1.transfers.load(ordering: .relaxed) } }
    }

    public func closeAll() { post(.closeAll) }

    /// Hands `mail` to every worker.
    func post(_ mail: EngineWorkerMail) {
        for mailbox in mailboxes.withLock({ $0 }) { mailbox.post(mail) }
    }

    /// Room came back in the tunnels' budget: the workers marked in `bits` look at their held tunnels again, but for
    /// the ones named by `own` (the caller's, which looks at its own at once).
    func wakeTunnels(_ bits: UInt64, except own: UInt64) {
        let boxes = mailboxes.withLock { $0 }
        for (index, mailbox) in boxes.enumerated() {
            let bit = EngineTunnelBudget.bit(ofWorker: index)
            guard bits & bit != 0, bit != own else { continue }
            _ = mailbox.post(.perform { worker in worker.tunnelBudgetRoomReturned() })
        }
    }

    func opened() { connections.add(1, ordering: .relaxed) }

    func closed() { connections.subtract(1, ordering: .relaxed) }
}
#endif
