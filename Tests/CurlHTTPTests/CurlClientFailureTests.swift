import Foundation
import NIOCore
import XCTest

@testable import CurlHTTP

/// Each way an upstream can fail comes back as the typed error the proxy maps to an answer.
final class CurlClientFailureTests: CurlClientTestCase {
    func testConnectionRefusedIsCouldNotConnect() throws {
        let port = try closedPort()
        let d = run(CurlRequest(url: "http://127.0.0.1:\(port)/x"))
        guard case .couldNotConnect = d.error else { return XCTFail("got \(String(describing: d.error))") }
        XCTAssertNil(d.head)
        XCTAssertEqual(d.info?.requestWasSent, false)
    }

    func testMissingUnixSocketIsCouldNotConnect() {
        let d = run(CurlRequest(url: "http://localhost/x", unixSocketPath: "/nonexistent/curlhttp.sock"))
        guard case .couldNotConnect = d.error else { return XCTFail("got \(String(describing: d.error))") }
    }

    func testServerThatNeverAnswersTimesOut() {
        let d = run(CurlRequest(url: server.baseURL + "/never", timeoutMilliseconds: 300))
        guard case .timedOut = d.error else { return XCTFail("got \(String(describing: d.error))") }
        XCTAssertEqual(d.info?.requestWasSent, true)
    }

    func testIdleLimitTimesOutAStalledResponse() {
        let d = run(
            CurlRequest(
                url: server.baseURL + "/never",
                timeoutMilliseconds: 0,
                lowSpeedLimitBytesPerSecond: 1,
                lowSpeedTimeSeconds: 1
            )
        )
        guard case .timedOut = d.error else { return XCTFail("got \(String(describing: d.error))") }
    }

    func testServerClosingMidBodyIsBrokenResponse() {
        let d = run(CurlRequest(url: server.baseURL + "/close-mid-body"))
        guard case .brokenResponse = d.error else { return XCTFail("got \(String(describing: d.error))") }
        XCTAssertEqual(d.head?.status, 200)
        XCTAssertEqual(d.bodyBytes, 1000)
    }

    func testCancelMidDownloadRemovesTheHandleAndClosesTheConnection() throws {
        let abortedBefore = try stat("aborted")
        let d = RecordingDelegate()
        d.discardBody = true
        let transfer = client.execute(
            CurlRequest(url: server.baseURL + "/endless", timeoutMilliseconds: 0), delegate: d)
        XCTAssertTrue(d.wait { $0.bodyBytes > 1_000_000 })
        XCTAssertEqual(client.activeTransferCount, 1)
        transfer.cancel()
        XCTAssertTrue(d.waitForFinish())
        XCTAssertEqual(d.error, .cancelled)
        XCTAssertEqual(d.violations, [])
        XCTAssertEqual(client.activeTransferCount, 0)
        XCTAssertTrue(try eventually { try stat("aborted") > abortedBefore }, "the server never saw the connection go")
        // The recycled handle serves the next request.
        let next = run(CurlRequest(url: server.baseURL + "/after-cancel"))
        XCTAssertEqual(next.bodyString, "/after-cancel")
    }

    func testCancelBeforeTheTransferStartsStillFinishesOnce() {
        let d = RecordingDelegate()
        let transfer = client.execute(CurlRequest(url: server.baseURL + "/never"), delegate: d)
        transfer.cancel()
        transfer.cancel()
        XCTAssertTrue(d.waitForFinish())
        XCTAssertEqual(d.error, .cancelled)
        XCTAssertEqual(d.violations, [])
    }

    func testShutdownCancelsWhatIsRunning() {
        let d = RecordingDelegate()
        _ = client.execute(CurlRequest(url: server.baseURL + "/never", timeoutMilliseconds: 0), delegate: d)
        client.shutdown()
        XCTAssertTrue(d.waitForFinish())
        XCTAssertEqual(d.error, .cancelled)
        let late = RecordingDelegate()
        _ = client.execute(CurlRequest(url: server.baseURL + "/late"), delegate: late)
        XCTAssertTrue(late.finished)
        XCTAssertEqual(late.error, .cancelled)
    }

    private func stat(_ name: String) throws -> Int {
        let d = run(CurlRequest(url: server.baseURL + "/stats"))
        let field = d.bodyString.split(separator: " ").first { $0.hasPrefix(name + "=") }
        return try XCTUnwrap(field.flatMap { Int($0.dropFirst(name.count + 1)) })
    }

    /// A loopback port with nothing listening: bound, then closed.
    private func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        XCTAssertTrue(bound)
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
