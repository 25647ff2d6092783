#if canImport(Glibc)
import Glibc

extension EngineWorker {
    /// `[server] max_connections` across every worker: a connection over the limit
    /// is accepted and closed at once, and counted (`gateway_connections_rejected_total`). The limit is the current
    /// snapshot's, so a reload changes it. False: `fd` is closed.
    func admit(_ fd: Int32) -> Bool {
        guard let pool else { return true }
        source?.refresh(&settings)
        let limit = settings.runtime?.config.server.maxConnections ?? .max
        guard pool.openConnections >= limit else { return true }
        close(fd)
        source?.metrics?.recordRejectedConnection()
        return false
    }
}
#endif
