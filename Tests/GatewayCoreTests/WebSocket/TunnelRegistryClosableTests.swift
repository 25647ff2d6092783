import Foundation
import NIOConcurrencyHelpers
import Tokens
import XCTest

@testable import GatewayCore

/// The registry holds any `ClosableTunnel` (the engine's tunnels, issue 23): a revoked session closes exactly its
/// tunnels, with `revoked` as the reason.
final class TunnelRegistryClosableTests: XCTestCase {
    final class Recorder: ClosableTunnel {
        let reasons = NIOLockedValueBox<[String]>([])
        func close(reason: String) { reasons.withLockedValue { $0.append(reason) } }
    }

    func testARevokedSessionClosesItsTunnelsAndNoOthers() {
        let revocations = RevocationList()
        let registry = TunnelRegistry()
        registry.follow(revocations)
        let mine = Recorder()
        let other = Recorder()
        XCTAssertEqual(
            registry.admit(mine, openid: "alice", jti: "j-1", sessionID: "s-1", limit: 10, perUserLimit: 10),
            .admitted)
        XCTAssertEqual(
            registry.admit(other, openid: "alice", jti: "j-2", sessionID: "s-2", limit: 10, perUserLimit: 10),
            .admitted)
        revocations.revoke(jti: AccessTokenVerifier.sessionRevocationKey("s-1"), until: Date().addingTimeInterval(60))
        XCTAssertEqual(mine.reasons.withLockedValue { $0 }, ["revoked"])
        XCTAssertEqual(other.reasons.withLockedValue { $0 }, [])
        registry.remove(mine)
        registry.remove(other)
        XCTAssertEqual(registry.count, 0)
    }

    func testTheLimitsCountEveryKindOfTunnel() {
        let registry = TunnelRegistry()
        let first = Recorder()
        XCTAssertEqual(
            registry.admit(first, openid: "bob", jti: nil, sessionID: nil, limit: 1, perUserLimit: 1), .admitted)
        XCTAssertEqual(
            registry.admit(Recorder(), openid: "carol", jti: nil, sessionID: nil, limit: 1, perUserLimit: 1), .full)
        registry.remove(first)
        XCTAssertEqual(
            registry.admit(Recorder(), openid: "carol", jti: nil, sessionID: nil, limit: 1, perUserLimit: 1), .admitted)
    }
}
