import Foundation
import NIOConcurrencyHelpers
import Synchronization

/// Revoked access-token ids (`jti`), each kept until the token would have expired anyway.
///
/// Logout fills it; the verifier consults it on every request, cached or not, so a revocation takes
/// effect at once on this instance. Thread-safe; the lock is held only for one dictionary operation.
/// Expired entries are purged as the list grows and by ``purge(now:)``.
public final class RevocationList: Sendable {
    private struct State {
        var entries: [String: Date] = [:]
        /// Purge when the list reaches this size, then double it, so purging is amortised O(1).
        var purgeThreshold = 1024
        var observers: [@Sendable (String) -> Void] = []
    }

    private let state = NIOLockedValueBox(State())
    /// The entries' count, stored under the lock after every change: while it is 0 (nothing revoked, or all of it
    /// purged) `isRevoked` answers without the lock, which every worker thread otherwise takes once or twice per
    /// request with a token (its `jti`, its session). A read that sees 0 is ordered as if it took the lock before the
    /// revocation that follows; one made after `revoke` returned sees that revocation (release/acquire).
    private let entryCount = Atomic<Int>(0)

    public init() {}

    /// Revokes `jti` until `until`, which should be the token's `exp` plus the verifier's leeway
    /// (after that the token is rejected as expired without the list). A revocation that has already ended at
    /// `now` is not kept (it refuses nothing), but its observers still hear of it: an instance back from a long
    /// outage learns that way of a session ended while it was away, whose tunnels must still close.
    public func revoke(jti: String, until: Date, now: Date = Date()) {
        let observers = state.withLockedValue { state in
            guard until > now else { return state.observers }
            state.entries[jti] = max(until, state.entries[jti] ?? until)
            if state.entries.count >= state.purgeThreshold {
                state.entries = state.entries.filter { $0.value > now }
                state.purgeThreshold = max(1024, state.entries.count * 2)
            }
            entryCount.store(state.entries.count, ordering: .releasing)
            return state.observers
        }
        for observer in observers { observer(jti) }
    }

    /// Calls `observer` with every id revoked from now on (a `jti`, or a session's key), on the revoking thread and
    /// outside the list's lock: what holds a connection open for a token (a tunnel) closes it there.
    public func addObserver(_ observer: @escaping @Sendable (String) -> Void) {
        state.withLockedValue { $0.observers.append(observer) }
    }

    /// Whether `jti` is revoked at `now`.
    public func isRevoked(_ jti: String, now: Date) -> Bool {
        guard entryCount.load(ordering: .acquiring) > 0 else { return false }
        guard let until = state.withLockedValue({ $0.entries[jti] }) else { return false }
        return now < until
    }

    /// Forgets entries whose tokens have expired by `now`.
    public func purge(now: Date) {
        state.withLockedValue { state in
            state.entries = state.entries.filter { $0.value > now }
            entryCount.store(state.entries.count, ordering: .releasing)
        }
    }

    /// How many entries are held (expired ones included until purged).
    public var count: Int {
        state.withLockedValue { $0.entries.count }
    }
}
