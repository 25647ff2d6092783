import CurlHTTP
import Foundation
import JSON
import NIOCore
import NIOPosix
import XCTest

@testable import WeChat
@testable import WeChatSimulator

/// The client over a real `CurlClient` against the simulator on a real loopback socket.
final class WeChatClientTests: XCTestCase {
    private let app = WeChatApp(appID: "wx0000000000000001", secret: "dev+secret/&=")
    private var simulator: WeChatSimulator!
    private var curl: CurlClient!
    private var client: WeChatClient!
    private var base = ""

    override func setUp() async throws {
        simulator = WeChatSimulator(configuration: .init(apps: [app.appID: app.secret], port: 0))
        let port = try await simulator.start()
        base = "http://127.0.0.1:\(port)"
        curl = try CurlClient()
        client = WeChatClient(apiBase: base, timeout: .seconds(5), curl: curl)
    }

    override func tearDown() async throws {
        curl.shutdown()
        await simulator.stop()
    }

    private func expect(
        _ expected: WeChatError, file: StaticString = #filePath, line: UInt = #line,
        _ body: () async throws -> Void
    ) async {
        do {
            try await body()
            XCTFail("expected \(expected)", file: file, line: line)
        } catch {
            XCTAssertEqual(error as? WeChatError, expected, file: file, line: line)
        }
    }

    private func expectUnavailable(
        containing text: String, file: StaticString = #filePath, line: UInt = #line,
        _ body: () async throws -> Void
    ) async {
        do {
            try await body()
            XCTFail("expected .unavailable", file: file, line: line)
        } catch WeChatError.unavailable(let reason) {
            XCTAssertTrue(reason.contains(text), "reason: \(reason)", file: file, line: line)
            XCTAssertFalse(reason.contains(app.secret), file: file, line: line)
        } catch {
            XCTFail("expected .unavailable, got \(error)", file: file, line: line)
        }
    }

    func testCode2SessionReturnsOpenIDAndTheSessionKeyTheSimulatorIssued() async throws {
        let result = try await client.code2Session(app: app, code: "openid:alice")
        XCTAssertEqual(result.openID, "alice")
        XCTAssertEqual(result.sessionKey, simulator.sessionKey(forOpenID: "alice"))
        XCTAssertNil(result.unionID)
    }

    func testDerivedOpenIDIsStableAndWeChatShaped() async throws {
        let result = try await client.code2Session(app: app, code: "081AbCdE2x/y=z")
        XCTAssertEqual(result.openID, SimulatorIdentity.openID(appID: app.appID, code: "081AbCdE2x/y=z"))
        XCTAssertEqual(result.openID.count, 28)
    }

    func testUnionSuffixGivesUnionIDBecausePlusIsPercentEncoded() async throws {
        let result = try await client.code2Session(app: app, code: "user7+union")
        XCTAssertEqual(result.unionID, try XCTUnwrap(SimulatorIdentity.unionID(code: "user7+union")))
    }

    func testOpenIDThatCouldNotBeAHeaderValueIsRefused() async {
        // The simulator answers "openid:<id>" with that id, so WeChat's answer carries a line break.
        for code in ["openid:alice\r\nX-Admin: 1", "openid:al ice", "openid:a\u{1}b", "openid:a\u{7F}"] {
            await expect(.malformedAnswer(reason: "jscode2session answer has a malformed openid or unionid")) {
                _ = try await self.client.code2Session(app: self.app, code: code)
            }
        }
    }

    func testCodeUsedTwiceIsCodeUsed() async throws {
        _ = try await client.code2Session(app: app, code: "twice")
        await expect(.codeUsed) { _ = try await self.client.code2Session(app: self.app, code: "twice") }
    }

    func testEachErrcodeMapsToItsCase() async {
        await expect(.invalidCode) { _ = try await self.client.code2Session(app: self.app, code: "invalid-x") }
        await expect(.systemBusy) { _ = try await self.client.code2Session(app: self.app, code: "busy-x") }
        await expect(.rateLimited) { _ = try await self.client.code2Session(app: self.app, code: "limit-x") }
        await expect(.riskyUser) { _ = try await self.client.code2Session(app: self.app, code: "blocked-x") }
        let unknownApp = WeChatApp(appID: "wxUNKNOWN", secret: app.secret)
        await expect(.invalidAppID) { _ = try await self.client.code2Session(app: unknownApp, code: "c") }
        let wrongSecret = WeChatApp(appID: app.appID, secret: "wrong")
        await expect(.invalidSecret) { _ = try await self.client.code2Session(app: wrongSecret, code: "c") }
    }

