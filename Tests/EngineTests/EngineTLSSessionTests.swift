#if canImport(Glibc)
import COpenSSL
import Foundation
@testable import GatewayCore
import Glibc
import XCTest

@testable import Engine

/// The TLS transport of the engine's workers over a non-blocking socket pair, against an OpenSSL client on the other
/// end: the handshake driven by reads, read(2)'s contract (EAGAIN while OpenSSL waits), ALPN, bytes left inside
/// OpenSSL (`hasPending`), and what a plain-HTTP client and bad certificate files end in.
final class EngineTLSSessionTests: XCTestCase {
    private var directory: URL!
    private var files: ServerConfig.TLSFiles!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("engine-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let cert = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
            "/CN=engine-test", "-days", "1", "-keyout", key, "-out", cert,
        ]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        XCTAssertEqual(openssl.terminationStatus, 0)
        files = ServerConfig.TLSFiles(certificate: cert, privateKey: key)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A connected non-blocking pair: (server end, client end).
    private func socketPair() -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds), 0)
        return (fds[0], fds[1])
    }

    /// An OpenSSL client on `fd` offering `alpn` (wire format), not verifying (the test's own certificate).
    private func client(fd: Int32, alpn: [UInt8]) -> (OpaquePointer, OpaquePointer) {
        let context = SSL_CTX_new(TLS_client_method())!
        if !alpn.isEmpty { _ = SSL_CTX_set_alpn_protos(context, alpn, UInt32(alpn.count)) }
        let ssl = SSL_new(context)!
        SSL_set_fd(ssl, fd)
        SSL_set_connect_state(ssl)
        return (context, ssl)
    }

    /// Runs both sides until the server's read returns bytes or fails for good.
    private func pump(
        server: EngineTLSSession, client: OpaquePointer, into buffer: UnsafeMutableRawPointer, count: Int
    )
        -> Int
    {
        for _ in 0..<100 {
            _ = SSL_do_handshake(client)
            let result = server.read(buffer, count)
            if result > 0 || (result < 0 && errno != EAGAIN) || result == 0 { return result }
        }
        return -1
    }

    func testTheHandshakeRunsInReadsAndAgreesOnHTTP11AndTLS12OrLater() throws {
        let context = try EngineTLSContext(files)
        let (serverFD, clientFD) = socketPair()
        defer {
            close(serverFD)
            close(clientFD)
        }
        let session = try XCTUnwrap(context.session(fd: serverFD))
        let (clientContext, client) = client(fd: clientFD, alpn: Array("\u{2}h2\u{8}http/1.1".utf8))
        defer {
            SSL_free(client)
            SSL_CTX_free(clientContext)
        }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 1)
        defer { buffer.deallocate() }

        // Nothing from the client yet: read(2)'s EAGAIN, waiting for the socket to be readable.
        XCTAssertEqual(session.read(buffer, 64), -1)
        XCTAssertEqual(errno, EAGAIN)
        XCTAssertEqual(session.wants, .readable)

        let request = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        _ = SSL_do_handshake(client)
        _ = session.read(buffer, 64)
        _ = SSL_do_handshake(client)
        XCTAssertEqual(SSL_write(client, request, Int32(request.count)), Int32(request.count))
        let first = pump(server: session, client: client, into: buffer, count: 10)
        XCTAssertEqual(first, 10)
        XCTAssertTrue(session.established)
        // The rest of the record is decrypted and waits inside OpenSSL: no epoll event will announce it.
        XCTAssertTrue(session.hasPending)
        XCTAssertEqual(session.read(buffer + 10, 54), request.count - 10)
        XCTAssertEqual(Array(UnsafeRawBufferPointer(start: buffer, count: request.count)), request)
        XCTAssertFalse(session.hasPending)

        var selected: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(client, &selected, &length)
        XCTAssertEqual(
            String(decoding: UnsafeBufferPointer(start: selected, count: Int(length)), as: UTF8.self),
            "http/1.1")
        XCTAssertGreaterThanOrEqual(SSL_version(client), TLS1_2_VERSION)

        // The answer goes back through write(2)'s contract, and the client's close_notify reads as the end.
        let answer = Array("HTTP/1.1 204 No Content\r\n\r\n".utf8)
        XCTAssertEqual(answer.withUnsafeBytes { session.write($0.baseAddress!, answer.count) }, answer.count)
        var received = [UInt8](repeating: 0, count: 64)
        XCTAssertEqual(Int(SSL_read(client, &received, 64)), answer.count)
        _ = SSL_shutdown(client)
        XCTAssertEqual(session.read(buffer, 64), 0)
    }

    func testAClientOfferingOnlyH2GetsNoALPNAnswer() throws {
        let context = try EngineTLSContext(files)
        let (serverFD, clientFD) = socketPair()
        defer {
            close(serverFD)
            close(clientFD)
        }
        let session = try XCTUnwrap(context.session(fd: serverFD))
        let (clientContext, client) = client(fd: clientFD, alpn: Array("\u{2}h2".utf8))
        defer {
            SSL_free(client)
            SSL_CTX_free(clientContext)
        }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 1)
        defer { buffer.deallocate() }
        for _ in 0..<10 {
            _ = SSL_do_handshake(client)
            _ = session.read(buffer, 64)
        }
        XCTAssertEqual(SSL_is_init_finished(client), 1)
        var selected: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(client, &selected, &length)
        XCTAssertEqual(length, 0)
    }

    func testAPlainHTTPClientFailsTheConnectionWithoutEAGAIN() throws {
        let context = try EngineTLSContext(files)
        let (serverFD, clientFD) = socketPair()
        defer {
            close(serverFD)
            close(clientFD)
        }
        let session = try XCTUnwrap(context.session(fd: serverFD))
        let plain = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        XCTAssertEqual(Glibc.write(clientFD, plain, plain.count), plain.count)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 1)
        defer { buffer.deallocate() }
        XCTAssertEqual(session.read(buffer, 64), -1)
        XCTAssertNotEqual(errno, EAGAIN)
        XCTAssertTrue(session.failed)
        session.sendCloseNotify()  // nothing is sent on a failed connection, and nothing crashes
    }

    func testUnusableFilesAreRefusedNamingTheKey() throws {
        let garbage = directory.appendingPathComponent("garbage.pem").path
        try "not a certificate\n".write(toFile: garbage, atomically: true, encoding: .utf8)
        let cases: [(ServerConfig.TLSFiles, String)] = [
            (ServerConfig.TLSFiles(certificate: garbage, privateKey: files.privateKey), "server.tls_certificate"),
            (ServerConfig.TLSFiles(certificate: files.certificate, privateKey: garbage), "server.tls_private_key"),
            (
                ServerConfig.TLSFiles(certificate: directory.path + "/missing.pem", privateKey: files.privateKey),
                "server.tls_certificate"
            ),
        ]
        for (bad, key) in cases {
            XCTAssertThrowsError(try EngineTLSContext(bad)) { error in
                XCTAssertTrue("\(error)".contains(key), "\(error)")
            }
        }
    }

    func testTheProbesBoxKeepsOneContext() throws {
        let box = try EngineTLSContextBox(files, holder: nil) { _ in }
        XCTAssertTrue(box.current() === box.current())
    }
}
#endif
