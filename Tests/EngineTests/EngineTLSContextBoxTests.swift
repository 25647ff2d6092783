#if canImport(Glibc)
import Foundation
import Synchronization
import Tokens
import XCTest

@testable import Engine
@testable import GatewayCore

/// The engine listener's TLS context follows reloads as the NIO listener's `TLSContextBox`: a new snapshot's files
/// make a new context for new connections; files OpenSSL refuses keep the old one, and say why.
final class EngineTLSContextBoxTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("engine-tls-box-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A self-signed certificate and its key, written as `name`.
    private func issue(_ name: String) throws -> ServerConfig.TLSFiles {
        let cert = directory.appendingPathComponent("\(name).pem").path
        let key = directory.appendingPathComponent("\(name)-key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
            "/CN=\(name)", "-days", "1", "-keyout", key, "-out", cert,
        ]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        XCTAssertEqual(openssl.terminationStatus, 0)
        return ServerConfig.TLSFiles(certificate: cert, privateKey: key)
    }

    private static let routes = """
        [[wechat.apps]]
        appid = "wxA"
        secret = "s"

        [tokens]
        secret = "0123456789abcdef0123456789abcdef"

        [[routes]]
        prefix = "/a/"
        upstreams = ["http://127.0.0.1:9001"]
        auth = "none"
        """

    /// A snapshot serving `tls` (set after loading, so files only OpenSSL would refuse can be tried).
    private static func runtime(tls: ServerConfig.TLSFiles?) throws -> GatewayRuntime {
        var config = try ConfigLoader(environment: [:]).parse(text: routes).get()
        config.server.tls = tls
        let ring = try config.tokens.makeKeyRing().get()
        return GatewayRuntime(
            config: config,
            verifier: GatewayRuntime.makeVerifier(config: config.tokens, keyRing: ring, revocations: RevocationList()),
            control: nil)
    }

    func testAReloadRenewsTheContextAndBadFilesKeepTheOldOne() throws {
        let first = try issue("first")
        let holder = RuntimeHolder(try Self.runtime(tls: first))
        let reports = Mutex<[String]>([])
        let box = try EngineTLSContextBox(first, holder: holder) { line in reports.withLock { $0.append(line) } }
        let initial = box.current()
        XCTAssertTrue(box.current() === initial, "no reload, no new context")

        holder.replace(with: try Self.runtime(tls: try issue("renewed")))
        let renewed = box.current()
        XCTAssertFalse(renewed === initial)
        XCTAssertTrue(box.current() === renewed)

        let garbage = directory.appendingPathComponent("garbage.pem").path
        try "not a certificate\n".write(toFile: garbage, atomically: true, encoding: .utf8)
        holder.replace(with: try Self.runtime(tls: ServerConfig.TLSFiles(certificate: garbage, privateKey: garbage)))
        XCTAssertTrue(box.current() === renewed, "a bad file keeps the context in use")
        let said = reports.withLock { $0 }
        XCTAssertEqual(said.count, 1)
        XCTAssertTrue(said[0].contains("server.tls_certificate"), said[0])

        // Switching TLS off needs a restart: the listener keeps serving the context it has.
        holder.replace(with: try Self.runtime(tls: nil))
        XCTAssertTrue(box.current() === renewed)
    }
}
#endif
