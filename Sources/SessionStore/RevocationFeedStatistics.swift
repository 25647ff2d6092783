/// What following the revocation feed has cost this store so far: how many reads of new rows it made and how
/// many rows they returned. Notifications only wake the reader, so a flood of them (anyone who can connect may
/// `NOTIFY`) shows here as a few reads, not one each; the reconcile shows as reads that return no rows.
public struct RevocationFeedStatistics: Sendable, Equatable {
    /// Reads of the feed (the first full load included).
    public var reads = 0
    /// Rows those reads returned.
    public var rowsRead = 0

    public init(reads: Int = 0, rowsRead: Int = 0) {
        self.reads = reads
        self.rowsRead = rowsRead
    }
}
