import Foundation
import NIOConcurrencyHelpers
import NIOCore
import XCTest

@testable import CurlHTTP

/// Requests and responses against the real upstream in Servers/testserver.py.
final class CurlClientTests: CurlClientTestCase {
    func testGetDeliversStatusHeadersAndBody() {
        let d = run(CurlRequest(url: server.baseURL + "/some/path?q=1"))
        XCTAssertNil(d.error)
        XCTAssertEqual(d.head?.status, 200)
        XCTAssertEqual(d.head?.version, "1.1")
        XCTAssertEqual(d.head?.values(of: "content-length"), ["10"])
        XCTAssertEqual(d.bodyString, "/some/path")
        XCTAssertEqual(d.info?.responseBodyBytes, 10)
        XCTAssertEqual(d.info?.remoteAddress, "127.0.0.1")
        XCTAssertEqual(d.info?.requestWasSent, true)
    }

    func testRepeatedResponseHeadersStayApart() {
        let d = run(CurlRequest(url: server.baseURL + "/cookies"))
        XCTAssertEqual(d.head?.values(of: "Set-Cookie"), ["a=1", "b=2"])
    }

    func testRequestHeadersAreSentExactlyAsGivenWithoutCurlDefaults() {
        let request = CurlRequest(
            method: "POST",
            url: server.baseURL + "/head-dump",
            headers: [("X-One", "1"), ("Content-Type", "text/plain"), ("X-Empty", ""), ("X-One", "again")],
            body: .bytes(ByteBuffer(string: String(repeating: "b", count: 2_000_000)))
        )
        let d = run(request)
        let lines = d.bodyString.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        XCTAssertEqual(lines.first, "POST /head-dump HTTP/1.1")
        let names = lines.dropFirst().map { $0.components(separatedBy: ":")[0].lowercased() }
        XCTAssertEqual(Set(names), ["host", "x-one", "content-type", "x-empty", "content-length"])
        XCTAssertTrue(lines.contains("X-Empty: "))
        XCTAssertEqual(lines.filter { $0.hasPrefix("X-One") }, ["X-One: 1", "X-One: again"])
        XCTAssertFalse(names.contains("expect"))
        XCTAssertFalse(names.contains("accept"))
        XCTAssertFalse(names.contains("user-agent"))
    }

    func testPathIsSentByteForByte() {
        let d = run(CurlRequest(url: server.baseURL + "/echo/../a/./b%2F?x=%20&y"))
        XCTAssertEqual(d.head?.values(of: "X-Path"), ["/echo/../a/./b%2F?x=%20&y"])
    }

    func testBytesBodyIsSentWithContentLength() {
        let d = run(
            CurlRequest(method: "PUT", url: server.baseURL + "/echo", body: .bytes(ByteBuffer(string: "hello"))))
        XCTAssertEqual(d.head?.values(of: "X-Method"), ["PUT"])
        XCTAssertEqual(d.head?.values(of: "X-Body-Framing"), ["length"])
        XCTAssertEqual(d.bodyString, "hello")
        XCTAssertEqual(d.info?.requestBodyBytes, 5)
    }

    func testCustomMethodWithoutBody() {
        let d = run(CurlRequest(method: "PURGE", url: server.baseURL + "/echo"))
        XCTAssertEqual(d.head?.values(of: "X-Method"), ["PURGE"])
        XCTAssertEqual(d.head?.values(of: "X-Body-Framing"), ["none"])
    }

    func testHeadRequestEndsAfterHeaders() {
        let d = run(CurlRequest(method: "HEAD", url: server.baseURL + "/hello"))
        XCTAssertNil(d.error)
        XCTAssertEqual(d.head?.values(of: "Content-Length"), ["6"])
        XCTAssertEqual(d.body.readableBytes, 0)
    }

    func testChunkedUploadStreamsChunksWrittenAfterTheStart() {
        let d = RecordingDelegate()
        let transfer = client.execute(
            CurlRequest(method: "POST", url: server.baseURL + "/echo", body: .streamed(length: nil)),
            delegate: d
        )
        // Written from another thread while the transfer runs, so the read callback has to pause and resume.
        DispatchQueue.global().async {
            for i in 0..<50 {
                transfer.writeBody(ByteBuffer(string: "chunk \(i);"))
                usleep(1000)
            }
            transfer.finishBody()
        }
        XCTAssertTrue(d.waitForFinish())
        XCTAssertNil(d.error)
        XCTAssertEqual(d.head?.values(of: "X-Body-Framing"), ["chunked"])
        XCTAssertEqual(d.bodyString, (0..<50).map { "chunk \($0);" }.joined())
    }

