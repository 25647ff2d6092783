import Foundation
import XCTest

/// The Python upstream from Servers/testserver.py, started once per test process on free loopback ports.
/// It exits when the test process does (its stdin closes).
final class TestServer: Sendable {
    let httpPort: Int
    let httpsPort: Int
    let unixSocketPath: String
    let certificatePath: String
    private let process: Process
    private let stdin: Pipe

    static let shared: TestServer = {
        do { return try TestServer() } catch { fatalError("could not start the test server: \(error)") }
    }()

    var baseURL: String { "http://127.0.0.1:\(httpPort)" }
    var tlsBaseURL: String { "https://localhost:\(httpsPort)" }

    private init() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Servers")
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("curlhttp-tests-\(getpid())", isDirectory: true)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let cert = scratch.appendingPathComponent("cert.pem").path
        let key = scratch.appendingPathComponent("key.pem").path
        try Self.run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", cert,
            ]
        )
        let socketPath = scratch.appendingPathComponent("up.sock").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", directory.appendingPathComponent("testserver.py").path,
            "--unix", socketPath, "--cert", cert, "--key", key,
        ]
        let stdout = Pipe()
        let stdin = Pipe()
        process.standardOutput = stdout
        process.standardInput = stdin
        try process.run()
        var line = Data()
        while true {
            let byte = stdout.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte.first == UInt8(ascii: "\n") { break }
            line.append(byte)
        }
        struct Where: Decodable {
            var http: Int
            var https: Int
            var unix: String
        }
        let place = try JSONDecoder().decode(Where.self, from: line)
        self.httpPort = place.http
        self.httpsPort = place.https
        self.unixSocketPath = place.unix
        self.certificatePath = cert
        self.process = process
        self.stdin = stdin
    }

    private static func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
    }
}
