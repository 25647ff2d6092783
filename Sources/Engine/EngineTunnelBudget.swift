import Synchronization

/// `[websocket] max_buffered` over every worker's tunnels (issue 23): the bytes all tunnels hold for slow sides
/// together, as the setting promises, not per worker. One per process (`EngineWorkerPool` hands it to each worker);
/// a worker without a pool (unit tests) has its own.
///
/// Touched only when a tunnel's held bytes change (a side took less than it was given, or took what waited): a
/// message passed straight through changes nothing here. Before each read a worker only loads the total (a plain load
/// on x86-64 and arm64), so the relay's fast path stays free of read-modify-write atomics.
///
/// A worker refused a read for want of room marks its bit in `waiting`; whoever next brings the total under the limit
/// takes the marks and wakes those workers (`EngineWorkerPool.wakeTunnels`), whose held tunnels are then read again.
/// The mark is set before the total is looked at again (both sequentially consistent), so room released between a
/// worker's refusal and its mark is never missed: either the releaser sees the mark, or the worker sees the room.
final class EngineTunnelBudget: Sendable {
    private let total = Atomic<Int>(0)
    private let waiting = Atomic<UInt64>(0)

    init() {}

    /// The bytes held over all tunnels now.
    var held: Int { total.load(ordering: .relaxed) }

    /// Whether a read may add to the held bytes: they are under `limit`.
    func hasRoom(limit: Int) -> Bool {
        total.load(ordering: .relaxed) < limit
    }

    /// The worker named by `bit` found no room: it is marked to be woken. True when room appeared meanwhile (read on;
    /// the mark stays and only costs a spurious wake).
    func markWaiting(_ bit: UInt64, limit: Int) -> Bool {
        _ = waiting.bitwiseOr(bit, ordering: .sequentiallyConsistent)
        return total.load(ordering: .sequentiallyConsistent) < limit
    }

    /// A tunnel's held bytes changed by `delta`. Returns the workers to wake (one bit each; 0: none): those marked
    /// waiting, once the total is under `limit` again.
    func change(by delta: Int, limit: Int) -> UInt64 {
        guard delta != 0 else { return 0 }
        let now = total.wrappingAdd(delta, ordering: .sequentiallyConsistent).newValue
        guard delta < 0, now < limit, waiting.load(ordering: .sequentiallyConsistent) != 0 else { return 0 }
        return waiting.exchange(0, ordering: .sequentiallyConsistent)
    }

    /// The bit that names worker `index` (workers past 64 share bits: they are woken together, harmlessly).
    static func bit(ofWorker index: Int) -> UInt64 {
        1 << UInt64(index % 64)
    }
}
