import NIOConcurrencyHelpers
import XCTest

@testable import WeChat

final class WeChatClientPureTests: XCTestCase {
    func testQueryValuesArePercentEncoded() {
        XCTAssertEqual(QueryString.escape("a+b c/d=é~"), "a%2Bb%20c%2Fd%3D%C3%A9~")
        XCTAssertEqual(QueryString.encode([("js_code", "x&y"), ("k", "")]), "js_code=x%26y&k=")
    }

    func testErrcodesMapToTypedCases() {
        XCTAssertEqual(WeChatError.fromAPI(errcode: 40029, errmsg: ""), .invalidCode)
        XCTAssertEqual(WeChatError.fromAPI(errcode: 40163, errmsg: ""), .codeUsed)
        XCTAssertEqual(WeChatError.fromAPI(errcode: 45011, errmsg: ""), .rateLimited)
        XCTAssertEqual(WeChatError.fromAPI(errcode: 40226, errmsg: ""), .riskyUser)
        XCTAssertEqual(WeChatError.fromAPI(errcode: 40013, errmsg: ""), .invalidAppID)
        XCTAssertEqual(WeChatError.fromAPI(errcode: 40125, errmsg: ""), .invalidSecret)
        XCTAssertEqual(WeChatError.fromAPI(errcode: -1, errmsg: ""), .systemBusy)
        XCTAssertEqual(
            WeChatError.fromAPI(errcode: 40066, errmsg: "invalid url"), .api(errcode: 40066, errmsg: "invalid url"))
    }

    func testTokenIsReleasedFiveMinutesBeforeExpiry() {
        let now = ContinuousClock.now
        typealias Policy = AccessTokenRefreshPolicy
        XCTAssertEqual(Policy.refreshAt(receivedAt: now, expiresIn: .seconds(7200)), now + .seconds(6900))
        XCTAssertEqual(Policy.refreshAt(receivedAt: now, expiresIn: .seconds(400)), now + .seconds(200))
    }

    func testCredentialsAreRedactedInDescriptions() {
        let app = WeChatApp(appID: "wx1", secret: "s3cr3t")
        XCTAssertFalse(String(describing: app).contains("s3cr3t"))
        XCTAssertFalse(String(reflecting: app).contains("s3cr3t"))
        let result = Code2SessionResult(openID: "o", sessionKey: "KEYKEY", unionID: nil)
        XCTAssertFalse(String(describing: result).contains("KEYKEY"))
        var dumped = ""
        dump(result, to: &dumped)
        XCTAssertFalse(dumped.contains("KEYKEY"))
    }

    func testCacheSharesOneInFlightFetch() async throws {
        let cache = StableAccessTokenCache()
        let fetches = NIOLockedValueBox(0)
        let values = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await cache.token(appID: "wx1") {
                        fetches.withLockedValue { $0 += 1 }
                        await Task.yield()
                        return .success(.init(value: "T", refreshAt: .now + .seconds(60)))
                    }
                }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        XCTAssertEqual(Set(values), ["T"])
        XCTAssertEqual(fetches.withLockedValue { $0 }, 1)
    }

    func testCacheFetchesAgainAfterRefreshTimeAndAfterInvalidation() async throws {
        let cache = StableAccessTokenCache()
        let counter = NIOLockedValueBox(0)
        let fetch: StableAccessTokenCache.Fetch = {
            let n = counter.withLockedValue {
                $0 += 1
                return $0
            }
            return .success(.init(value: "T\(n)", refreshAt: .now + .seconds(60)))
        }
        let first = try await cache.token(appID: "wx1", fetch: fetch)
        let again = try await cache.token(appID: "wx1", fetch: fetch)
        XCTAssertEqual(again, first)
        let later = try await cache.token(appID: "wx1", now: .now + .seconds(120), fetch: fetch)
        XCTAssertEqual(later, "T2")
        await cache.invalidate(appID: "wx1", token: "T1")  // stale invalidation keeps the newer token
        let kept = try await cache.token(appID: "wx1", fetch: fetch)
        XCTAssertEqual(kept, "T2")
        await cache.invalidate(appID: "wx1", token: "T2")
        let fresh = try await cache.token(appID: "wx1", fetch: fetch)
        XCTAssertEqual(fresh, "T3")
    }

    func testFailedFetchIsNotCached() async {
        let cache = StableAccessTokenCache()
        do {
            _ = try await cache.token(appID: "wx1") { .failure(.invalidSecret) }
            XCTFail("expected failure")
        } catch {
            XCTAssertEqual(error, .invalidSecret)
        }
        let token = try? await cache.token(appID: "wx1") { .success(.init(value: "ok", refreshAt: .now + .seconds(9))) }
        XCTAssertEqual(token, "ok")
    }
}
