import PostgresNIO

/// What a failure from postgres-nio means to the gateway: retry later (`.unavailable`, answered 503) or an error
/// in the statement (`.postgres`). Only the server's message and SQLSTATE are kept: never the password.
extension PostgresSessionStore {
    /// SQLSTATE classes that mean "try again later" rather than "this statement is wrong": connection
    /// exceptions (08), insufficient resources (53), operator intervention such as a shutdown or a
    /// statement timeout (57), and transaction rollbacks such as a detected deadlock (40).
    private static let transientClasses: Set<String> = ["08", "40", "53", "57"]

    static func map(_ error: any Error, operation: String) -> SessionStoreError {
        if let error = error as? SessionStoreError { return error }
        if let error = error as? PostgresTransactionError {
            // What went wrong inside the transaction says more than the wrapper; a rollback error only
            // follows one of the others.
            if let cause = error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError {
                return map(cause, operation: operation)
            }
        }
        if let error = error as? PSQLError {
            if let sqlState = error.serverInfo?[.sqlState] {
                let message = error.serverInfo?[.message] ?? "no message"
                if transientClasses.contains(String(sqlState.prefix(2))) {
                    return .unavailable(operation: operation, reason: "\(message) (\(sqlState))")
                }
                return .postgres(operation: operation, sqlState: sqlState, message: message)
            }
            let underlying = error.underlying.map { ": \(String(describing: $0))" } ?? ""
            return .unavailable(operation: operation, reason: "\(error.code)\(underlying)")
        }
        if error is CancellationError {
            return .unavailable(operation: operation, reason: "cancelled")
        }
        return .unavailable(operation: operation, reason: String(describing: error))
    }
}
