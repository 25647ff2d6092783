import Foundation
import NIOConcurrencyHelpers
import Tokens

/// Every WebSocket tunnel of this gateway, by the token and login session it was opened with: admission against
/// `[websocket] max_tunnels` and `max_tunnels_per_user`, closing a session's tunnels when it is revoked (on this
/// instance or, through the store's revocation feed, on another), and closing all of them at the end of a shutdown's
/// drain.
public final class TunnelRegistry: Sendable {
    /// What `admit` decided.
    public enum Admission: Equatable, Sendable {
        case admitted
        /// `[websocket] max_tunnels` tunnels are open or opening.
        case full
        /// `[websocket] max_tunnels_per_user` tunnels of this openid are.
        case userFull
        /// The token or its session was revoked before the tunnel was recorded: it must not open.
        case revoked
    }

    private struct State {
        /// Admitted tunnels, opening ones included.
        var count = 0
        var tunnels: [ObjectIdentifier: any ClosableTunnel] = [:]
        /// Revocation key (`jti`, or `AccessTokenVerifier.sessionRevocationKey`) → tunnels opened under it.
        var byKey: [String: Set<ObjectIdentifier>] = [:]
        var keysOf: [ObjectIdentifier: [String]] = [:]
        /// Open tunnels per openid, and whose each tunnel is.
        var perUser: [String: Int] = [:]
        var userOf: [ObjectIdentifier: String] = [:]
        /// The lists followed, for the check at admission.
        var revocations: [RevocationList] = []
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    /// Follows `revocations`: a revoked token or session closes its tunnels at once, and one revoked before its
    /// tunnel was admitted keeps it from opening.
    public func follow(_ revocations: RevocationList) {
        state.withLockedValue { $0.revocations.append(revocations) }
        revocations.addObserver { [weak self] key in self?.revoked(key) }
    }

    /// Records a tunnel not yet opened under the caller it was authenticated as (its token's `sub`, `jti` and `sid`),
    /// within `limit` tunnels in all and `perUserLimit` for its openid, then checks its revocation keys.
    ///
    /// Recorded first, checked after: the request was authenticated a moment ago, and a logout landing since would
    /// otherwise find nothing to close and leave the tunnel outliving its session. Either the revocation is in the
    /// list by the check here, or its observer runs after the tunnel was recorded and closes it.
    public func admit(
        _ tunnel: any ClosableTunnel, openid: String?, jti: String?, sessionID: String?, limit: Int,
        perUserLimit: Int, now: Date = Date()
    ) -> Admission {
        var keys: [String] = []
        if let jti { keys.append(jti) }
        if let sid = sessionID { keys.append(AccessTokenVerifier.sessionRevocationKey(sid)) }
        let id = ObjectIdentifier(tunnel)
        let decided = state.withLockedValue { state -> (Admission, [RevocationList]) in
            guard state.count < limit else { return (.full, []) }
            if let openid {
                guard state.perUser[openid, default: 0] < perUserLimit else { return (.userFull, []) }
                state.perUser[openid, default: 0] += 1
                state.userOf[id] = openid
            }
            state.count += 1
            state.tunnels[id] = tunnel
            state.keysOf[id] = keys
            for key in keys { state.byKey[key, default: []].insert(id) }
            return (.admitted, state.revocations)
        }
        guard decided.0 == .admitted else { return decided.0 }
        for list in decided.1 where keys.contains(where: { list.isRevoked($0, now: now) }) {
            remove(tunnel)
            return .revoked
        }
        return .admitted
    }

    /// Forgets an ended tunnel and frees its place.
    public func remove(_ tunnel: any ClosableTunnel) {
        let id = ObjectIdentifier(tunnel)
        state.withLockedValue { state in
            guard state.tunnels.removeValue(forKey: id) != nil else { return }
            state.count -= 1
            if let openid = state.userOf.removeValue(forKey: id) {
                state.perUser[openid, default: 1] -= 1
                if state.perUser[openid] == 0 { state.perUser[openid] = nil }
            }
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

    /// Tunnels open or opening for `openid`.
    func count(of openid: String) -> Int { state.withLockedValue { $0.perUser[openid] ?? 0 } }
}
