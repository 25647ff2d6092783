#if canImport(Glibc)
import CEpoll
import Glibc

/// The dedicated thread an engine worker runs on (issue 23, "Workers": one thread per worker, owning its connections
/// for their whole life). A plain pthread: the worker's loop blocks in `epoll_wait`, which must never hold one of the
/// few threads Swift concurrency's cooperative pool has.
enum EngineWorkerThread {
    /// Starts `worker.run()` on a new thread; the worker is handed over and belongs to that thread from then on.
    static func start(_ worker: EngineWorker) throws(EngineError) {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(worker).toOpaque()
        let code = pthread_create(&thread, nil, body, context)
        guard code == 0 else {
            Unmanaged<EngineWorker>.fromOpaque(context).release()
            throw .system("pthread_create", code)
        }
        pthread_detach(thread)
    }

    /// The thread's name in `/proc/<pid>/task/*/comm`, `top -H` and profiles (otherwise it would inherit its creator's,
    /// a cooperative thread's `com.apple.root.default-qos`).
    static let name = "gw-engine"

    private static let body: @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? = { context in
        _ = gw_set_thread_name(EngineWorkerThread.name)
        Unmanaged<EngineWorker>.fromOpaque(context!).takeRetainedValue().run()
    }
}
#endif
