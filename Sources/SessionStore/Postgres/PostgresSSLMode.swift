import NIOSSL

/// The `sslmode` of a `postgres://` store url: libpq's names, and what each lets through (PostgreSQL 15
/// documentation, section 34.19.3, "Protection Provided in Different Modes").
///
/// The default is not libpq's. libpq defaults to `prefer`, which falls back to plain text when the server,
/// or whoever answers on the path, declines TLS, and then hands over a cleartext password when asked
/// (`AuthenticationCleartextPassword`, section 55.2.2). Without `sslmode` the gateway uses `verify-full`:
/// TLS, the chain checked and the host name matched, or no connection. Plain text must be asked for by name
/// (`sslmode=disable`).
public enum PostgresSSLMode: String, Sendable, Equatable, CaseIterable {
    /// Plain TCP only.
    case disable
    /// libpq tries plain text first and TLS second; postgres-nio cannot retry that way, so the gateway
    /// tries TLS first, as `prefer` does: never less protection than libpq's `allow`.
    case allow
    /// TLS when the server offers it, without certificate checks; plain text otherwise.
    case prefer
    /// TLS or no connection. The certificate is not checked, unless `ca_file` is set: then the chain is,
    /// as libpq does when it finds a root certificate file.
    case require
    /// TLS, with the chain checked against `ca_file` (or the system roots), not the host name.
    case verifyCA = "verify-ca"
    /// TLS, with the chain checked and the certificate naming the url's host.
    case verifyFull = "verify-full"

    /// The mode of a url without `sslmode`.
    public static let `default` = PostgresSSLMode.verifyFull

    /// How the link is opened, in postgres-nio's terms.
    enum Negotiation: Equatable {
        /// No SSLRequest: the startup message, and any password, go in plain text.
        case never
        /// SSLRequest; plain text if the server answers `N`.
        case ifOffered
        /// SSLRequest; the connection ends if the server answers `N`.
        case always
    }

    /// Reads the `sslmode` parameter; `nil` gives the default. An unknown name throws, listing the names.
    public init(parameter: String?) throws(SessionStoreError) {
        guard let parameter else {
            self = .default
            return
        }
        guard let mode = PostgresSSLMode(rawValue: parameter) else {
            let names = Self.allCases.map(\.rawValue).joined(separator: ", ")
            throw .invalidURL(reason: "sslmode '\(parameter)' is not one of \(names)")
        }
        self = mode
    }

    /// Whether a password may cross the link in plain text.
    public var allowsPlainText: Bool {
        switch self {
        case .disable, .allow, .prefer: return true
        case .require, .verifyCA, .verifyFull: return false
        }
    }

    /// Why this mode cannot go with `[store] ca_file`, or `nil`. `prefer` and `allow` check no certificate
    /// and fall back to plain text, so a CA file beside them would promise a check that never happens.
    public func conflict(withCAFile caFile: String?) -> String? {
        guard caFile != nil else { return nil }
        switch self {
        case .allow, .prefer:
            return "sslmode=\(rawValue) with ca_file: \(rawValue) falls back to plain text and checks no "
                + "certificate, so ca_file would not be used; use sslmode=verify-full (or verify-ca)"
        case .disable:
            return "sslmode=disable with ca_file: the link is plain text, so ca_file would not be used"
        case .require, .verifyCA, .verifyFull:
            return nil
        }
    }

    var negotiation: Negotiation {
        switch self {
        case .disable: return .never
        case .allow, .prefer: return .ifOffered
        case .require, .verifyCA, .verifyFull: return .always
        }
    }

    /// What is checked of the server's certificate; `nil` for plain text.
    func certificateVerification(hasCAFile: Bool) -> CertificateVerification? {
        switch self {
        case .disable: return nil
        case .allow, .prefer: return CertificateVerification.none
        case .require: return hasCAFile ? .noHostnameVerification : CertificateVerification.none
        case .verifyCA: return .noHostnameVerification
        case .verifyFull: return .fullVerification
        }
    }
}
