import GatewayCore

/// A worker's WebSocket tunnels (issue 23): by libcurl handle while connecting, by upstream socket once open, and the
/// one scratch buffer every relay reads into, so no tunnel has a read buffer of its own.
final class EngineTunnelTable {
    /// `serve`: the service's registry (limits across workers, revocations) and metrics; nil for a worker without a
    /// service (unit tests), whose limits are per worker.
    var registry: TunnelRegistry?
    var metrics: GatewayMetrics?
    /// Numbers the tunnels' handles, which name them in mail from other threads.
    var nextSerial: UInt64 = 0
    var bySerial: [UInt64: EngineTunnelLink] = [:]
    /// The socket libcurl is to leave open while its handle is freed (`EngineWorker.detachUpstream`); -1: none.
    var keptSocket: Int32 = -1
    var connecting: [UnsafeMutableRawPointer: EngineTunnelLink] = [:]
    var bySocket: [Int32: EngineTunnelLink] = [:]
    /// Every tunnel of the worker, connecting or open.
    var all: [ObjectIdentifier: EngineTunnelLink] = [:]
    /// Tunnels per openid (`[websocket] max_tunnels_per_user`).
    var perUser: [String: Int] = [:]
    /// Bytes held for slow sides over the tunnels (`[websocket] max_buffered`): the pool's one for all its workers,
    /// so the limit is the process's; a worker without a pool keeps its own.
    var budget = EngineTunnelBudget()
    /// This worker's mark in `budget` when it waits for room.
    var budgetBit = EngineTunnelBudget.bit(ofWorker: 0)
    /// When the idle and answer deadlines were last looked at (`CLOCK_MONOTONIC` ns).
    var lastSweep: UInt64 = 0
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)

    deinit {
        scratch.deallocate()
    }

    var isEmpty: Bool { all.isEmpty }
}
