import Foundation
import XCTest

@testable import GatewayCore

/// `[server] workers` (issue 23): the engine's worker count, one per core by default; the thread counts of the
/// two-thread design it replaced are refused by name.
final class EngineWorkersConfigTests: XCTestCase {
    let loader = ConfigLoader(environment: [:])

    private func text(_ server: String = "") -> String {
        """
        [server]
        listen = "127.0.0.1:8080"
        \(server)

        [wechat]
        [[wechat.apps]]
        appid = "wx0000000000000001"
        secret = "s"

        [tokens]
        secret = "0123456789abcdef0123456789abcdef"
        """
    }

    func testWorkersDefaultToTheCoreCountAndTakeTheConfiguredCount() throws {
        XCTAssertEqual(try loader.parse(text: text()).get().server.workers, ServerConfig().workers)
        XCTAssertGreaterThan(ServerConfig().workers, 0)
        XCTAssertEqual(try loader.parse(text: text("workers = 3")).get().server.workers, 3)
    }

    func testWorkersOutsideOneToSixtyFourAreRefusedNamingTheKey() {
        for bad in ["0", "-2", "65"] {
            guard case .failure(let error) = loader.parse(text: text("workers = \(bad)")) else {
                return XCTFail("workers = \(bad) was accepted")
            }
            XCTAssertEqual(error.issues.map(\.path), ["server.workers"], bad)
            XCTAssertTrue(error.issues[0].message.contains("between 1 and 64"), bad)
        }
    }

    func testTheOldThreadCountsAreErrorsThatNameTheKeyAndPointToWorkers() {
        let removed = [
            (text("event_loops = 2"), "server.event_loops"), (text("curl_threads = 2"), "server.curl_threads"),
            (text() + "\n[websocket]\nthreads = 1\n", "websocket.threads"),
        ]
        for (config, path) in removed {
            guard case .failure(let error) = loader.parse(text: config) else {
                XCTFail("\(path) was accepted")
                continue
            }
            XCTAssertEqual(error.issues.map(\.path), [path])
            XCTAssertTrue(error.issues[0].message.contains("use [server] workers"), error.issues[0].message)
        }
    }

    func testAChangedWorkerCountNeedsARestart() throws {
        let old = try loader.parse(text: text("workers = 2")).get()
        let new = try loader.parse(text: text("workers = 4")).get()
        let changes = RestartRequiredChanges(old: old, new: new).descriptions
        XCTAssertTrue(changes.contains { $0.contains("server.workers") }, "\(changes)")
    }
}
