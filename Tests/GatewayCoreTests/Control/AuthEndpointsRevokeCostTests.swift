import CurlHTTP
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import SessionStore
import Tokens
import WeChat
import XCTest

@testable import GatewayCore

/// Issue 22 item 10: a revoke writes (and notifies the fleet) only when it ends something. What each call asks of
/// the store is counted through `CountingSessionStore` around a real SQLite store.
final class AuthEndpointsRevokeCostTests: XCTestCase {
    private var directory: URL!
    private var curl: CurlClient!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("RevokeCost-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        curl = try CurlClient()
    }

    override func tearDownWithError() throws {
        curl.shutdown()
        try? FileManager.default.removeItem(at: directory)
    }

    private struct Harness {
        let endpoints: AuthEndpoints
        let store: CountingSessionStore
        let issuer: TokenIssuer
    }

    private func harness() throws -> Harness {
        let config = try ConfigLoader(environment: [:]).parse(
            text: """
                [wechat]
                api_base = "http://127.0.0.1:9"
                [[wechat.apps]]
                appid = "wx0000000000000001"
                secret = "s"
                [tokens]
                secret = "0123456789abcdef0123456789abcdef"
                [rate_limit]
                auth_per_minute = 1000000
                auth_burst = 1000000
                """
        ).get()
        let store = CountingSessionStore(
            wrapping: try SQLiteSessionStore(path: directory.appendingPathComponent("g.db").path))
        let ring = try config.tokens.makeKeyRing().get()
        let revocations = RevocationList()
        let endpoints = AuthEndpoints(
            config: config,
            wechat: WeChatClient(apiBase: config.wechat.apiBase, timeout: .seconds(1), curl: curl),
            store: store, keyRing: ring,
            verifier: GatewayRuntime.makeVerifier(config: config.tokens, keyRing: ring, revocations: revocations),
            revocations: revocations, rateLimiter: RateLimiter(requestsPerMinute: 1_000_000, burst: 1_000_000),
            phoneRateLimiter: RateLimiter(requestsPerMinute: 1, burst: 1), logger: Logger(label: "test"))
        let issuer = TokenIssuer(keyRing: ring, issuer: config.tokens.issuer, audience: config.tokens.audience)
        return Harness(endpoints: endpoints, store: store, issuer: issuer)
    }

    private func post(
        _ endpoints: AuthEndpoints, _ path: Substring, form: String = "", bearer: String? = nil
    ) async -> ControlResponse {
        var headers = HTTPHeaders([("Content-Type", "application/x-www-form-urlencoded")])
        if let bearer { headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        return await endpoints.respond(
            to: ControlRequest(
                method: .POST, path: path, query: "", headers: headers, body: ByteBuffer(string: form),
                peerAddress: "127.0.0.1", requestID: "test"))
    }

    /// A session made directly in the store: its refresh token and an access token of it.
    private func session(_ harness: Harness) async throws -> (refresh: String, access: String) {
        let refresh = "refresh-\(UUID().uuidString)"
        let record = try await harness.store.createSession(
            openid: "o-\(UUID())", unionid: nil, appid: "wx0000000000000001", sessionKey: "k",
            refreshTokenHash: RefreshTokenHash.of(refresh), refreshExpiresAt: Date().addingTimeInterval(3600),
            now: Date())
        let access = try harness.issuer.issue(
            subject: record.openid, appid: record.appid, unionid: nil, sessionID: record.familyID, ttl: 900,
            now: Date())
        return (refresh, access.token)
    }

    func testRevokingAnEndedSessionAgainCostsOneReadAndWritesNothing() async throws {
        let harness = try harness()
        let tokens = try await session(harness)
        harness.store.reset()
        let first = await post(harness.endpoints, "/auth/revoke", form: "token=\(tokens.refresh)")
        XCTAssertEqual(first.status, .ok)
        let firstCost = harness.store.counts
        print("first revoke of a refresh token: \(firstCost)")
        XCTAssertEqual(firstCost.revocationsRecorded, 1, "\(firstCost)")

        harness.store.reset()
        for _ in 0..<5 {
            let again = await post(harness.endpoints, "/auth/revoke", form: "token=\(tokens.refresh)")
            XCTAssertEqual(again.status, .ok)
        }
        let repeated = harness.store.counts
        print("5 repeated revokes of that refresh token: \(repeated)")
        XCTAssertEqual(repeated, CountingSessionStore.Counts(reads: 5, writes: 0, revocationsRecorded: 0))

        harness.store.reset()
        let byAccessToken = await post(harness.endpoints, "/auth/revoke", form: "token=\(tokens.access)")
        XCTAssertEqual(byAccessToken.status, .ok)
        let accessCost = harness.store.counts
        print("revoke of an access token of that ended session: \(accessCost)")
        XCTAssertEqual(accessCost, CountingSessionStore.Counts(), "the verifier refuses it before the store")
    }

    func testLogoutRecordsOneRevocationForTheSessionAndTheTokenPresented() async throws {
        let harness = try harness()
        let tokens = try await session(harness)
        harness.store.reset()
        let answer = await post(harness.endpoints, "/auth/logout", bearer: tokens.access)
        XCTAssertEqual(answer.status, .noContent)
        XCTAssertEqual(harness.store.counts.revocationsRecorded, 1, "\(harness.store.counts)")
        let refreshed = await post(
            harness.endpoints, "/auth/token", form: "grant_type=refresh_token&refresh_token=\(tokens.refresh)")
        XCTAssertEqual(refreshed.status, .badRequest, "the session has ended")
        harness.store.reset()
        let again = await post(harness.endpoints, "/auth/logout", bearer: tokens.access)
        XCTAssertEqual(again.status, .unauthorized)
        XCTAssertEqual(harness.store.counts, CountingSessionStore.Counts())
    }
}
