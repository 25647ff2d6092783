#if canImport(Glibc)
import Glibc
import Synchronization

/// `SIGUSR1` asks a running probe for its counters (requests, `epoll_ctl` calls) on standard error, as floor.c does;
/// every worker answers with its own line.
enum EngineProbeSignals {
    /// How many reports were asked for: a worker reports when the count has moved since its last report.
    private static let reportsAsked = Atomic<Int>(0)

    static func install() {
        signal(SIGPIPE, SIG_IGN)
        signal(SIGUSR1) { _ in _ = EngineProbeSignals.reportsAsked.add(1, ordering: .relaxed) }
    }

    /// True once for each report asked for after `seen`, which it advances.
    static func takeReport(seen: inout Int) -> Bool {
        let asked = reportsAsked.load(ordering: .relaxed)
        guard asked != seen else { return false }
        seen = asked
        return true
    }
}
#endif
