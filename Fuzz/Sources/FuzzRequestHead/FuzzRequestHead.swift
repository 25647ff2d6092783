import Foundation
import NIOHTTP1

@testable import GatewayCore

/// Request-head admission, the pure parts: the request target check, the Host check and the bearer-token extraction
/// the control endpoints use. Input: the target on the first line, then `name: value` lines (what NIO's parser would
/// hand over, minus its own checks). The upstream header list is the engine's, checked by FuzzEngineHead (identity
/// headers upstream only the gateway's): the String rewrite this target checked was deleted with the NIO path.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequestHead(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
    let text = String(decoding: bytes, as: UTF8.self)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    let target = lines.isEmpty ? "" : String(lines.removeFirst())
    var headers = HTTPHeaders()
    for line in lines {
        // NIO's parser hands over only token names (RFC 9110 section 5.1) and values without CR, LF or NUL;
        // HTTPHeaders itself traps on a non-ASCII name, so lines the parser would refuse are left out.
        guard let colon = line.firstIndex(of: ":") else { continue }
        let name = line[..<colon]
        let value = line[line.index(after: colon)...]
        guard !name.isEmpty, name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }),
            !value.utf8.contains(where: { $0 == 0 || $0 == 0x0D || $0 == 0x0A })
        else { continue }
        headers.add(name: String(name), value: String(value))
    }

    if let parsed = RequestTarget(target) {
        _ = parsed.strippingPrefix("/api/")
        _ = RouteTable.prefix("/api/", matches: parsed.path)
    }
    if let host = headers.first(name: "host") { _ = Array(host.utf8).withUnsafeBytes { HostField.isValid(bytes: $0) } }
    if let authorization = headers.first(name: "authorization") { _ = Authenticator.bearerToken(authorization[...]) }
    return 0
}
