import CCurl
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An HTTP client on libcurl's multi interface: a fixed set of event threads, each driving many transfers, with
/// keep-alive connections reused across requests to the same upstream.
///
/// `execute` never blocks and costs no thread or `Task` per request: it queues the transfer for one of the threads
/// (round-robin) and returns its handle. Bodies stream in both directions with back-pressure.
public final class CurlClient: Sendable {
    private let threads: [CurlEventThread]
    private let nextThread = Atomic<Int>(0)
    private let isShutDown = Atomic<Bool>(false)

    /// Starts the event threads.
    public init(configuration: CurlClientConfiguration = .init()) throws {
        _ = Self.globalInitialisation
        var threads: [CurlEventThread] = []
        do {
            for index in 0..<max(configuration.threads, 1) {
                threads.append(try CurlEventThread(configuration: configuration, index: index))
            }
        } catch {
            for thread in threads { thread.shutdownAndJoin() }
            throw error
        }
        self.threads = threads
    }

    deinit {
        shutdown()
    }

    /// Starts a transfer; returns at once. Delegate callbacks arrive on a curl thread, never concurrently for one
    /// transfer. After `shutdown` the delegate is told `.cancelled` at once, on the calling thread.
    ///
    /// - Parameter affinity: when given, the transfer runs on thread `affinity % threads`, so that a caller
    ///   with its own threads (an event loop) can keep all of its transfers on one curl thread, warm in the
    ///   same caches; otherwise threads are taken round-robin.
    public func execute(
        _ request: CurlRequest, delegate: any CurlTransferDelegate, affinity: Int? = nil
    )
        -> CurlTransfer
    {
        let index = affinity ?? nextThread.wrappingAdd(1, ordering: .relaxed).oldValue
        let thread = threads[Int(UInt(bitPattern: index) % UInt(threads.count))]
        let transfer = CurlTransfer(request: request, delegate: delegate, eventThread: thread)
        thread.start(transfer)
        return transfer
    }

    /// Registers `observer` to run on event thread `thread % threads` at the end of every pass of its loop: after
    /// it has made the delegate callbacks of that pass (drained commands, `curl_multi_perform`, finished transfers)
    /// and before it sleeps. A delegate that hands callbacks to another thread can queue them without waking
    /// that thread and wake it once per pass here, so the head, body and end of a small response arrive together.
    /// Every delegate callback is followed by a pass end, also the one made on the calling thread after `shutdown`.
    public func addPassObserver(thread: Int, _ observer: @escaping @Sendable () -> Void) {
        threads[Int(UInt(bitPattern: thread) % UInt(threads.count))].addPassObserver(observer)
    }

    /// Transfers currently added to libcurl over all threads (their easy handles are in use).
    public var activeTransferCount: Int {
        threads.reduce(0) { $0 + $1.activeTransfers.load(ordering: .relaxed) }
    }

    /// Cancels every transfer still running (their delegates get `.cancelled`), stops and joins the threads, and
    /// closes the pooled connections. Idempotent. Must not be called from a delegate callback.
    public func shutdown() {
        guard !isShutDown.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for thread in threads { thread.shutdownAndJoin() }
    }
}

extension CurlClient {
    /// libcurl's global set-up is not thread-safe, so it runs once, before the first client starts threads. SIGPIPE
    /// is ignored because a peer closing a socket must be an error code, not the end of the process
    /// (CURLOPT_NOSIGNAL stops libcurl from managing signals itself).
    static let globalInitialisation: Void = {
        _ = curl_global_init(gw_global_default())
        _ = signal(SIGPIPE, SIG_IGN)
    }()
}
