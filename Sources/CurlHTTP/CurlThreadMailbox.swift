import CCurl
import NIOConcurrencyHelpers
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How other threads hand work to a thread that owns a libcurl multi handle (`CurlEventThread`): a locked queue plus
/// `curl_multi_wakeup`, the one multi call that is safe from any thread, and the observers the thread calls after
/// every pass of its loop.
final class CurlThreadMailbox<Command>: @unchecked Sendable {
    private let multi: UnsafeMutableRawPointer
    private let lock = NIOLock()
    /// Guarded by `lock`.
    private var pending: [Command] = []
    /// Guarded by `lock`: once set, nothing more is queued and the multi handle is never woken again.
    private var closed = false
    /// Guarded by `lock`.
    private var passObservers: [@Sendable () -> Void] = []
    /// The owning thread's `pthread_self()`, set when it starts (0 before).
    private let ownerID = CurlThreadOwner()

    init(multi: UnsafeMutableRawPointer) {
        self.multi = multi
    }

    /// Queues `command`; `isLast` (a shutdown) closes the mailbox after it. Returns false, queueing nothing, once
    /// closed. Waking under the lock keeps the wake-up from racing with `curl_multi_cleanup` after shutdown; a
    /// non-empty queue has a wake-up on its way already, and the owner checks the queue before it polls.
    @discardableResult
    func submit(_ command: Command, isLast: Bool = false) -> Bool {
        lock.withLock {
            guard !closed else { return false }
            if isLast { closed = true }
            let wasEmpty = pending.isEmpty
            pending.append(command)
            if wasEmpty && !isOwnerThread { _ = curl_multi_wakeup(multi) }
            return true
        }
    }

    func addPassObserver(_ observer: @escaping @Sendable () -> Void) {
        lock.withLock { passObservers.append(observer) }
    }

    var observers: [@Sendable () -> Void] { lock.withLock { passObservers } }

    /// Owner: moves what is queued into `batch` (empty) and returns the pass observers.
    func take(into batch: inout [Command]) -> [@Sendable () -> Void] {
        lock.withLock {
            swap(&pending, &batch)
            return passObservers
        }
    }

    /// Owner: nothing is queued, so it may sleep in `curl_multi_poll`.
    var isEmpty: Bool { lock.withLock { pending.isEmpty } }

    var isOwnerThread: Bool { ownerID.value.load(ordering: .relaxed) == UInt(pthread_self()) }

    /// Starts the owning thread running `body`; nil when the thread could not be created.
    func startThread(_ body: @escaping @Sendable () -> Void) -> pthread_t? {
        ownerID.start(body)
    }
}

/// The thread that owns a mailbox: started here, and known by its `pthread_self()` once running. Kept out of the
/// generic mailbox, where the Swift 6.3 compiler's region analysis crashes on the thread-starting closure.
final class CurlThreadOwner: Sendable {
    let value = Atomic<UInt>(0)

    func start(_ body: @escaping @Sendable () -> Void) -> pthread_t? {
        let box = Unmanaged.passRetained(
            ThreadBody { [self] in
                value.store(UInt(pthread_self()), ordering: .relaxed)
                body()
            }
        ).toOpaque()
        var tid = pthread_t()
        let result = pthread_create(
            &tid, nil,
            { argument in
                Unmanaged<ThreadBody>.fromOpaque(argument!).takeRetainedValue().run()
                return nil
            }, box)
        guard result == 0 else {
            Unmanaged<ThreadBody>.fromOpaque(box).release()
            return nil
        }
        return tid
    }

    private final class ThreadBody: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }
}
