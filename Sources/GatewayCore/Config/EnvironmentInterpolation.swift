/// Replaces `${NAME}` and `${NAME:-default}` in config strings with environment variables
/// (docs/configuration.md, "Environment variables"). An unset variable without a default is an error,
/// never an empty string, so a missing secret cannot silently become "". `$$` stands for a literal `$`.
public struct EnvironmentInterpolation: Sendable {
    public var environment: [String: String]

    public init(environment: [String: String]) {
        self.environment = environment
    }

    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case unsetVariable(String)
        case malformed(String)

        public var description: String {
            switch self {
            case .unsetVariable(let name):
                return "environment variable \(name) is not set and has no default (write ${\(name):-default})"
            case .malformed(let reason):
                return "malformed ${...} reference: \(reason)"
            }
        }
    }

    /// Returns `text` with every reference replaced.
    public func apply(to text: String) -> Result<String, Failure> {
        guard text.contains("$") else { return .success(text) }
        var output = ""
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            guard character == "$" else {
                output.append(character)
                index = text.index(after: index)
                continue
            }
            let next = text.index(after: index)
            if next < text.endIndex, text[next] == "$" {
                output.append("$")
                index = text.index(after: next)
                continue
            }
            guard next < text.endIndex, text[next] == "{" else {
                output.append("$")
                index = next
                continue
            }
            guard let close = text[next...].firstIndex(of: "}") else {
                return .failure(.malformed("missing '}' after '${'"))
            }
            let body = text[text.index(after: next)..<close]
            let name: Substring
            let fallback: Substring?
            if let separator = body.range(of: ":-") {
                name = body[..<separator.lowerBound]
                fallback = body[separator.upperBound...]
            } else {
                name = body
                fallback = nil
            }
            guard Self.isValidName(name) else {
                return .failure(.malformed("'\(name)' is not a variable name"))
            }
            if let value = environment[String(name)] {
                output += value
            } else if let fallback {
                output += fallback
            } else {
                return .failure(.unsetVariable(String(name)))
            }
            index = text.index(after: close)
        }
        return .success(output)
    }

    private static func isValidName(_ name: Substring) -> Bool {
        guard let first = name.first, first == "_" || first.isASCII && first.isLetter else { return false }
        return name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }
}
