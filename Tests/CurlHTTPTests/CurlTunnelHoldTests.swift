import CurlHTTP
import Foundation
import NIOCore
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// What the tunnels of one client hold together (`totalBufferLimit`), how a tunnel's 101 is checked
/// (`expectedSwitch`), and a tunnel held by back-pressure for as long as the idle timeout counting as idle.
final class CurlTunnelHoldTests: XCTestCase {
    typealias Recorder = CurlTunnelClientTests.Recorder
    typealias RawServer = CurlTunnelClientTests.RawServer

    private static let switched = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n"

    /// Switches, then sends as fast as the tunnel reads until the connection ends; reads what it is sent meanwhile.
    private func floodingServer(answer: String = switched) throws -> RawServer {
        try RawServer(answer: answer) { connection in
            Thread.detachNewThread {
                var sink = [UInt8](repeating: 0, count: 65536)
                while recv(connection, &sink, sink.count, 0) > 0 {}
            }
            let chunk = [UInt8](repeating: 7, count: 65536)
            while send(connection, chunk, chunk.count, Int32(MSG_NOSIGNAL)) > 0 {}
            close(connection)
        }
    }

    private func request(
        port: Int, buffer: Int, total: Int = .max, idle: Int = 0, expecting: CurlSwitchExpectation? = nil
    ) -> CurlTunnelRequest {
        CurlTunnelRequest(
            url: "http://127.0.0.1:\(port)/", head: Array("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: test\r\n\r\n".utf8),
            connectTimeoutMilliseconds: 2000, answerTimeoutMilliseconds: 5000, idleTimeoutMilliseconds: idle,
            bufferLimit: buffer, totalBufferLimit: total, expectedSwitch: expecting)
    }

    private func received(_ recorders: [Recorder]) -> Int {
        recorders.reduce(0) { sum, recorder in
            recorder.condition.lock()
            defer { recorder.condition.unlock() }
            return sum + recorder.received.count
        }
    }

    func testTunnelsTogetherHoldNoMoreThanTheirTotalLimit() throws {
        // Four upstreams flood clients that acknowledge nothing. Each tunnel alone may hold 1 MiB; together they
        // may hold 256 KiB, and one read more (64 KiB), plus what came with each 101 (one 4 KiB read), at most.
        let total = 256 * 1024
        let servers = try (0..<4).map { _ in try floodingServer() }
        let client = try CurlTunnelClient()
        let recorders = servers.map { _ in Recorder() }
        for (server, recorder) in zip(servers, recorders) {
            recorder.acknowledges = false
            _ = client.open(request(port: server.port, buffer: 1 << 20, total: total), delegate: recorder)
        }
        let deadline = Date().addingTimeInterval(20)
        while received(recorders) < total && Date() < deadline { usleep(10_000) }
        XCTAssertGreaterThanOrEqual(received(recorders), total)
        // Held still: a second later no tunnel has read past the limit.
        sleep(1)
        XCTAssertLessThanOrEqual(received(recorders), total + 64 * 1024 + 4 * 4096)
        XCTAssertEqual(client.bufferedBytes, received(recorders))
    }

    func testRoomInTheTotalLimitLetsAHeldTunnelReadAgain() throws {
        let total = 128 * 1024
        let server = try floodingServer()
        let client = try CurlTunnelClient()
        let recorder = Recorder()
        recorder.acknowledges = false
        let tunnel = client.open(request(port: server.port, buffer: 1 << 20, total: total), delegate: recorder)
        recorder.wait("the limit reached") { $0.received.count >= total }
        let held = received([recorder])
        tunnel.delivered(held)
        recorder.wait("reading again") { $0.received.count >= held + total }
        tunnel.close(reason: "test")
        recorder.wait("the close") { $0.end != nil }
        XCTAssertEqual(client.bufferedBytes, 0, "an ended tunnel gives back what it held")
    }

    func testATunnelHeldLongerThanTheIdleTimeoutIsClosedAsIdleWhileTheOtherWayIsBusy() throws {
        // The client reads nothing from a flooding upstream, but keeps sending: bytes move, yet the tunnel is held.
        let server = try floodingServer()
        let client = try CurlTunnelClient()
        let recorder = Recorder()
        recorder.acknowledges = false
        let tunnel = client.open(request(port: server.port, buffer: 64 * 1024, idle: 1000), delegate: recorder)
        recorder.wait("the 101") { $0.head != nil }
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            recorder.condition.lock()
            let ended = recorder.end != nil
            recorder.condition.unlock()
            if ended { break }
            tunnel.send(ByteBuffer(string: "ping"))
            usleep(100_000)
        }
        recorder.wait("the close") { $0.end != nil }
        XCTAssertEqual(recorder.end, .closedByGateway("idle_timeout"))
    }

    func testASlowReaderThatStillReadsIsNotIdle() throws {
        let server = try floodingServer()
        let client = try CurlTunnelClient()
        let recorder = Recorder()
        recorder.acknowledges = false
        let tunnel = client.open(request(port: server.port, buffer: 64 * 1024, idle: 1000), delegate: recorder)
        recorder.wait("the limit reached") { $0.received.count >= 64 * 1024 }
        // 4 KiB every 100 ms, for three idle timeouts: held most of the time, never idle.
        var acknowledged = 0
        for _ in 0..<30 {
            let piece = min(4096, received([recorder]) - acknowledged)
            tunnel.delivered(piece)
            acknowledged += piece
            usleep(100_000)
        }
        recorder.condition.lock()
        let end = recorder.end
        recorder.condition.unlock()
        XCTAssertNil(end, "a client that still reads was closed")
        recorder.wait("the close once it stops reading") { $0.end != nil }
        XCTAssertEqual(recorder.end, .closedByGateway("idle_timeout"))
    }

    func testA101ThatDoesNotSwitchAsExpectedIsABrokenAnswer() throws {
        let expectation = CurlSwitchExpectation(upgrade: "websocket", fields: [.init(name: "X-Proof", value: "p")])
        let answers = [
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Proof: q\r\n\r\n",
        ]
        for answer in answers {
            let server = try floodingServer(answer: answer)
            let client = try CurlTunnelClient()
            let recorder = Recorder()
            _ = client.open(request(port: server.port, buffer: 65536, expecting: expectation), delegate: recorder)
            recorder.wait("the end") { $0.end != nil }
            guard case .failed(.brokenResponse) = recorder.end else {
                return XCTFail("\(answer): \(String(describing: recorder.end))")
            }
            XCTAssertEqual(recorder.events, ["closed"], answer)
            XCTAssertTrue(recorder.received.isEmpty, answer)
        }
    }
}
