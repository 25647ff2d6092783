import TOMLKit

/// A parsed `gateway.conf` value, detached from TOMLKit's C++-backed nodes so that it is `Sendable`
/// and can be walked (and tested) as plain data. Tables keep their keys as TOMLKit reports them.
public indirect enum ConfigValue: Sendable, Equatable {
    case table([String: ConfigValue])
    case array([ConfigValue])
    case string(String)
    case integer(Int)
    case double(Double)
    case bool(Bool)
    /// Dates and times: `gateway.conf` has no key of these types, so only the type name is kept.
    case other(String)

    /// The TOML type name used in error messages ("string", "integer", "table"...).
    public var typeName: String {
        switch self {
        case .table: return "table"
        case .array: return "array"
        case .string: return "string"
        case .integer: return "integer"
        case .double: return "floating-point number"
        case .bool: return "boolean"
        case .other(let name): return name
        }
    }

    /// Converts a TOMLKit tree into `ConfigValue`s.
    init(_ node: any TOMLValueConvertible) {
        switch node.type {
        case .table:
            var entries: [String: ConfigValue] = [:]
            if let table = node.table {
                for (key, value) in zip(table.keys, table.values) {
                    entries[key] = ConfigValue(value)
                }
            }
            self = .table(entries)
        case .array:
            self = .array(node.array.map { $0.map { ConfigValue($0) } } ?? [])
        case .string:
            self = .string(node.string ?? "")
        case .int:
            self = .integer(node.int ?? 0)
        case .double:
            self = .double(node.double ?? 0)
        case .bool:
            self = .bool(node.bool ?? false)
        default:
            self = .other(node.type.description)
        }
    }
}
