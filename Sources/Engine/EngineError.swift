#if canImport(Glibc)
import Glibc
#endif

/// Why the engine could not start (issue 23's slice): a system call that failed, or libcurl refusing its setup.
public enum EngineError: Error, CustomStringConvertible {
    case system(String, Int32)
    case curl(String)
    case configuration(String)
    /// OpenSSL refused the listener's certificate, key or settings (`EngineTLSContext`).
    case tls(String)

    public var description: String {
        switch self {
        case .system(let call, let code): return "\(call) failed: \(String(cString: strerror(code)))"
        case .curl(let message): return "libcurl: \(message)"
        case .configuration(let message): return message
        case .tls(let message): return "TLS: \(message)"
        }
    }
}
