import CurlHTTP
import Foundation
import NIOCore
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The tunnel engine against a raw loopback server: the upgrade written and answered, bytes relayed both ways, a
/// refusal read whole, and the queue towards a server that stops reading held at its limit.
final class CurlTunnelClientTests: XCTestCase {
    /// Records a tunnel's events and checks their order as they come.
    final class Recorder: CurlTunnelDelegate, @unchecked Sendable {
        let condition = NSCondition()
        var events: [String] = []
        var received: [UInt8] = []
        var end: CurlTunnelEnd?
        var head: CurlResponseHead?
        var refusal: (CurlResponseHead, ByteBuffer)?
        var canSendMore = 0
        /// Whether `.data` is acknowledged at once (`delivered`), as a client that reads everything would.
        var acknowledges = true

        func tunnel(_ tunnel: CurlTunnel, didReport event: CurlTunnelEvent) {
            condition.lock()
            defer {
                condition.broadcast()
                condition.unlock()
            }
            if end != nil || refusal != nil { events.append("event after the end") }
            switch event {
            case .switched(let head):
                self.head = head
                events.append("switched")
            case .refused(let head, let body):
                refusal = (head, body)
                events.append("refused")
            case .data(let buffer):
                received += buffer.readableBytesView
                if acknowledges { tunnel.delivered(buffer.readableBytes) }
            case .canSendMore:
                canSendMore += 1
            case .closed(let end):
                self.end = end
                events.append("closed")
            }
        }

        func wait(_ what: String, until condition: (Recorder) -> Bool) {
            let deadline = Date().addingTimeInterval(20)
            self.condition.lock()
            defer { self.condition.unlock() }
            while !condition(self) {
                guard self.condition.wait(until: deadline) else { return XCTFail("timed out waiting for \(what)") }
            }
        }
    }

    /// One connection on a loopback port: reads the request head, writes `answer`, then runs `after`.
    final class RawServer: @unchecked Sendable {
        let port: Int
        private let listener: Int32
        private(set) var requestHead = ""

        init(answer: String, after: @escaping @Sendable (Int32) -> Void) throws {
            let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            self.listener = listener
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) }
            }
            listen(listener, 4)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
            }
            port = Int(UInt16(bigEndian: address.sin_port))
            Thread.detachNewThread { [self] in
                let connection = accept(listener, nil, nil)
                var head: [UInt8] = []
                var byte: UInt8 = 0
                while !head.suffix(4).elementsEqual(Array("\r\n\r\n".utf8)), recv(connection, &byte, 1, 0) == 1 {
                    head.append(byte)
                }
                self.requestHead = String(decoding: head, as: UTF8.self)
                _ = Array(answer.utf8).withUnsafeBytes { send(connection, $0.baseAddress, $0.count, 0) }
                after(connection)
            }
        }

        deinit { close(listener) }
    }

    private func request(port: Int, buffer: Int = 64 * 1024) -> CurlTunnelRequest {
        CurlTunnelRequest(
            url: "http://127.0.0.1:\(port)/",
            head: Array("GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: test\r\n\r\n".utf8),
            connectTimeoutMilliseconds: 2000, answerTimeoutMilliseconds: 5000, idleTimeoutMilliseconds: 0,
            bufferLimit: buffer)
    }

    func testSwitchedTunnelRelaysBothWaysUntilTheUpstreamCloses() throws {
        let server = try RawServer(answer: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\n\r\nhello") {
            (connection: Int32) in
            var chunk = [UInt8](repeating: 0, count: 65536)
            var total = 0
            while total < 48 * 65536 {
                let count = recv(connection, &chunk, chunk.count, 0)
                if count <= 0 { break }
                _ = send(connection, chunk, count, 0)
                total += count
            }
            close(connection)
        }
        let client = try CurlTunnelClient()
        let recorder = Recorder()
        let tunnel = client.open(request(port: server.port), delegate: recorder)
        recorder.wait("the 101") { $0.head != nil }
        XCTAssertEqual(server.requestHead, "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: test\r\n\r\n")
        var sent: [UInt8] = Array("hello".utf8)
        for index in 0..<48 {
            let piece = [UInt8](repeating: UInt8(index), count: 65536)
            sent += piece
            // Read before sending: the room may be reported before `send` has even returned.
            recorder.condition.lock()
            let before = recorder.canSendMore
            recorder.condition.unlock()
            if !tunnel.send(ByteBuffer(bytes: piece)) {
                // Over the limit: wait until the thread has sent enough to take more.
                recorder.wait("room in the queue") { $0.canSendMore > before }
            }
        }
        recorder.wait("the echo and the close") { $0.end != nil }
        XCTAssertEqual(recorder.end, .upstreamClosed)
        XCTAssertEqual(recorder.received.count, sent.count)
        XCTAssertTrue(recorder.received == sent)
        XCTAssertEqual(recorder.events, ["switched", "closed"])
        XCTAssertEqual(client.tunnelCount, 0)
    }

    func testRefusalIsReadWholeAndEndsTheTunnel() throws {
        let server = try RawServer(
            answer: "HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nnope\r\n0\r\n\r\n"
        ) { connection in
            sleep(5)
            close(connection)
        }
        let client = try CurlTunnelClient()
        let recorder = Recorder()
        _ = client.open(request(port: server.port), delegate: recorder)
        recorder.wait("the refusal") { $0.refusal != nil }
        XCTAssertEqual(recorder.refusal?.0.status, 403)
        XCTAssertEqual(recorder.refusal.map { String(buffer: $0.1) }, "nope")
        XCTAssertEqual(recorder.events, ["refused"])
    }

    func testQueueTowardsAStalledUpstreamStaysAtItsLimit() throws {
        let server = try RawServer(answer: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\n\r\n") { connection in
            sleep(30)
            close(connection)
        }
        let client = try CurlTunnelClient()
        let recorder = Recorder()
        let tunnel = client.open(request(port: server.port, buffer: 256 * 1024), delegate: recorder)
        recorder.wait("the 101") { $0.head != nil }
        // The kernel buffers take some; after that every send is refused until the upstream reads.
        var accepted = 0
        var refusedInARow = 0
        for _ in 0..<2000 where refusedInARow < 20 {
            if tunnel.send(ByteBuffer(repeating: 1, count: 16384)) {
                accepted += 1
                refusedInARow = 0
            } else {
                refusedInARow += 1
                usleep(2000)
            }
        }
        XCTAssertEqual(refusedInARow, 20, "a stalled upstream must make the queue refuse more")
        tunnel.close(reason: "test")
        recorder.wait("the close") { $0.end != nil }
        XCTAssertEqual(recorder.end, .closedByGateway("test"))
    }

    func testRefusedConnectionIsAFailure() throws {
        let client = try CurlTunnelClient()
        let recorder = Recorder()
        _ = client.open(request(port: 1), delegate: recorder)
        recorder.wait("the failure") { $0.end != nil }
        guard case .failed(.couldNotConnect) = recorder.end else {
            return XCTFail("\(String(describing: recorder.end))")
        }
    }
}
