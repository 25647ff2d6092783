import Foundation
import NIOCore
import NIOPosix
import SmallHTTP

/// The demo's stand-in for a legacy service: it answers every request with what it received (method, path,
/// headers, body size) as JSON, so `gateway demo` can show the identity headers the gateway injected.
final class EchoUpstream: Sendable {
    private let server: SmallHTTPServer

    init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        server = SmallHTTPServer(group: group, limits: .init(maxBodyBytes: 10 * 1024 * 1024)) { request in
            var headers: [String: String] = [:]
            for (name, value) in request.head.headers {
                headers[name] = headers[name].map { "\($0), \(value)" } ?? value
            }
            let object: [String: Any] = [
                "method": request.method.rawValue, "path": request.uri, "headers": headers,
                "body_bytes": request.body.readableBytes,
            ]
            var body = ByteBuffer(
                bytes: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted]))
                    ?? Data())
            body.writeString("\n")
            return SmallResponse(status: .ok, headers: [("Content-Type", "application/json")], body: body)
        }
    }

    func bind(host: String, port: Int) async throws -> any Channel {
        try await server.bind(host: host, port: port)
    }
}
