import Logging
import PostgresNIO

/// The PostgreSQL schema as an ordered list of migrations, each a list of statements (the extended query
/// protocol runs one statement at a time). `gateway_schema.version` holds how many have been applied.
///
/// Every instance migrates at start-up inside one transaction that first takes a transaction-level
/// advisory lock, so of several instances starting at once one migrates and the others wait for it, then
/// find nothing left to do. DDL is transactional in PostgreSQL: a failed migration leaves no trace.
/// Append new migrations; never edit a published one. Instants are Unix milliseconds, as in SQLite.
enum PostgresMigrations {
    static let all: [[String]] = [
        // 1: sessions, refresh tokens (hashes only), newest session_key per user, revoked access tokens.
        [
            """
            CREATE TABLE wechat_users (
                appid TEXT NOT NULL,
                openid TEXT NOT NULL,
                unionid TEXT,
                session_key TEXT NOT NULL,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (appid, openid)
            )
            """,
            """
            CREATE TABLE refresh_families (
                id TEXT PRIMARY KEY,
                openid TEXT NOT NULL,
                unionid TEXT,
                appid TEXT NOT NULL,
                session_key TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                revoked_at BIGINT
            )
            """,
            "CREATE INDEX refresh_families_expires_at ON refresh_families (expires_at)",
            """
            CREATE TABLE refresh_tokens (
                hash TEXT PRIMARY KEY,
                family_id TEXT NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
                issued_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                spent_at BIGINT
            )
            """,
            "CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id)",
            "CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at)",
            // One row per revocation: `seq` orders them for followers; a jti revoked twice has two rows and
            // the later expiry wins when they are read.
            """
            CREATE TABLE revoked_access_tokens (
                seq BIGSERIAL PRIMARY KEY,
                jti TEXT NOT NULL,
                expires_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX revoked_access_tokens_expires_at ON revoked_access_tokens (expires_at)",
        ],
        // 2: ending a user's sessions (admin `/sessions`) finds their families by openid, not by a full scan.
        ["CREATE INDEX refresh_families_openid ON refresh_families (openid, appid)"],
    ]

    /// Keys of PostgreSQL advisory locks this store takes (one 64-bit space per database).
    enum LockKey {
        /// Held while migrating.
        static let migrate: Int64 = 0x7765_6368_6174_0001
        /// Held by the instance that purges expired rows; the others skip their turn.
        static let purge: Int64 = 0x7765_6368_6174_0002
        /// Held from taking a revocation's `seq` until its commit, so rows become visible in `seq` order.
        static let feed: Int64 = 0x7765_6368_6174_0003
    }

    /// Brings the database to the newest schema; returns how many migrations this call applied.
    static func migrate(_ client: PostgresClient, logger: Logger) async throws -> Int {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(LockKey.migrate))", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS gateway_schema (version INTEGER NOT NULL)", logger: logger)
            var found = 0
            for try await version in try await connection.query(
                "SELECT version FROM gateway_schema", logger: logger
            ).decode(Int.self) {
                found = max(found, version)
            }
            if found > all.count {
                throw SessionStoreError.schemaTooNew(found: found, supported: all.count)
            }
            for migration in all[found...] {
                for statement in migration {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
            }
            if found < all.count {
                try await connection.query("DELETE FROM gateway_schema", logger: logger)
                try await connection.query("INSERT INTO gateway_schema (version) VALUES (\(all.count))", logger: logger)
            }
            return all.count - found
        }
    }
}
