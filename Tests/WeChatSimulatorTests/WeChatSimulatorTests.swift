import CurlHTTP
import Foundation
import JSON
import NIOCore
import NIOPosix
import XCTest

@testable import WeChat
@testable import WeChatSimulator

/// The simulator as a server: real sockets, malformed input, shutdown with held answers.
final class WeChatSimulatorTests: XCTestCase {
    private var simulator: WeChatSimulator!
    private var curl: CurlClient!
    private var base = ""

    override func setUp() async throws {
        simulator = WeChatSimulator(configuration: .init(apps: ["wx1": "s"], port: 0))
        base = "http://127.0.0.1:\(try await simulator.start())"
        curl = try CurlClient()
    }

    override func tearDown() async throws {
        curl.shutdown()
        await simulator.stop()
    }

    private func send(_ method: String, _ path: String, body: String? = nil) async throws -> (Int, JSONValue?) {
        try await Self.send(curl: curl, url: base + path, method: method, body: body)
    }

    private static func send(
        curl: CurlClient, url: String, method: String, body: String? = nil
    ) async throws
        -> (Int, JSONValue?)
    {
        let request = CurlRequest(
            method: method, url: url, body: body.map { .bytes(ByteBuffer(string: $0)) } ?? .none)
        let response = try await curl.execute(request, maxBodyBytes: 1 << 20)
        return (response.head.status, JSONValue.parse(Data(response.body.readableBytesView)))
    }

    func testAnswersAreJSONWithWeChatShapes() async throws {
        let login = "/sns/jscode2session?appid=wx1&secret=s&js_code=a&grant_type=authorization_code"
        let (status, json) = try await send("GET", login)
        XCTAssertEqual(status, 200)
        XCTAssertEqual(json?["openid"], .string(SimulatorIdentity.openID(appID: "wx1", code: "a")))
        let (missingStatus, missing) = try await send("GET", "/no/such/path")
        XCTAssertEqual(missingStatus, 404)
        XCTAssertEqual(missing?["errcode"], .int(40066))
    }

    func testMalformedBodiesAreAnsweredNotCrashedOn() async throws {
        let (_, garbage) = try await send("POST", "/cgi-bin/stable_token", body: "\u{0}\u{1}not json")
        XCTAssertEqual(garbage?["errcode"], .int(47001))
        let (_, array) = try await send("POST", "/cgi-bin/stable_token", body: "[1,2]")
        XCTAssertEqual(array?["errcode"], .int(47001))
        let huge = String(repeating: "x", count: 100_000)
        let (tooLarge, _) = try await send("POST", "/cgi-bin/stable_token", body: huge)
        XCTAssertEqual(tooLarge, 413)
        let (status, _) = try await send("GET", "/sns/jscode2session?%zz=%&&=")
        XCTAssertEqual(status, 200)
    }

    func testGarbageBytesOnTheSocketDoNotStopTheServer() async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: simulator.port ?? 0).get()
        try await channel.writeAndFlush(ByteBuffer(string: "\u{1}\u{2} NOT HTTP\r\n\r\n\r\n")).get()
        // The server answers 400 and closes; waiting for the close is the condition, not a sleep.
        try await channel.closeFuture.get()
        let (status, _) = try await send("GET", "/__sim/session_key?openid=none")
        XCTAssertEqual(status, 404)
    }

    func testStopClosesConnectionsWaitingOnAHeldAnswer() async throws {
        let curl = self.curl!
        let url = base + "/sns/jscode2session?appid=wx1&secret=s&js_code=slow&grant_type=authorization_code"
        let held = Task { () async throws -> Int in
            try await WeChatSimulatorTests.send(curl: curl, url: url, method: "GET").0
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while simulator.requestCount(path: "/sns/jscode2session") == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))  // polling a condition, bounded by the deadline
        }
        await simulator.stop()
        do {
            _ = try await held.value
            XCTFail("a held answer must not arrive after stop")
        } catch {
            XCTAssertNotNil(error as? CurlError, "expected a transport error, got \(error)")
        }
    }
}
