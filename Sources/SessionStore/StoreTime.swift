import Foundation

/// Instants are stored as integer Unix milliseconds: exact comparisons in SQL, readable with
/// `datetime(x / 1000, 'unixepoch')`, and the same in the PostgreSQL store's `bigint` columns.
enum StoreTime {
    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    static func date(_ milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}
