import Synchronization

/// What one worker shows the admin `/metrics` (issue 23): its upstream transfers in flight, stored once per loop
/// pass by the worker and summed over workers at a scrape (`gateway_upstream_transfers_in_flight`).
final class EngineWorkerGauge: Sendable {
    let transfers = Atomic<Int>(0)
}
