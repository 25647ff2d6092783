import GatewayCore

/// Where a worker takes the current configuration snapshot from: the service's `RuntimeHolder`.
/// Read once per request head: one atomic load of the holder's generation, and the lock and the rebuild of the
/// settings only after a reload (SIGHUP), so every request after a reload sees its routes, keys and limits.
final class EngineRuntimeSource {
    let holder: RuntimeHolder
    let accessLogger: AccessLogger?
    /// The service's metrics (refused connections; requests are counted through `accessLogger`).
    let metrics: GatewayMetrics?
    /// The worker's transfers in flight, for the pool's sum.
    let gauge = EngineWorkerGauge()
    private var seen: Int

    init(holder: RuntimeHolder, accessLogger: AccessLogger?, metrics: GatewayMetrics? = nil) {
        self.holder = holder
        self.accessLogger = accessLogger
        self.metrics = metrics
        seen = holder.generation
    }

    /// The settings of the snapshot current now.
    func settings() -> EngineSettings {
        seen = holder.generation
        return EngineSettings(runtime: holder.current, accessLogger: accessLogger)
    }

    /// Replaces `settings` when a reload happened since the last look.
    func refresh(_ settings: inout EngineSettings) {
        guard holder.generation != seen else { return }
        settings = self.settings()
    }
}
