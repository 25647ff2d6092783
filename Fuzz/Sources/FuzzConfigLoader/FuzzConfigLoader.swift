@testable import GatewayCore

/// The config loader, text in: a configuration or a list of issues out, never a crash. `${VAR}` references resolve
/// against a small fixed environment. Files it names are only checked for readability, never written.
private let loader = ConfigLoader(environment: ["SECRET": "0123456789abcdef0123456789abcdef", "PORT": "9001"])

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfigLoader(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
    switch loader.parse(text: String(decoding: bytes, as: UTF8.self)) {
    case .success(let config): _ = DevelopmentSecrets.problems(in: config)
    case .failure(let error): precondition(!error.issues.isEmpty, "a failure without an issue")
    }
    return 0
}
