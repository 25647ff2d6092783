/// A JSON value as read from a JWT header or claims set: only what a claim check needs.
///
/// Nested objects are validated but not kept (no header or claim the gateway checks is an object).
enum JSONValue: Equatable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object

    var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    var number: Double? {
        if case .number(let value) = self { return value }
        return nil
    }
}
