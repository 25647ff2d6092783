import CurlHTTP
import XCTest

/// A test case with a fresh `CurlClient` per test against the shared loopback `TestServer`, and `run`, which
/// executes one request and waits for it to finish with no delegate-order violation.
class CurlClientTestCase: XCTestCase {
    var client: CurlClient!
    let server = TestServer.shared

    override func setUpWithError() throws {
        client = try CurlClient()
    }

    override func tearDown() {
        client.shutdown()
        client = nil
    }

    func run(_ request: CurlRequest, _ delegate: RecordingDelegate = RecordingDelegate()) -> RecordingDelegate {
        _ = client.execute(request, delegate: delegate)
        XCTAssertTrue(delegate.waitForFinish(), "transfer did not finish")
        XCTAssertEqual(delegate.violations, [])
        return delegate
    }
}
