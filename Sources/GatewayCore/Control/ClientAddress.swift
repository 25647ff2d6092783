import Foundation

/// The address a control request is rate-limited by.
///
/// Behind a load balancer every client arrives from the balancer's address; keying the limiter by the
/// peer would let one scripted client exhaust the bucket of everyone behind it. So when the peer is in
/// `trusted_proxies`, the client is the nearest untrusted address in `X-Forwarded-For`, read from the
/// right: the entries a trusted hop appended are facts, anything left of the first untrusted one is
/// whatever the client chose to send (the rule of nginx's `real_ip_recursive`). From an untrusted peer
/// the header is ignored, so it cannot be used to pick a fresh bucket per request.
public enum ClientAddress {
    /// - Parameters:
    ///   - peer: the connection's remote IP; nil for a Unix socket peer.
    ///   - forwardedFor: every `X-Forwarded-For` field line, in order.
    public static func resolve(peer: String?, forwardedFor: [String], trustedProxies: [IPAddressRange]) -> String {
        guard var client = peer else { return "unix" }
        func isTrusted(_ address: String) -> Bool { trustedProxies.contains { $0.contains(address) } }
        guard isTrusted(client) else { return client }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        for hop in hops.reversed() {
            // A hop that is not an address was not written by a proxy we trust; stop at the last real one.
            guard IPAddressRange.parseAddress(Substring(hop)) != nil else { break }
            client = hop
            if !isTrusted(hop) { break }
        }
        return client
    }
}
