import Foundation
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
    }

    /// Parses by `Content-Type`; a missing type is tried as JSON, then as a form.
    public static func parse(_ body: ByteBuffer, headers: HTTPHeaders) -> Result<FormBody, Failure> {
        let type = headers[canonicalForm: "content-type"].first?.lowercased() ?? ""
        let text = String(buffer: body)
        if type.hasPrefix("application/json") {
            return json(text)
        }
        if type.hasPrefix("application/x-www-form-urlencoded") {
            return form(text)
        }
        if type.isEmpty {
            if case .success(let parsed) = json(text) { return .success(parsed) }
            return form(text)
        }
        return .failure(.unsupportedContentType)
    }

    static func json(_ text: String) -> Result<FormBody, Failure> {
        guard !text.isEmpty, let data = text.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return text.isEmpty ? .success(FormBody(fields: [:])) : .failure(.notJSONObject) }
        var fields: [String: String] = [:]
        for (key, value) in object {
            switch value {
            case let string as String: fields[key] = string
            case let number as NSNumber: fields[key] = number.stringValue
            default: continue
            }
        }
        return .success(FormBody(fields: fields))
    }

    /// RFC 6749 section 3.2: parameters must not be repeated.
    static func form(_ text: String) -> Result<FormBody, Failure> {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = decode(parts[0])
            let value = parts.count > 1 ? decode(parts[1]) : ""
            if fields[name] != nil { return .failure(.repeatedParameter(name)) }
            fields[name] = value
        }
        return .success(FormBody(fields: fields))
    }

    private static func decode(_ text: Substring) -> String {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
    }
}
