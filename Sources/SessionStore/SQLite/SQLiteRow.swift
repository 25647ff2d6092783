import CSQLite
import Foundation

/// The current row of a stepping statement; valid only inside the `query` callback that received it.
struct SQLiteRow {
    let statement: OpaquePointer
    let table: String

    func text(_ column: Int32) throws(SessionStoreError) -> String {
        guard let value = optionalText(column) else {
            throw .corruptRow(table: table)
        }
        return value
    }

    func optionalText(_ column: Int32) -> String? {
        guard sqlite3_column_type(statement, column) != SQLITE_NULL,
            let pointer = sqlite3_column_text(statement, column)
        else {
            return nil
        }
        return String(cString: pointer)
    }

    func integer(_ column: Int32) throws(SessionStoreError) -> Int64 {
        guard sqlite3_column_type(statement, column) == SQLITE_INTEGER else {
            throw .corruptRow(table: table)
        }
        return sqlite3_column_int64(statement, column)
    }

    func optionalInteger(_ column: Int32) throws(SessionStoreError) -> Int64? {
        if sqlite3_column_type(statement, column) == SQLITE_NULL {
            return nil
        }
        return try integer(column)
    }
}
