import Foundation
import Tokens
import XCTest

@testable import GatewayCore

/// Admission of tunnels: the limits over all and per openid, and the revocation check made once the tunnel is
/// recorded.
final class TunnelRegistryTests: XCTestCase {
    /// A tunnel that is only counted: admission looks at identities, not at the tunnel.
    final class Counted: ClosableTunnel {
        func close(reason: String) {}
    }

    private func tunnel() -> Counted { Counted() }

    /// The claims a tunnel is admitted under, as the engine's worker passes them.
    struct Caller {
        var openid: String
        var jti: String
        var sid: String?
    }

    private func identity(_ openid: String, jti: String = UUID().uuidString, sid: String? = nil) -> Caller {
        Caller(openid: openid, jti: jti, sid: sid)
    }

    func testOneUserIsHeldToTheirLimitAndOthersAreNot() {
        let registry = TunnelRegistry()
        let alice = (0..<3).map { _ in tunnel() }
        for one in alice {
            XCTAssertEqual(registry.admit(one, identity: identity("alice"), limit: 10, perUserLimit: 3), .admitted)
        }
        XCTAssertEqual(registry.admit(tunnel(), identity: identity("alice"), limit: 10, perUserLimit: 3), .userFull)
        XCTAssertEqual(registry.admit(tunnel(), identity: identity("bob"), limit: 10, perUserLimit: 3), .admitted)
        // Anonymous tunnels (auth = "none") count only against the limit over all.
        XCTAssertEqual(registry.admit(tunnel(), identity: nil, limit: 10, perUserLimit: 3), .admitted)
        XCTAssertEqual(registry.count(of: "alice"), 3)
        registry.remove(alice[0])
        XCTAssertEqual(registry.count(of: "alice"), 2)
        XCTAssertEqual(registry.admit(tunnel(), identity: identity("alice"), limit: 10, perUserLimit: 3), .admitted)
        XCTAssertEqual(registry.admit(tunnel(), identity: identity("carol"), limit: 5, perUserLimit: 3), .full)
        XCTAssertEqual(registry.count, 5)
    }

    func testALogoutBetweenAuthenticationAndAdmissionKeepsTheTunnelFromOpening() {
        // The request was authenticated; its session is revoked before the tunnel is recorded, so the revocation's
        // observer finds nothing to close. The check after recording must catch it.
        let revocations = RevocationList()
        let registry = TunnelRegistry()
        registry.follow(revocations)
        let until = Date().addingTimeInterval(600)
        revocations.revoke(jti: AccessTokenVerifier.sessionRevocationKey("s-1"), until: until)
        revocations.revoke(jti: "jti-2", until: until)
        XCTAssertEqual(
            registry.admit(tunnel(), identity: identity("alice", sid: "s-1"), limit: 10, perUserLimit: 10), .revoked)
        XCTAssertEqual(
            registry.admit(tunnel(), identity: identity("alice", jti: "jti-2"), limit: 10, perUserLimit: 10), .revoked)
        XCTAssertEqual(registry.count, 0, "a refused tunnel takes no place")
        XCTAssertEqual(registry.count(of: "alice"), 0)
        XCTAssertEqual(
            registry.admit(tunnel(), identity: identity("alice", sid: "s-3"), limit: 10, perUserLimit: 10), .admitted)
    }
}

extension TunnelRegistry {
    fileprivate func admit(
        _ tunnel: any ClosableTunnel, identity: TunnelRegistryTests.Caller?, limit: Int, perUserLimit: Int
    ) -> Admission {
        admit(
            tunnel, openid: identity?.openid, jti: identity?.jti, sessionID: identity?.sid, limit: limit,
            perUserLimit: perUserLimit)
    }
}
