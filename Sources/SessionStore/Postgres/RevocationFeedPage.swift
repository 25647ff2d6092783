import Foundation
import Logging
import PostgresNIO

/// One read of the PostgreSQL revocation feed: the rows after a high-water mark, in `seq` order, and the mark
/// to read from next time.
///
/// A sequence alone does not make a high-water mark sound: two writers take 10 and 11, 11 commits first, a
/// reader moves its mark past 10 for good. So `PostgresSessionStore.recordRevokedAccessToken` takes `seq` under a
/// transaction-level advisory lock, released only once its commit is visible: rows become visible in `seq` order
/// and a mark never passes a row that commits later. A gap (a rolled-back insert, a purged row) is harmless.
struct RevocationFeedPage: Sendable {
    var revocations: [RevokedAccessToken]
    /// The highest `seq` this read has accounted for.
    var mark: Int64

    /// Most rows one read returns; a full page is followed at once by the next.
    static let limit = 10_000

    /// Whether another page may be waiting.
    var isFull: Bool { revocations.count >= Self.limit }

    /// The feed's current end: the mark a new follower starts from, once it has loaded what is still in force.
    static func end(_ connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        try await connection.query("SELECT COALESCE(MAX(seq), 0) FROM revoked_access_tokens", logger: logger)
            .collect().first?.decode(Int64.self) ?? 0
    }

    /// The rows recorded after `mark` (up to `end` when given), expired ones included unless `unexpiredAt` is
    /// given: an instance back from an outage longer than the access-token lifetime must still hear of the
    /// sessions ended meanwhile, to close their tunnels. At most `limit` rows, so that no statement runs into
    /// `statement_timeout` however many there are (a first load reads about 190 k at 100 logouts/s).
    static func after(
        _ mark: Int64, upTo end: Int64 = .max, unexpiredAt now: Date? = nil, _ connection: PostgresConnection,
        logger: Logger
    ) async throws -> RevocationFeedPage {
        let notBefore = now.map(StoreTime.milliseconds) ?? .min
        let rows = try await connection.query(
            """
            SELECT seq, jti, expires_at FROM revoked_access_tokens
            WHERE seq > \(mark) AND seq <= \(end) AND expires_at > \(notBefore) ORDER BY seq LIMIT \(Int64(limit))
            """,
            logger: logger
        ).collect()
        var page = RevocationFeedPage(revocations: [], mark: mark)
        for row in rows {
            let (seq, jti, expires) = try row.decode((Int64, String, Int64).self)
            page.revocations.append(RevokedAccessToken(stored: (jti, expires)))
            page.mark = max(page.mark, seq)
        }
        return page
    }
}