    func testBusyCodeIsNotRetried() async {
        await expect(.systemBusy) { _ = try await self.client.code2Session(app: self.app, code: "busy-once") }
        XCTAssertEqual(simulator.requestCount(path: "/sns/jscode2session"), 1)
    }

    func testUnreachableWeChatIsUnavailable() async throws {
        let closedPort = try await Self.closedPort()
        let offline = WeChatClient(apiBase: "http://127.0.0.1:\(closedPort)", timeout: .seconds(5), curl: curl)
        await expectUnavailable(containing: "connect") { _ = try await offline.code2Session(app: self.app, code: "c") }
    }

    func testHangingAnswerPastTheTimeoutIsUnavailableAndNotRetried() async {
        let impatient = WeChatClient(apiBase: base, timeout: .milliseconds(300), curl: curl)
        await expectUnavailable(containing: "timed out") {
            _ = try await impatient.code2Session(app: self.app, code: "slow:60000")
        }
        XCTAssertEqual(simulator.requestCount(path: "/sns/jscode2session"), 1)
    }

    func testNon200AnswerIsUnavailable() async {
        let wrongBase = WeChatClient(apiBase: base + "/nothing-here", timeout: .seconds(5), curl: curl)
        await expectUnavailable(containing: "HTTP 404") {
            _ = try await wrongBase.code2Session(app: self.app, code: "c")
        }
    }

    func testStableTokenIsFetchedOnceAndShared() async throws {
        let client = self.client!
        let app = self.app
        let tokens = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<10 { group.addTask { try await client.accessToken(app: app) } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        XCTAssertEqual(tokens.count, 1)
        let again = try await client.accessToken(app: app)
        XCTAssertEqual(again, tokens.first)
        XCTAssertEqual(simulator.requestCount(path: "/cgi-bin/stable_token"), 1)
    }

    func testStableTokenWithWrongSecretIsInvalidSecret() async {
        let wrong = WeChatApp(appID: app.appID, secret: "wrong")
        await expect(.invalidSecret) { _ = try await self.client.accessToken(app: wrong) }
    }

    func testPhoneNumberIsResolvedWithTheAccessToken() async throws {
        let phone = try await client.phoneNumber(app: app, code: "phone:13800001111")
        XCTAssertEqual(
            phone, PhoneNumber(phoneNumber: "+8613800001111", purePhoneNumber: "13800001111", countryCode: "86"))
        await expect(.invalidCode) { _ = try await self.client.phoneNumber(app: self.app, code: "phone:13800001111") }
        await expect(.rateLimited) { _ = try await self.client.phoneNumber(app: self.app, code: "limit-phone") }
    }

    func testRejectedAccessTokenIsRefreshedOnce() async throws {
        _ = try await client.accessToken(app: app)
        simulator.invalidateAccessTokens(appID: app.appID)
        let phone = try await client.phoneNumber(app: app, code: "phone:13900002222")
        XCTAssertEqual(phone.purePhoneNumber, "13900002222")
        XCTAssertEqual(simulator.requestCount(path: "/cgi-bin/stable_token"), 2)
    }

    func testUserDataEncryptedWithTheIssuedSessionKeyDecrypts() async throws {
        _ = try await client.code2Session(app: app, code: "openid:carol")
        // Read the key the way an operator would, through the simulator-only endpoint.
        let answer = try await curl.execute(
            CurlRequest(url: base + "/__sim/session_key?openid=carol"), maxBodyBytes: 4096)
        let json = JSONValue.parse(Data(answer.body.readableBytesView))
        let sessionKey = try XCTUnwrap(json?["session_key"]?.stringValue)
        let plaintext = #"{"nickName":"Carol","watermark":{"appid":"\#(app.appID)","timestamp":1}}"#
        let iv = Data(repeating: 7, count: 16)
        let encrypted = try SimulatorTestCrypto.encrypt(plaintext, sessionKey: sessionKey, iv: iv)
        let data = try EncryptedDataDecryptor(appID: app.appID).decrypt(
            encryptedData: encrypted, iv: iv.base64EncodedString(), sessionKey: sessionKey)
        XCTAssertEqual(data.object["nickName"], .string("Carol"))
    }

    /// A port nothing listens on: bound, then closed.
    static func closedPort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 1
        try await channel.close()
        return port
    }
}
