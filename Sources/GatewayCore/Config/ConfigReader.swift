/// Walks one table of `gateway.conf`. It records every key it was asked for, so that the keys nobody
/// asked for can be reported as unknown (typos must not be silently ignored), and it collects every
/// problem into a shared list instead of stopping at the first. Strings are interpolated here, once.
final class ConfigReader {
    /// Shared by all readers of one load.
    final class Issues {
        var list: [ConfigIssue] = []
    }

    let path: String
    private let table: [String: ConfigValue]
    private let issues: Issues
    private let interpolation: EnvironmentInterpolation
    private var asked: Set<String> = []

    init(path: String, table: [String: ConfigValue], issues: Issues, interpolation: EnvironmentInterpolation) {
        self.path = path
        self.table = table
        self.issues = issues
        self.interpolation = interpolation
    }

    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func report(_ key: String?, _ message: String) {
        issues.list.append(ConfigIssue(path: key.map(keyPath) ?? path, message: message))
    }

    /// Reports a problem at a full path, such as an array element's `routes[0].upstreams[1]`.
    func reportAt(_ fullPath: String, _ message: String) {
        issues.list.append(ConfigIssue(path: fullPath, message: message))
    }

    func has(_ key: String) -> Bool {
        asked.insert(key)
        return table[key] != nil
    }

    /// Reports every key of this table that no reader asked for.
    func rejectUnknownKeys() {
        for key in table.keys.sorted() where !asked.contains(key) {
            report(key, "unknown key")
        }
    }

    private func value(_ key: String) -> ConfigValue? {
        asked.insert(key)
        return table[key]
    }

    private func interpolate(_ text: String, at path: String) -> String? {
        switch interpolation.apply(to: text) {
        case .success(let value): return value
        case .failure(let failure):
            issues.list.append(ConfigIssue(path: path, message: failure.description))
            return nil
        }
    }

    private func typeMismatch(_ key: String, expected: String, found: ConfigValue) {
        report(key, "expected \(expected), found \(found.typeName)")
    }

    func string(_ key: String) -> String? {
        guard let found = value(key) else { return nil }
        guard case .string(let text) = found else {
            typeMismatch(key, expected: "a string", found: found)
            return nil
        }
        return interpolate(text, at: keyPath(key))
    }

    func requiredString(_ key: String) -> String? {
        guard has(key) else {
            report(key, "is required")
            return nil
        }
        return string(key)
    }

    func integer(_ key: String) -> Int? {
        guard let found = value(key) else { return nil }
        guard case .integer(let number) = found else {
            typeMismatch(key, expected: "an integer", found: found)
            return nil
        }
        return number
    }

    func bool(_ key: String) -> Bool? {
        guard let found = value(key) else { return nil }
        guard case .bool(let flag) = found else {
            typeMismatch(key, expected: "true or false", found: found)
            return nil
        }
        return flag
    }

    /// A number, written as an integer (`0`, `1`) or with a fraction (`0.01`).
    func number(_ key: String) -> Double? {
        guard let found = value(key) else { return nil }
        switch found {
        case .integer(let number): return Double(number)
        case .double(let number): return number
        default:
            typeMismatch(key, expected: "a number", found: found)
            return nil
        }
    }

    /// A duration string (`"30s"`); the integer 0 is accepted too, as "none".
    func duration(_ key: String) -> Duration? {
        guard let found = value(key) else { return nil }
        if case .integer(0) = found { return .zero }
        guard case .string(let raw) = found else {
            typeMismatch(key, expected: "a duration string such as \"30s\"", found: found)
            return nil
        }
        guard let text = interpolate(raw, at: keyPath(key)) else { return nil }
        guard let parsed = Duration(configText: text) else {
            report(key, "\"\(text)\" is not a duration (use a whole number with ms, s, m, h or d: \"250ms\", \"30s\")")
            return nil
        }
        return parsed
    }

    /// A size: an integer number of bytes or a string such as `"10MiB"`.
    func size(_ key: String) -> ByteSize? {
        guard let found = value(key) else { return nil }
        switch found {
        case .integer(let bytes) where bytes >= 0:
            return ByteSize(bytes: bytes)
        case .string(let raw):
            guard let text = interpolate(raw, at: keyPath(key)) else { return nil }
            guard let parsed = ByteSize(configText: text) else {
                report(key, "\"\(text)\" is not a size (use bytes or a unit: \"512KiB\", \"10MiB\", \"1GiB\")")
                return nil
            }
            return parsed
        default:
            typeMismatch(key, expected: "a size such as \"10MiB\"", found: found)
            return nil
        }
    }

    /// An array of strings; each element is interpolated and checked, with its index in the path.
    func stringArray(_ key: String) -> [(path: String, value: String)]? {
        guard let found = value(key) else { return nil }
        guard case .array(let elements) = found else {
            typeMismatch(key, expected: "an array of strings", found: found)
            return nil
        }
        var result: [(path: String, value: String)] = []
        for (index, element) in elements.enumerated() {
            let elementPath = "\(keyPath(key))[\(index)]"
            guard case .string(let raw) = element else {
                issues.list.append(
                    ConfigIssue(path: elementPath, message: "expected a string, found \(element.typeName)"))
                continue
            }
            if let text = interpolate(raw, at: elementPath) {
                result.append((elementPath, text))
            }
        }
        return result
    }

    /// A sub-table (`[server]`); nil when absent or not a table (the latter is reported).
    func table(_ key: String) -> ConfigReader? {
        guard let found = value(key) else { return nil }
        guard case .table(let entries) = found else {
            typeMismatch(key, expected: "a table", found: found)
            return nil
        }
        return ConfigReader(path: keyPath(key), table: entries, issues: issues, interpolation: interpolation)
    }

    /// An array of tables (`[[routes]]`), each reader's path carrying its index (`routes[2]`).
    func tableArray(_ key: String) -> [ConfigReader]? {
        guard let found = value(key) else { return nil }
        guard case .array(let elements) = found else {
            typeMismatch(key, expected: "an array of tables", found: found)
            return nil
        }
        var readers: [ConfigReader] = []
        for (index, element) in elements.enumerated() {
            let elementPath = "\(keyPath(key))[\(index)]"
            guard case .table(let entries) = element else {
                issues.list.append(
                    ConfigIssue(path: elementPath, message: "expected a table, found \(element.typeName)"))
                continue
            }
            readers.append(
                ConfigReader(path: elementPath, table: entries, issues: issues, interpolation: interpolation))
        }
        return readers
    }
}
