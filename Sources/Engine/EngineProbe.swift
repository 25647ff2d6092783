#if canImport(Glibc)
import CCurl
import Foundation
import GatewayCore
import Glibc
import Tokens

/// The measuring slice of issue 23, for `gateway engine-probe`: one worker on `[server] listen`, the configuration's
/// routes, the cached token check against the key ring built at load, the header rewrite, libcurl driven by
/// `curl_multi_socket_action` in the worker's `epoll` set, the answer relayed, the access log. Not for production:
/// no admin listener, control endpoints, reload or drain. TLS when `[server] tls_certificate` is set.
public enum EngineProbe {
    /// Runs `workers` workers, each on a thread of its own (never one of Swift concurrency's cooperative threads, which
    /// a loop blocked in `epoll_wait` would take from every task), until the process is killed. Each has its own
    /// `SO_REUSEPORT` listener, `epoll` set and libcurl multi handle; they share only the verifier and the log writer.
    /// One worker by default: the probe is measured against floor.c's one thread. The issue's `[server] workers`
    /// will set the count when the configuration has it.
    public static func run(config: GatewayConfiguration, workers: Int = 1) throws -> Never {
        let ring: KeyRing
        switch config.tokens.makeKeyRing() {
        case .success(let built): ring = built
        case .failure(let error): throw error
        }
        let verifier = GatewayRuntime.makeVerifier(config: config.tokens, keyRing: ring, revocations: RevocationList())
        let planner = EngineRequestPlanner(
            routes: RouteTable(config.routes), verifier: verifier,
            rewriter: HeaderRewriter(identity: config.identity, trustedProxies: []))
        var settings = EngineSettings(
            listen: config.server.listen, planner: planner, identity: config.identity, realm: config.tokens.issuer,
            maxHeaderBytes: config.server.maxHeaderBytes, log: config.log.accessLog ? LineWriter(fd: 1) : nil)
        settings.maxBodyBytes = config.server.maxBodyBytes.bytes
        settings.lingeringTime = config.server.lingeringTime
        settings.lingeringTimeout = config.server.lingeringTimeout
        settings.websocket = config.websocket
        settings.timeouts = EngineConnection.Timeouts(
            idle: EngineWorker.nanoseconds(config.server.idleTimeout),
            client: EngineWorker.nanoseconds(config.server.clientTimeout))
        EngineProbeSignals.install()
        guard curl_global_init(gw_global_default()) == CURLE_OK else { throw EngineError.curl("curl_global_init") }
        // Every worker is made here, so a listener that cannot bind fails the command before any thread starts.
        let tls = try config.server.tls.map { files throws(EngineError) in
            try EngineTLSContextBox(files, holder: nil) { FileHandle.standardError.write(Data("\($0)\n".utf8)) }
        }
        var made: [EngineWorker] = []
        for _ in 0..<max(1, workers) {
            let worker = try EngineWorker(settings: settings)
            worker.tls = tls
            made.append(worker)
        }
        for worker in made { try EngineWorkerThread.start(worker) }
        while true { pause() }
    }
}
#endif
