#if canImport(Glibc)
import CCurl
import GatewayCore
import Glibc
import Logging
import Synchronization

/// The engine serving the public listener of `serve --engine` (issue 23): `[server] workers` workers, each on a
/// thread of its own with its own `SO_REUSEPORT` listener, `epoll` set and libcurl multi handle, as the probe runs
/// them; the rest of the service (admin listener, store, reload, drain) stays `GatewayService`'s.
public final class EngineWorkerPool: PublicEngine {
    private let connections = Atomic<Int>(0)
    private let mailboxes = Mutex<[EngineMailbox<EngineWorkerMail>]>([])
    private let gauges = Mutex<[EngineWorkerGauge]>([])

    public init() {}

    public func start(_ context: PublicEngineContext) throws {
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
        for _ in 0..<count {
            let source = EngineRuntimeSource(
                holder: context.holder, accessLogger: context.accessLogger, metrics: context.metrics)
            let worker = try EngineWorker(settings: source.settings())
            worker.source = source
            madeGauges.append(source.gauge)
            worker.pool = self
            worker.tls = tls
            worker.tunnels.registry = context.tunnelRegistry
            worker.tunnels.metrics = context.metrics
            made.append(worker)
        }
        let boxes = made.map(\.mailbox)
        mailboxes.withLock { $0 = boxes }
        gauges.withLock { $0 = madeGauges }
        for worker in made { try EngineWorkerThread.start(worker) }
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

    func opened() { connections.add(1, ordering: .relaxed) }

    func closed() { connections.subtract(1, ordering: .relaxed) }
}
#endif