    func testStreamedBodyWithLength() {
        let d = RecordingDelegate()
        let transfer = client.execute(
            CurlRequest(method: "POST", url: server.baseURL + "/echo", body: .streamed(length: 6)),
            delegate: d
        )
        transfer.writeBody(ByteBuffer(string: "abc"))
        transfer.writeBody(ByteBuffer(string: "def"))
        transfer.finishBody()
        XCTAssertTrue(d.waitForFinish())
        XCTAssertNil(d.error)
        XCTAssertEqual(d.head?.values(of: "X-Body-Framing"), ["length"])
        XCTAssertEqual(d.bodyString, "abcdef")
    }

    func testAbortedBodyFailsTheTransfer() {
        let d = RecordingDelegate()
        let transfer = client.execute(
            CurlRequest(method: "POST", url: server.baseURL + "/echo", body: .streamed(length: nil)),
            delegate: d
        )
        transfer.writeBody(ByteBuffer(string: "partial"))
        transfer.abortBody()
        XCTAssertTrue(d.waitForFinish())
        guard case .requestBodyFailed = d.error else { return XCTFail("got \(String(describing: d.error))") }
        XCTAssertEqual(d.violations, [])
    }

    func testBufferedExecuteReturnsTheWholeResponse() async throws {
        let response = try await client.execute(CurlRequest(url: server.baseURL + "/buffered"), maxBodyBytes: 1024)
        XCTAssertEqual(response.head.status, 200)
        XCTAssertEqual(String(buffer: response.body), "/buffered")
    }

    func testBufferedExecuteRejectsTooLargeBodies() async {
        do {
            _ = try await client.execute(
                CurlRequest(url: server.baseURL + "/download?bytes=100000"), maxBodyBytes: 1000)
            XCTFail("expected an error")
        } catch {
            guard case .brokenResponse = error else { return XCTFail("got \(error)") }
        }
    }

    func testThousandConcurrentRequestsEachGetTheirOwnAnswer() throws {
        client.shutdown()
        client = try CurlClient(configuration: .init(threads: 2, maxConnectionsPerHost: 32))
        let delegates = (0..<1000).map { _ in RecordingDelegate() }
        for (i, d) in delegates.enumerated() {
            _ = client.execute(CurlRequest(url: server.baseURL + "/distinct/\(i)"), delegate: d)
        }
        for (i, d) in delegates.enumerated() {
            XCTAssertTrue(d.waitForFinish(seconds: 60))
            XCTAssertNil(d.error)
            XCTAssertEqual(d.bodyString, "/distinct/\(i)")
            XCTAssertEqual(d.violations, [])
        }
    }

    func testKeepAliveConnectionsAreReused() throws {
        let before = try connectionsSeen()
        for i in 0..<200 {
            let d = run(CurlRequest(url: server.baseURL + "/reuse/\(i)"))
            XCTAssertEqual(d.bodyString, "/reuse/\(i)")
        }
        let after = try connectionsSeen()
        // 200 requests; one connection for them plus one for each stats probe at most.
        XCTAssertLessThanOrEqual(after - before, 3)
    }

    private func connectionsSeen() throws -> Int {
        let d = run(CurlRequest(url: server.baseURL + "/stats"))
        let field = d.bodyString.split(separator: " ").first { $0.hasPrefix("connections=") }
        return try XCTUnwrap(field.flatMap { Int($0.dropFirst("connections=".count)) })
    }

    func testUnixSocketUpstream() {
        let d = run(CurlRequest(url: "http://localhost/over-unix", unixSocketPath: server.unixSocketPath))
        XCTAssertNil(d.error)
        XCTAssertEqual(d.bodyString, "/over-unix")
    }

    func testHTTPSWithCAFile() {
        let d = run(CurlRequest(url: server.tlsBaseURL + "/secure", caFile: server.certificatePath))
        XCTAssertNil(d.error)
        XCTAssertEqual(d.bodyString, "/secure")
    }

