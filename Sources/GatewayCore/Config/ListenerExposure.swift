/// Whether clients on other machines reach the public listener, and why: the rule that keeps shipped development
/// secrets and a plain-text WeChat API off a gateway that is in real use.
///
/// A loopback `listen` is not enough to call a gateway private: with `trusted_proxies` set it is plainly behind a
/// proxy that other machines reach, and TLS on the listener is only ever configured for such clients.
public struct ListenerExposure: Sendable, Equatable {
    /// Why the listener counts as exposed, as the end of a sentence ("server.listen 0.0.0.0:443 is reachable from
    /// other machines"); nil when it is private.
    public let reason: String?

    public init(_ server: ServerConfig) {
        if !Self.isLoopback(host: server.listen.host) {
            reason = "server.listen \(server.listen) is reachable from other machines"
        } else if !server.trustedProxies.isEmpty {
            reason = "server.trusted_proxies is set (the gateway is behind a proxy that other machines reach)"
        } else if server.tls != nil {
            reason = "server.tls_certificate is set (TLS on the listener is for clients on other machines)"
        } else {
            reason = nil
        }
    }

    public var isExposed: Bool { reason != nil }

    /// 127.0.0.0/8, ::1 and the name localhost (which `ListenAddress` resolves to loopback). `0.0.0.0`, `::` and
    /// any other address or name count as reachable.
    static func isLoopback(host: String) -> Bool {
        let lowered = host.lowercased()
        if lowered == "localhost" || lowered == "::1" || lowered == "0:0:0:0:0:0:0:1" { return true }
        let octets = lowered.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}
