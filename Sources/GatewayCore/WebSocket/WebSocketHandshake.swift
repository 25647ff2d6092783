import Crypto
import Foundation
import NIOHTTP1

/// The client's half of a WebSocket opening handshake (RFC 6455 section 4.1) as the gateway requires it before any
/// upstream connection, and the `Sec-WebSocket-Accept` the upstream must answer with (section 4.2.2, item 5.4).
///
/// Checking both ends keeps the tunnel a WebSocket: a request that is not a real handshake never reaches the
/// upstream, and an upstream 101 that does not prove it read the key (an h2c switch, a bare 101 from a path that
/// answers anything) never becomes a raw socket behind the gateway's route and identity rules.
public struct WebSocketHandshake: Equatable, Sendable {
    /// The client's `Sec-WebSocket-Key`, as sent.
    public let key: String

    /// RFC 6455 section 1.3.
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// The handshake of `headers`, or nil unless it carries exactly one `Sec-WebSocket-Version: 13` and exactly one
    /// `Sec-WebSocket-Key` that is 16 bytes in base64 (section 4.1, items 7 and 9; section 11.3.1 and 11.3.5: neither
    /// field may appear more than once in a request).
    public init?(_ headers: HTTPHeaders) {
        let versions = headers["Sec-WebSocket-Version"]
        let keys = headers["Sec-WebSocket-Key"]
        guard versions.count == 1, versions[0].trimmingCharacters(in: .whitespaces) == "13", keys.count == 1 else {
            return nil
        }
        let key = keys[0].trimmingCharacters(in: .whitespaces)
        // 16 bytes are 24 characters with `==` padding; Foundation rejects anything outside the base64 alphabet.
        guard key.utf8.count == 24, let nonce = Data(base64Encoded: key), nonce.count == 16 else { return nil }
        self.key = key
    }

    /// base64(SHA-1(key + GUID)): the only `Sec-WebSocket-Accept` that proves the upstream read this handshake.
    public var expectedAccept: String {
        Data(Insecure.SHA1.hash(data: Data((key + Self.guid).utf8))).base64EncodedString()
    }
}
