import Foundation
import JSON

/// Open data that decrypted correctly and carries this app's watermark.
public struct DecryptedUserData: Sendable, Equatable {
    /// The decrypted JSON exactly as WeChat produced it.
    public let json: Data
    /// The same document, parsed.
    public let value: JSONValue

    /// The decrypted JSON text.
    public var text: String { String(decoding: json, as: UTF8.self) }

    /// The top-level members of the decrypted object.
    public var object: [String: JSONValue] { value.objectValue ?? [:] }
}
