#if canImport(Glibc)
import CCurl
import GatewayCore
import Tokens

/// The measuring slice of issue 23, for `gateway engine-probe`: one worker on `[server] listen`, the configuration's
/// routes, the cached token check against the key ring built at load, the header rewrite, libcurl driven by
/// `curl_multi_socket_action` in the worker's `epoll` set, the answer relayed, the access log. Not for production:
/// no admin listener, TLS, control endpoints, reload or drain.
public enum EngineProbe {
    /// Runs the worker on the calling thread until the process is killed.
    public static func run(config: GatewayConfiguration) throws -> Never {
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
        EngineProbeSignals.install()
        guard curl_global_init(gw_global_default()) == CURLE_OK else { throw EngineError.curl("curl_global_init") }
        let worker = try EngineWorker(settings: settings)
        worker.run()
    }
}
#endif
