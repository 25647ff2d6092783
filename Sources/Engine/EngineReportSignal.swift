#if canImport(Glibc)
import Glibc
import Synchronization

/// `SIGUSR1` asks the running gateway for its workers' counters (requests, `epoll_ctl` calls, connections, idle
/// pooled transfers) on standard error, as floor.c does: what benchmarks/cost.sh and the engine's tests read. Every
/// worker answers with its own `engine:` line the next time its loop wakes.
public enum EngineReportSignal {
    /// How many reports were asked for: a worker reports when the count has moved since its last report.
    private static let reportsAsked = Atomic<Int>(0)

    public static func install() {
        signal(SIGUSR1) { _ in _ = EngineReportSignal.reportsAsked.add(1, ordering: .relaxed) }
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
