import NIOSSL
import PostgresNIO

extension PostgresSettings {
    /// The first connection's failure, said in terms of `sslmode` when TLS is why: a server that refused
    /// TLS, or a certificate that was not accepted. Never holds the password (only the host, the mode and
    /// the TLS library's reason).
    func connectFailure(_ error: any Error) -> SessionStoreError {
        let mapped = PostgresSessionStore.map(error, operation: "connect")
        guard let error = error as? PSQLError else { return mapped }
        let mode = sslModeIsDefault ? "sslmode=\(sslMode.rawValue) (the default)" : "sslmode=\(sslMode.rawValue)"
        if error.code == .sslUnsupported {
            return .unavailable(
                operation: "connect",
                reason: "the server at \(host):\(port) refused TLS, and \(mode) sends nothing in plain text; "
                    + "add ?sslmode=disable only for a server on the same host or a trusted private link")
        }
        if let underlying = error.underlying,
            underlying is NIOSSLError || underlying is NIOSSLExtraError || underlying is BoringSSLError
        {
            return .unavailable(
                operation: "connect",
                reason: "TLS with \(host):\(port) failed (\(mode) \(checks)): \(underlying)")
        }
        return mapped
    }

    /// What the mode checks of the server's certificate, for the message above.
    private var checks: String {
        let roots = caFile.map { "ca_file \($0)" } ?? "the system roots"
        switch sslMode.certificateVerification(hasCAFile: caFile != nil) {
        case .fullVerification?: return "checks the certificate against \(roots) and that it names \(host)"
        case .noHostnameVerification?: return "checks the certificate against \(roots)"
        default: return "checks no certificate"
        }
    }
}
