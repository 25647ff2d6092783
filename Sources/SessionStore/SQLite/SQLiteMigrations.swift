/// The schema as an ordered list of migrations. `PRAGMA user_version` holds how many have been applied;
/// opening a store applies the rest in one `BEGIN IMMEDIATE` transaction, so two processes starting at
/// once cannot both migrate. Append new migrations; never edit a published one.
enum SQLiteMigrations {
    static let all: [String] = [
        // 1: sessions, refresh tokens (hashes only), newest session_key per user, revoked access tokens.
        // Instants are Unix milliseconds (StoreTime).
        """
        CREATE TABLE wechat_users (
            appid TEXT NOT NULL,
            openid TEXT NOT NULL,
            unionid TEXT,
            session_key TEXT NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (appid, openid)
        ) WITHOUT ROWID;
        CREATE TABLE refresh_families (
            id TEXT PRIMARY KEY NOT NULL,
            openid TEXT NOT NULL,
            unionid TEXT,
            appid TEXT NOT NULL,
            session_key TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            revoked_at INTEGER
        );
        CREATE INDEX refresh_families_expires_at ON refresh_families (expires_at);
        CREATE TABLE refresh_tokens (
            hash TEXT PRIMARY KEY NOT NULL,
            family_id TEXT NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
            issued_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            spent_at INTEGER
        ) WITHOUT ROWID;
        CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
        CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);
        CREATE TABLE revoked_access_tokens (
            jti TEXT PRIMARY KEY NOT NULL,
            expires_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX revoked_access_tokens_expires_at ON revoked_access_tokens (expires_at);
        """,
        // 2: the revocation feed other processes sharing the file poll by `seq` (a high-water mark, never a
        // scan). Revocations made before it existed are found by the first full read of each follower.
        """
        CREATE TABLE revocation_feed (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            jti TEXT NOT NULL,
            expires_at INTEGER NOT NULL
        );
        CREATE INDEX revocation_feed_expires_at ON revocation_feed (expires_at);
        """,
        // 3: ending a user's sessions (admin `/sessions`) finds their families by openid, not by a full scan.
        "CREATE INDEX refresh_families_openid ON refresh_families (openid, appid);",
    ]

    /// Brings the database to the newest schema; returns how many migrations this call applied.
    static func migrate(_ connection: SQLiteConnection) throws(SessionStoreError) -> Int {
        try connection.immediateTransaction(operation: "migrate") { () throws(SessionStoreError) -> Int in
            // Read inside the write transaction: another process may have migrated since we opened.
            let found = try version(connection)
            if found > all.count {
                throw .schemaTooNew(found: found, supported: all.count)
            }
            for script in all[found...] {
                try connection.execute(script, operation: "migrate")
            }
            if found < all.count {
                // PRAGMA takes no bound parameters; the value is this module's own integer, not input.
                try connection.execute("PRAGMA user_version = \(all.count)", operation: "migrate")
            }
            return all.count - found
        }
    }

    static func version(_ connection: SQLiteConnection) throws(SessionStoreError) -> Int {
        let rows = try connection.query(
            "PRAGMA user_version", [], table: "pragma", operation: "read schema version"
        ) { (row: SQLiteRow) throws(SessionStoreError) -> Int64 in
            try row.integer(0)
        }
        return Int(rows.first ?? 0)
    }
}
