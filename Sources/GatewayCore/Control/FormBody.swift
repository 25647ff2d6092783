import Foundation
import JSON
import NIOCore
import NIOHTTP1

/// The parameters of a token-endpoint request, from `application/x-www-form-urlencoded` (what RFC 6749
/// and RFC 7009 specify) or from a JSON object (what mini-program front ends tend to send).
public struct FormBody: Sendable, Equatable {
    public var fields: [String: String]

    public init(fields: [String: String]) {
        self.fields = fields
    }

    public subscript(_ name: String) -> String? { fields[name] }

    public enum Failure: Error, Equatable {
        case notJSONObject
        case repeatedParameter(String)
        case unsupportedContentType
        case badEncoding

        /// The `error_description` of the endpoint's `invalid_request`.
        public var description: String {
            switch self {
            case .notJSONObject: return "the body must be one JSON object, each name once"
            case .repeatedParameter(let name):
                // The name is the client's own text: echoed only when it looks like a parameter name.
                let echoable =
                    (1...40).contains(name.utf8.count)
                    && name.utf8.allSatisfy {
                        $0 == UInt8(ascii: "_") || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0 & 0xDF)
                    }
                return echoable ? "\(name) must not appear more than once" : "a parameter appears more than once"
            case .unsupportedContentType:
                return "the body must be application/json or application/x-www-form-urlencoded"
            case .badEncoding: return "the body must be UTF-8, and a form's %-escapes must decode to UTF-8"
            }
        }
    }

    /// Parses by `Content-Type`; a missing type is tried as JSON, then as a form.
    public static func parse(_ body: ByteBuffer, headers: HTTPHeaders) -> Result<FormBody, Failure> {
        let type = headers[canonicalForm: "content-type"].first?.lowercased() ?? ""
        let bytes = Array(body.readableBytesView)
        if type.hasPrefix("application/json") {
            return json(bytes)
        }
        if type.hasPrefix("application/x-www-form-urlencoded") {
            return form(bytes)
        }
        if type.isEmpty {
            if case .success(let parsed) = json(bytes) { return .success(parsed) }
            return form(bytes)
        }
        return .failure(.unsupportedContentType)
    }

    /// RFC 6749 section 3.2's "parameters must not be repeated" holds for JSON names too.
    static func json(_ bytes: [UInt8]) -> Result<FormBody, Failure> {
        if bytes.isEmpty { return .success(FormBody(fields: [:])) }
        guard let fields = JSONFields.parse(bytes) else { return .failure(.notJSONObject) }
        return .success(FormBody(fields: fields))
    }

    /// RFC 6749 section 3.2: parameters must not be repeated.
    static func form(_ bytes: [UInt8]) -> Result<FormBody, Failure> {
        guard let text = String(validating: bytes, as: UTF8.self) else { return .failure(.badEncoding) }
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            // A `%` escape that is not UTF-8 (or not an escape) would otherwise reach WeChat or the store as typed.
            guard let name = decode(parts[0]), let value = parts.count > 1 ? decode(parts[1]) : "" else {
                return .failure(.badEncoding)
            }
            if fields[name] != nil { return .failure(.repeatedParameter(name)) }
            fields[name] = value
        }
        return .success(FormBody(fields: fields))
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
