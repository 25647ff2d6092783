/// Why an admin request was refused (400), as a sentence for the answer's `error_description`.
public struct AdminRequestError: Error, Sendable, Equatable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }
}
