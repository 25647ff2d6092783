import Foundation
import Logging
import PostgresNIO
import XCTest

@testable import SessionStore

/// The PostgreSQL server the store tests run against: `make test` starts one (Tests/integration/postgres_server.py)
/// and names a database in GATEWAY_TEST_POSTGRES_URL. Without it the PostgreSQL tests are skipped, which only
/// happens outside `make test`.
enum PostgresTestServer {
    static func baseURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["GATEWAY_TEST_POSTGRES_URL"] else {
            throw XCTSkip("GATEWAY_TEST_POSTGRES_URL is not set: run through `make test`")
        }
        return url
    }

    static func location(_ url: String) throws -> StoreURL.PostgresLocation {
        guard case .postgres(let location) = try StoreURL(parsing: url) else {
            throw XCTSkip("GATEWAY_TEST_POSTGRES_URL is not a postgres url")
        }
        return location
    }

    /// A new, empty database on the same server; returns its URL.
    static func freshDatabase(prefix: String = "t_") async throws -> String {
        let base = try baseURL()
        let name = prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        try await withConnection(base) { connection in
            try await connection.query(
                PostgresQuery(unsafeSQL: "CREATE DATABASE \"\(name)\""), logger: Logger(label: "test"))
        }
        let end = base.firstIndex(of: "?") ?? base.endIndex
        let slash = base[..<end].lastIndex(of: "/")!
        return String(base[...slash]) + name + String(base[end...])
    }

    /// Runs `body` on a connection of its own to `url`, outside any store (another instance, an operator).
    static func withConnection(_ url: String, _ body: (PostgresConnection) async throws -> Void) async throws {
        let settings = try PostgresSettings(try location(url), options: SessionStoreOptions())
        let connection = try await PostgresConnection.connect(
            configuration: try settings.connectionConfiguration(), id: 1, logger: Logger(label: "test"))
        do {
            try await body(connection)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }
}
