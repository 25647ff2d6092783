#if canImport(Glibc)
import Glibc
import Synchronization

/// `SIGUSR1` asks a running probe for its counters (requests, `epoll_ctl` calls) on standard error, as floor.c does.
enum EngineProbeSignals {
    private static let reportAsked = Atomic<Bool>(false)

    static func install() {
        signal(SIGPIPE, SIG_IGN)
        signal(SIGUSR1) { _ in EngineProbeSignals.reportAsked.store(true, ordering: .relaxed) }
    }

    static func takeReport() -> Bool {
        reportAsked.load(ordering: .relaxed) && reportAsked.exchange(false, ordering: .relaxed)
    }
}
#endif