    func testHTTPSWithUntrustedCertificateCannotConnect() {
        let d = run(CurlRequest(url: server.tlsBaseURL + "/secure"))
        guard case .couldNotConnect = d.error else { return XCTFail("got \(String(describing: d.error))") }
        XCTAssertEqual(d.info?.requestWasSent, false)
    }

    /// One event thread recycles one easy handle: options of each request must not carry over into the next, also
    /// where a plain GET reuses a handle without `curl_easy_reset`.
    func testReusedHandlesKeepNoOptionOfTheLastRequest() {
        let get = CurlRequest(url: server.baseURL + "/echo")
        func assertPlainGet(after previous: String) {
            let d = run(get)
            XCTAssertNil(d.error, "after \(previous)")
            XCTAssertEqual(d.head?.values(of: "X-Method"), ["GET"], "after \(previous)")
            XCTAssertEqual(d.head?.values(of: "X-Body-Framing"), ["none"], "after \(previous)")
            XCTAssertEqual(d.head?.values(of: "X-Path"), ["/echo"], "after \(previous)")
        }
        assertPlainGet(after: "nothing")
        assertPlainGet(after: "a GET")
        XCTAssertEqual(run(CurlRequest(method: "HEAD", url: server.baseURL + "/hello")).body.readableBytes, 0)
        assertPlainGet(after: "a HEAD")
        XCTAssertEqual(
            run(CurlRequest(method: "PUT", url: server.baseURL + "/echo", body: .bytes(ByteBuffer(string: "x"))))
                .head?.values(of: "X-Method"), ["PUT"])
        assertPlainGet(after: "a PUT with a body")
        XCTAssertEqual(
            run(CurlRequest(method: "PURGE", url: server.baseURL + "/echo")).head?.values(of: "X-Method"), ["PURGE"])
        assertPlainGet(after: "a custom method")
        XCTAssertNil(run(CurlRequest(url: "http://localhost/over-unix", unixSocketPath: server.unixSocketPath)).error)
        assertPlainGet(after: "a Unix socket request")
        XCTAssertNil(run(CurlRequest(url: server.tlsBaseURL + "/secure", caFile: server.certificatePath)).error)
        // The CA file of the last request must be gone: the test certificate is trusted by nothing else.
        let untrusted = run(CurlRequest(url: server.tlsBaseURL + "/secure"))
        guard case .couldNotConnect = untrusted.error else {
            return XCTFail("got \(String(describing: untrusted.error))")
        }
        XCTAssertNil(run(CurlRequest(url: server.tlsBaseURL + "/secure", insecureSkipVerify: true)).error)
        let verified = run(CurlRequest(url: server.tlsBaseURL + "/secure"))
        guard case .couldNotConnect = verified.error else {
            return XCTFail("got \(String(describing: verified.error))")
        }
        assertPlainGet(after: "HTTPS requests")
    }

    /// Every delegate callback is followed by the end of a pass on the same thread, so a delegate that queues
    /// callbacks for another thread and wakes it at pass ends never strands one; also after `shutdown`.
    func testPassObserversRunAfterTheCallbacks() {
        let passEnds = NIOLockedValueBox(0)
        let d = RecordingDelegate()
        let sawFinished = NIOLockedValueBox(false)
        client.addPassObserver(thread: 0) {
            passEnds.withLockedValue { $0 += 1 }
            if d.finished { sawFinished.withLockedValue { $0 = true } }
        }
        XCTAssertNil(run(CurlRequest(url: server.baseURL + "/hello"), d).error)
        XCTAssertTrue(wait(until: { sawFinished.withLockedValue { $0 } }), "a pass end after the finish callback")

        client.shutdown()
        let before = passEnds.withLockedValue { $0 }
        let late = RecordingDelegate()
        _ = client.execute(CurlRequest(url: server.baseURL + "/hello"), delegate: late)
        XCTAssertTrue(late.finished)
        XCTAssertEqual(passEnds.withLockedValue { $0 }, before + 1, "the cancellation after shutdown ends a pass too")
    }

    private func wait(until condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if condition() { return true }
            usleep(1000)
        }
        return condition()
    }
}
