/// One problem found in `gateway.conf`: where it is (a key path a user can find in the file, such as
/// `routes[2].upstreams[0]`, and the line when the TOML parser knows it) and what is wrong.
public struct ConfigIssue: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var line: Int?

    public init(path: String, message: String, line: Int? = nil) {
        self.path = path
        self.message = message
        self.line = line
    }

    public var description: String {
        var location = path.isEmpty ? "" : path
        if let line {
            location = location.isEmpty ? "line \(line)" : "\(location) (line \(line))"
        }
        return location.isEmpty ? message : "\(location): \(message)"
    }
}

/// The configuration could not be loaded: every issue found, not only the first, so that an operator
/// fixes the file in one pass (like `nginx -t`).
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var issues: [ConfigIssue]

    public init(file: String, issues: [ConfigIssue]) {
        self.file = file
        self.issues = issues
    }

    public var description: String {
        issues.map { "\(file): \($0)" }.joined(separator: "\n")
    }
}
