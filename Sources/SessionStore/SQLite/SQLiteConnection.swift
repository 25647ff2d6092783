import CSQLite
import Foundation

/// One SQLite connection with a cache of prepared statements.
///
/// Not thread-safe by design: `SQLiteSessionStore` uses it from its own serial queue only.
final class SQLiteConnection {
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]

    /// Opens (creating if needed) the database at `path`; `":memory:"` opens a private in-memory database.
    init(path: String) throws(SessionStoreError) {
        if path != ":memory:" {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
            else {
                throw .directoryMissing(path: directory)
            }
        }
        var opened: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX
        let code = sqlite3_open_v2(path, &opened, flags, nil)
        guard code == SQLITE_OK, let opened else {
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_close_v2(opened)
            throw .sqlite(operation: "open", code: code, message: message)
        }
        sqlite3_extended_result_codes(opened, 1)
        handle = opened
    }

    deinit {
        close()
    }

    /// How long a statement waits for another connection's (or process's) lock before failing with
    /// SQLITE_BUSY.
    func setBusyTimeout(milliseconds: Int32) throws(SessionStoreError) {
        let code = sqlite3_busy_timeout(try open(), milliseconds)
        guard code == SQLITE_OK else {
            throw error(code, operation: "set busy timeout")
        }
    }

    /// Finalizes cached statements and closes the connection; idempotent.
    func close() {
        for statement in statements.values {
            sqlite3_finalize(statement)
        }
        statements.removeAll()
        if let handle {
            sqlite3_close_v2(handle)
        }
        handle = nil
    }

    /// Runs SQL text with no parameters (schema scripts, pragmas). Only for constant SQL from this module.
    func execute(_ sql: String, operation: String) throws(SessionStoreError) {
        let database = try open()
        var errorMessage: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(database, sql, nil, nil, &errorMessage)
        if code != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_free(errorMessage)
            throw .sqlite(operation: operation, code: code, message: message)
        }
    }

    /// Runs a statement that returns no rows; returns the number of rows it changed.
    @discardableResult
    func run(_ sql: String, _ bindings: [SQLiteValue], operation: String) throws(SessionStoreError) -> Int {
        let database = try open()
        let statement = try prepared(sql, bindings, operation: operation)
        defer { release(statement) }
        var code = sqlite3_step(statement)
        while code == SQLITE_ROW {
            code = sqlite3_step(statement)
        }
        guard code == SQLITE_DONE else {
            throw error(code, operation: operation)
        }
        return Int(sqlite3_changes(database))
    }

    /// Runs a query and maps each row.
    func query<Row>(
        _ sql: String,
        _ bindings: [SQLiteValue],
        table: String,
        operation: String,
        row map: (SQLiteRow) throws(SessionStoreError) -> Row
    ) throws(SessionStoreError) -> [Row] {
        let statement = try prepared(sql, bindings, operation: operation)
        defer { release(statement) }
        var rows: [Row] = []
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE {
                return rows
            }
            guard code == SQLITE_ROW else {
                throw error(code, operation: operation)
            }
            rows.append(try map(SQLiteRow(statement: statement, table: table)))
        }
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction: the write lock is taken up front, so a read followed
    /// by a write inside `body` cannot interleave with another connection's (or process's) write. Waits
    /// up to the busy timeout for the lock. Commits when `body` returns, rolls back when it throws.
    func immediateTransaction<T>(
        operation: String,
        _ body: () throws(SessionStoreError) -> T
    ) throws(SessionStoreError) -> T {
        try run("BEGIN IMMEDIATE", [], operation: operation)
        do throws(SessionStoreError) {
            let result = try body()
            try run("COMMIT", [], operation: operation)
            return result
        } catch {
            // A failed COMMIT may leave the transaction open; ROLLBACK fails harmlessly if it ended already.
            _ = try? run("ROLLBACK", [], operation: operation)
            throw error
        }
    }

    private func open() throws(SessionStoreError) -> OpaquePointer {
        guard let handle else {
            throw .closed
        }
        return handle
    }

    private func prepared(
        _ sql: String,
        _ bindings: [SQLiteValue],
        operation: String
    ) throws(SessionStoreError) -> OpaquePointer {
        let database = try open()
        let statement: OpaquePointer
        if let cached = statements[sql] {
            statement = cached
        } else {
            var created: OpaquePointer?
            let code = sqlite3_prepare_v3(database, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &created, nil)
            guard code == SQLITE_OK, let created else {
                throw error(code, operation: operation)
            }
            statements[sql] = created
            statement = created
        }
        for (offset, value) in bindings.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .integer(let number):
                code = sqlite3_bind_int64(statement, index, number)
            case .text(let text):
                code = sqlite3_bind_text(statement, index, text, -1, gateway_sqlite_transient())
            case .null:
                code = sqlite3_bind_null(statement, index)
            }
            guard code == SQLITE_OK else {
                release(statement)
                throw error(code, operation: operation)
            }
        }
        return statement
    }

    /// Makes a cached statement reusable and drops its bound copies of values (which may be secrets).
    private func release(_ statement: OpaquePointer) {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
    }

    private func error(_ code: Int32, operation: String) -> SessionStoreError {
        let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
        return .sqlite(operation: operation, code: code, message: message)
    }
}
