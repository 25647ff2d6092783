import Synchronization

/// Opens tunnels to upstreams through libcurl connect-only connections (WebSocket and other upgrades): a fixed set
/// of threads, each with its own multi handle, relaying bytes both ways with back-pressure.
///
/// Kept apart from `CurlClient`, whose pooled keep-alive connections would otherwise share a cache with tunnels
/// (see `CurlTunnelThread`).
public final class CurlTunnelClient: Sendable {
    private let threads: [CurlTunnelThread]
    private let nextThread = Atomic<Int>(0)
    private let isShutDown = Atomic<Bool>(false)
    private let budget = CurlTunnelBudget()

    public init(threads count: Int = 1) throws {
        _ = CurlClient.globalInitialisation
        var threads: [CurlTunnelThread] = []
        do {
            for _ in 0..<max(count, 1) { threads.append(try CurlTunnelThread()) }
        } catch {
            for thread in threads { thread.shutdownAndJoin() }
            throw error
        }
        self.threads = threads
        for thread in threads { budget.addWaker { [weak thread] in thread?.submit(.wake) } }
    }

    deinit { shutdown() }

    /// Connects, writes the request's head, and reports the upstream's answer and then the traffic to `delegate`, on
    /// the tunnel's curl thread. `affinity` pins the tunnel to thread `affinity % threads` (see `CurlClient.execute`).
    public func open(_ request: CurlTunnelRequest, delegate: any CurlTunnelDelegate, affinity: Int? = nil) -> CurlTunnel
    {
        let tunnel = makeTunnel(request, delegate: delegate, affinity: affinity)
        open(tunnel)
        return tunnel
    }

    /// A tunnel that does nothing until `open(_:)`: the caller can record it (and have it closed) before a
    /// connection is made. Closing it before then makes `open` end it at once, without connecting.
    public func makeTunnel(
        _ request: CurlTunnelRequest, delegate: any CurlTunnelDelegate, affinity: Int? = nil
    )
        -> CurlTunnel
    {
        let index = affinity ?? nextThread.wrappingAdd(1, ordering: .relaxed).oldValue
        let thread = threads[Int(UInt(bitPattern: index) % UInt(threads.count))]
        return CurlTunnel(request: request, delegate: delegate, thread: thread, budget: budget)
    }

    /// Starts a tunnel from `makeTunnel`: connects, writes the request's head, then reports as `open` above.
    public func open(_ tunnel: CurlTunnel) {
        tunnel.thread.open(tunnel)
    }

    /// Runs `observer` on thread `thread % threads` after every pass of its loop, after that pass's delegate calls
    /// (as `CurlClient.addPassObserver`), so a delegate can hand events to another thread in batches.
    public func addPassObserver(thread: Int, _ observer: @escaping @Sendable () -> Void) {
        threads[Int(UInt(bitPattern: thread) % UInt(threads.count))].addPassObserver(observer)
    }

    /// Bytes held by all tunnels together (`CurlTunnelRequest.totalBufferLimit`).
    public var bufferedBytes: Int { budget.bytes }

    /// Tunnels connecting or open, over all threads.
    public var tunnelCount: Int {
        threads.reduce(0) { $0 + $1.tunnelCount.load(ordering: .relaxed) }
    }

    /// Ends every tunnel (`.closedByGateway("shutdown")`) and stops the threads. Idempotent.
    public func shutdown() {
        guard !isShutDown.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for thread in threads { thread.shutdownAndJoin() }
    }
}
