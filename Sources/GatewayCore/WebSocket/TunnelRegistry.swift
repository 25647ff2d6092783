import CurlHTTP
import NIOConcurrencyHelpers
import Tokens

/// Every WebSocket tunnel of this gateway, by the token and login session it was opened with: admission against
/// `[websocket] max_tunnels`, closing a session's tunnels when it is revoked (on this instance or, through the
/// store's revocation feed, on another), and closing all of them at the end of a shutdown's drain.
public final class TunnelRegistry: Sendable {
    private struct State {
        /// Admitted tunnels, opening ones included.
        var count = 0
        var tunnels: [ObjectIdentifier: CurlTunnel] = [:]
        /// Revocation key (`jti`, or `AccessTokenVerifier.sessionRevocationKey`) → tunnels opened under it.
        var byKey: [String: Set<ObjectIdentifier>] = [:]
        var keysOf: [ObjectIdentifier: [String]] = [:]
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    /// Follows `revocations`: a revoked token or session closes its tunnels at once.
    public func follow(_ revocations: RevocationList) {
        revocations.addObserver { [weak self] key in self?.revoked(key) }
    }

    /// Takes a place for a new tunnel; false when `limit` tunnels are open or opening.
    func admit(limit: Int) -> Bool {
        state.withLockedValue { state in
            guard state.count < limit else { return false }
            state.count += 1
            return true
        }
    }

    /// Gives back a place taken by `admit` for a tunnel that never registered.
    func release() {
        state.withLockedValue { $0.count -= 1 }
    }

    /// Records an admitted tunnel under the identity it was authenticated with.
    func register(_ tunnel: CurlTunnel, identity: Identity?) {
        var keys: [String] = []
        if let jti = identity?.jti { keys.append(jti) }
        if let sid = identity?.sessionID { keys.append(AccessTokenVerifier.sessionRevocationKey(sid)) }
        let id = ObjectIdentifier(tunnel)
        state.withLockedValue { state in
            state.tunnels[id] = tunnel
            state.keysOf[id] = keys
            for key in keys { state.byKey[key, default: []].insert(id) }
        }
    }

    /// Forgets an ended tunnel and frees its place.
    func remove(_ tunnel: CurlTunnel) {
        let id = ObjectIdentifier(tunnel)
        state.withLockedValue { state in
            guard state.tunnels.removeValue(forKey: id) != nil else { return }
            state.count -= 1
            for key in state.keysOf.removeValue(forKey: id) ?? [] {
                state.byKey[key]?.remove(id)
                if state.byKey[key]?.isEmpty == true { state.byKey[key] = nil }
            }
        }
    }

    func revoked(_ key: String) {
        let doomed = state.withLockedValue { state in
            (state.byKey[key] ?? []).compactMap { state.tunnels[$0] }
        }
        for tunnel in doomed { tunnel.close(reason: "revoked") }
    }

    /// Closes every tunnel; each logs `reason` as its end.
    public func closeAll(reason: String) {
        for tunnel in state.withLockedValue({ Array($0.tunnels.values) }) { tunnel.close(reason: reason) }
    }

    /// Tunnels open or opening.
    public var count: Int { state.withLockedValue { $0.count } }
}
