import NIOConcurrencyHelpers
import NIOSSL

/// The public listener's TLS context, read once per new connection so that a SIGHUP reload can swap in
/// renewed certificate files without rebinding: connections already open keep the context they started
/// with, new ones get the new certificate.
public final class TLSContextBox: Sendable {
    private let box: NIOLockedValueBox<NIOSSLContext>

    public init(_ context: NIOSSLContext) {
        self.box = NIOLockedValueBox(context)
    }

    public var current: NIOSSLContext { box.withLockedValue { $0 } }

    public func replace(with context: NIOSSLContext) {
        box.withLockedValue { $0 = context }
    }

    /// TLS 1.2 or later (RFC 8996 retires 1.0 and 1.1), HTTP/1.1 offered through ALPN (RFC 7301).
    public static func makeContext(_ files: ServerConfig.TLSFiles) throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMFile(files.certificate).map { NIOSSLCertificateSource.certificate($0) }
        guard !chain.isEmpty else { throw TLSFilesError("\(files.certificate) holds no PEM certificate") }
        let key = try NIOSSLPrivateKey(file: files.privateKey, format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        tls.applicationProtocols = ["http/1.1"]
        return try NIOSSLContext(configuration: tls)
    }

    /// What `gateway check`, startup and reload report for unusable certificate files, with key paths.
    public static func issues(for files: ServerConfig.TLSFiles) -> [ConfigIssue] {
        do {
            _ = try makeContext(files)
            return []
        } catch {
            return [
                ConfigIssue(
                    path: "server.tls_certificate",
                    message: "cannot serve TLS with \"\(files.certificate)\" and \"\(files.privateKey)\": \(error)")
            ]
        }
    }

    struct TLSFilesError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
