import GatewayCore

extension EngineSettings {
    /// A worker's settings from one configuration snapshot: the snapshot's routes, verifier
    /// (counting failed authentications for `/metrics`) and header rules, and the service's access logger, which
    /// also feeds the proxied-request metrics of the admin `/metrics`.
    init(runtime: GatewayRuntime, accessLogger: AccessLogger?) {
        let config = runtime.config
        let planner = EngineRequestPlanner(
            routes: runtime.routes, verifier: runtime.authenticator.verifier, rewriter: runtime.rewriter,
            pools: runtime.pools, cors: runtime.cors, maxHeaderBytes: config.server.maxHeaderBytes)
        self.init(
            listen: config.server.listen, planner: planner, identity: config.identity, realm: runtime.realm,
            maxHeaderBytes: config.server.maxHeaderBytes, log: nil)
        maxBodyBytes = config.server.maxBodyBytes.bytes
        lingeringTime = config.server.lingeringTime
        lingeringTimeout = config.server.lingeringTimeout
        timeouts = EngineConnection.Timeouts(
            idle: EngineWorker.nanoseconds(config.server.idleTimeout),
            client: EngineWorker.nanoseconds(config.server.clientTimeout))
        self.accessLogger = accessLogger
        self.runtime = runtime
    }
}
