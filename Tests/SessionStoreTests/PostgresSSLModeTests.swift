import NIOSSL
import XCTest

@testable import SessionStore

final class PostgresSSLModeTests: XCTestCase {
    func testWithoutSSLModeTheLinkIsVerifyFull() throws {
        XCTAssertEqual(try PostgresSSLMode(parameter: nil), .verifyFull)
        guard case .postgres(let location) = try StoreURL(parsing: "postgres://u:p@db.internal/gw") else {
            return XCTFail("not postgres")
        }
        XCTAssertEqual(location.sslMode, .verifyFull)
        let settings = try PostgresSettings(location, options: SessionStoreOptions())
        XCTAssertEqual(settings.sslMode, .verifyFull)
        XCTAssertTrue(settings.sslModeIsDefault)
        XCTAssertEqual(try settings.tlsConfiguration()?.certificateVerification, .fullVerification)
    }

    func testEveryLibpqNameIsAccepted() throws {
        for name in ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] {
            XCTAssertEqual(try PostgresSSLMode(parameter: name).rawValue, name)
            guard case .postgres(let location) = try StoreURL(parsing: "postgres://h/db?sslmode=\(name)") else {
                return XCTFail("not postgres")
            }
            XCTAssertEqual(location.sslMode.rawValue, name)
        }
    }

    func testAnUnknownNameIsRefusedWithTheNames() {
        let names = "disable, allow, prefer, require, verify-ca, verify-full"
        for name in ["", "verify_full", "Require", "sometimes"] {
            XCTAssertThrowsError(try PostgresSSLMode(parameter: name)) { error in
                XCTAssertEqual(
                    error as? SessionStoreError, .invalidURL(reason: "sslmode '\(name)' is not one of \(names)"))
            }
        }
    }

    func testOnlyDisableAllowAndPreferMaySendAPasswordInPlainText() {
        let plain = PostgresSSLMode.allCases.filter(\.allowsPlainText)
        XCTAssertEqual(plain, [.disable, .allow, .prefer])
        XCTAssertEqual(PostgresSSLMode.disable.negotiation, .never)
        XCTAssertEqual(PostgresSSLMode.allow.negotiation, .ifOffered)
        XCTAssertEqual(PostgresSSLMode.prefer.negotiation, .ifOffered)
        for mode in [PostgresSSLMode.require, .verifyCA, .verifyFull] {
            XCTAssertEqual(mode.negotiation, .always, mode.rawValue)
        }
    }

    func testWhatEachModeChecksOfTheCertificate() {
        let expected: [(PostgresSSLMode, CertificateVerification?, CertificateVerification?)] = [
            (.disable, nil, nil),
            (.allow, CertificateVerification.none, CertificateVerification.none),
            (.prefer, CertificateVerification.none, CertificateVerification.none),
            // libpq: require with a root certificate file behaves as verify-ca.
            (.require, CertificateVerification.none, .noHostnameVerification),
            (.verifyCA, .noHostnameVerification, .noHostnameVerification),
            (.verifyFull, .fullVerification, .fullVerification),
        ]
        for (mode, withoutCA, withCA) in expected {
            XCTAssertEqual(mode.certificateVerification(hasCAFile: false), withoutCA, mode.rawValue)
            XCTAssertEqual(mode.certificateVerification(hasCAFile: true), withCA, mode.rawValue)
        }
    }

    func testACAFileBesideAModeThatChecksNothingIsAConflict() {
        for mode in [PostgresSSLMode.prefer, .allow, .disable] {
            XCTAssertNotNil(mode.conflict(withCAFile: "/ca.pem"), mode.rawValue)
            XCTAssertNil(mode.conflict(withCAFile: nil), mode.rawValue)
        }
        for mode in [PostgresSSLMode.require, .verifyCA, .verifyFull] {
            XCTAssertNil(mode.conflict(withCAFile: "/ca.pem"), mode.rawValue)
        }
        XCTAssertEqual(
            PostgresSSLMode.prefer.conflict(withCAFile: "/ca.pem"),
            "sslmode=prefer with ca_file: prefer falls back to plain text and checks no certificate, so ca_file "
                + "would not be used; use sslmode=verify-full (or verify-ca)")
    }

    func testSettingsRefuseAConflictToo() throws {
        guard case .postgres(let location) = try StoreURL(parsing: "postgres://h/db?sslmode=prefer") else {
            return XCTFail("not postgres")
        }
        XCTAssertThrowsError(try PostgresSettings(location, options: SessionStoreOptions(caFile: "/ca.pem"))) {
            error in
            guard case .invalidSetting(key: "url", _) = error as? SessionStoreError else { return XCTFail("\(error)") }
        }
    }

    func testDisableBuildsNoTLSConfiguration() throws {
        guard case .postgres(let location) = try StoreURL(parsing: "postgres://h/db?sslmode=disable") else {
            return XCTFail("not postgres")
        }
        let settings = try PostgresSettings(location, options: SessionStoreOptions())
        XCTAssertNil(try settings.tlsConfiguration())
        XCTAssertFalse(settings.sslModeIsDefault)
    }
}
