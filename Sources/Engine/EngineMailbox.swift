#if canImport(Glibc)
import CEpoll
import Glibc
import Synchronization

/// How other threads hand work to one engine worker (issue 23): a queue behind a lock, and an `eventfd` in the
/// worker's `epoll` set that wakes it. Only the post that finds the queue empty writes to the `eventfd`, so a batch
/// of posts costs one wakeup, and the worker takes the whole batch with one lock.
final class EngineMailbox<Mail: Sendable>: Sendable {
    /// The `eventfd` the worker registers as readable.
    let descriptor: Int32
    private let queue = Mutex<[Mail]>([])

    init() throws(EngineError) {
        descriptor = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard descriptor >= 0 else { throw .system("eventfd", errno) }
    }

    deinit {
        close(descriptor)
    }

    /// From any thread. Returns whether this post woke the worker (false: a wakeup was already pending).
    @discardableResult
    func post(_ mail: Mail) -> Bool {
        let first = queue.withLock { queue in
            queue.append(mail)
            return queue.count == 1
        }
        guard first else { return false }
        var one: UInt64 = 1
        // Cannot fail but by overflowing the counter, which takes 2^64 - 1 unread wakeups.
        _ = write(descriptor, &one, MemoryLayout<UInt64>.size)
        return true
    }

    /// On the worker's thread, when the `eventfd` is readable: clears it, then takes every mail posted so far, in
    /// order. Clearing first means a post racing with this either is taken now or wakes the worker again.
    func takeAll() -> [Mail] {
        var count: UInt64 = 0
        _ = read(descriptor, &count, MemoryLayout<UInt64>.size)
        return queue.withLock { queue in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
    }
}
#endif
