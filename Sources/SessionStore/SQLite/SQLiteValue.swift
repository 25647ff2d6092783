/// A value bound to a statement parameter. Every value reaches SQLite through `sqlite3_bind_*`, never by
/// being spliced into SQL text.
enum SQLiteValue {
    case integer(Int64)
    case text(String)
    case null
}
