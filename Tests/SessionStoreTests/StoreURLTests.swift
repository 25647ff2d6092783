import SessionStore
import XCTest

final class StoreURLTests: XCTestCase {
    func testSQLiteRelativePath() throws {
        XCTAssertEqual(try StoreURL(parsing: "sqlite://gateway.db"), .sqlite(path: "gateway.db"))
        XCTAssertEqual(try StoreURL(parsing: "sqlite://data/gateway.db"), .sqlite(path: "data/gateway.db"))
    }

    func testSQLiteAbsolutePath() throws {
        let url = try StoreURL(parsing: "sqlite:///var/lib/gw/gateway.db")
        XCTAssertEqual(url, .sqlite(path: "/var/lib/gw/gateway.db"))
    }

    func testSQLiteInMemory() throws {
        XCTAssertEqual(try StoreURL(parsing: "sqlite::memory:"), .sqliteInMemory)
    }

    func testSQLiteWithoutPathIsRejected() {
        for text in ["sqlite://", "sqlite:///", "sqlite://dir/", "sqlite://x.db?mode=ro"] {
            XCTAssertThrowsError(try StoreURL(parsing: text), text) { error in
                guard case .invalidURL = error as? SessionStoreError else {
                    return XCTFail("\(text): \(error)")
                }
            }
        }
    }

    func testPostgresIsParsed() throws {
        let url = try StoreURL(parsing: "postgres://gw:p%40ss@db.internal:6432/gateway?sslmode=require")
        XCTAssertEqual(
            url,
            .postgres(
                .init(
                    user: "gw", password: "p@ss", host: "db.internal", port: 6432, database: "gateway",
                    parameters: ["sslmode": "require"]
                )
            )
        )
        XCTAssertFalse(url.description.contains("p@ss"))
        XCTAssertFalse(url.description.contains("p%40ss"))
    }

    func testPostgresDefaultsPortAndAcceptsPostgresqlScheme() throws {
        guard case .postgres(let location) = try StoreURL(parsing: "postgresql://db/gw") else {
            return XCTFail("not postgres")
        }
        XCTAssertEqual(location.port, 5432)
        XCTAssertNil(location.user)
        XCTAssertEqual(location.database, "gw")
    }

    func testPostgresWithoutHostOrDatabaseIsRejected() {
        for text in ["postgres:///gw", "postgres://host", "postgres://host/", "postgres://host/a/b"] {
            XCTAssertThrowsError(try StoreURL(parsing: text), text) { error in
                guard case .invalidURL = error as? SessionStoreError else {
                    return XCTFail("\(text): \(error)")
                }
            }
        }
    }

    func testOtherSchemesAreRejected() {
        XCTAssertThrowsError(try StoreURL(parsing: "mysql://h/db")) { error in
            XCTAssertEqual(error as? SessionStoreError, .unsupportedScheme("mysql"))
        }
        XCTAssertThrowsError(try StoreURL(parsing: "gateway.db")) { error in
            guard case .invalidURL = error as? SessionStoreError else {
                return XCTFail("\(error)")
            }
        }
    }

    func testTextBeforeTheSeparatorThatCannotBeASchemeIsNotRepeated() {
        // In a mistyped URL the text before `://` may be the credentials; the error must not repeat it.
        for text in ["gw:secret@db://x", "postgres:gw:secret@db://x", "9x://h/db"] {
            XCTAssertThrowsError(try StoreURL(parsing: text), text) { error in
                XCTAssertFalse("\(error)".contains("secret"), "\(text): \(error)")
                guard case .invalidURL = error as? SessionStoreError else { return XCTFail("\(text): \(error)") }
            }
        }
    }

    func testUnreachablePostgresIsUnavailableWithoutThePassword() async {
        do {
            _ = try await makeSessionStore(
                url: "postgres://u:secret-pw@127.0.0.1:1/db?sslmode=disable",
                options: SessionStoreOptions(timeout: .seconds(2)))
            XCTFail("connected to nothing")
        } catch {
            guard case .unavailable = error else { return XCTFail("\(error)") }
            XCTAssertFalse("\(error)".contains("secret-pw"))
        }
    }

    func testSSLModeIsOneOfLibpqsNames() throws {
        for mode in ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] {
            guard case .postgres(let location) = try StoreURL(parsing: "postgres://h/db?sslmode=\(mode)") else {
                return XCTFail("not postgres")
            }
            XCTAssertEqual(location.parameters["sslmode"], mode)
        }
        XCTAssertThrowsError(try StoreURL(parsing: "postgres://h/db?sslmode=allow-anything"))
        XCTAssertThrowsError(try StoreURL(parsing: "postgres://h/db?sslrootcert=x")) { error in
            XCTAssertEqual(
                error as? SessionStoreError,
                .invalidURL(reason: "unknown postgres url parameter 'sslrootcert' (only sslmode is read)"))
        }
    }
}
