import CCurl
import Foundation
import Tokens

@testable import Engine
@testable import GatewayCore

/// The promises checked on whatever the fuzzer sends (each a `precondition`, so a broken one is a crash libFuzzer
/// keeps).
enum EngineHeadChecks {
    /// RFC 9110 section 5.1: a field name is a token; section 5.5: a value holds no CR, LF or NUL. What the parser
    /// hands over is passed on byte for byte, so this is the line the upstream and the client depend on.
    static func checkHead(_ head: RequestHead, in buffer: UnsafeRawPointer) {
        for field in head.fields {
            let name = field.name.bytes(in: buffer)
            precondition(!name.isEmpty && name.allSatisfy(isTokenByte), "field name \(Array(name)) is not a token")
            let value = field.value.bytes(in: buffer)
            precondition(!value.contains(where: isLineBreakOrNul), "field value \(Array(value)) holds CR, LF or NUL")
        }
        let target = head.target.bytes(in: buffer)
        precondition(!target.contains(where: { $0 <= 0x20 || $0 == 0x7F }), "request-target \(Array(target))")
    }

    /// The upstream's lines: no CR or LF inside one; at most one Host; the identity headers, in any spelling, only the
    /// gateway's own, each once, and only for a verified caller; a URL without spaces or control bytes.
    static func checkUpstream(_ lines: UpstreamRequestLines, claims: VerifiedClaims?, identity: IdentityConfig) {
        var expected: [String: String] = [:]
        if let claims {
            expected[fold(identity.openidHeader)] = claims.subject
            if let unionid = claims.unionid { expected[fold(identity.unionidHeader)] = unionid }
            if let appid = claims.appid { expected[fold(identity.appidHeader)] = appid }
            expected[fold(identity.appKindHeader)] = claims.appKind.rawValue
        }
        let identityNames = Set(
            [
                identity.openidHeader, identity.unionidHeader, identity.appidHeader,
                identity.appKindHeader,
            ].map(fold))
        precondition(lines.used <= lines.byteCapacity, "\(lines.used) bytes written into \(lines.byteCapacity)")
        var seen: Set<String> = []
        var hosts = 0
        var node = lines.list
        while let current = node {
            node = current.pointee.next
            let line = Array(UnsafeRawBufferPointer(start: current.pointee.data, count: strlen(current.pointee.data)))
            precondition(!line.contains(where: isLineBreakOrNul), "upstream line \(line) holds CR or LF")
            guard let end = line.firstIndex(where: { $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ";") }) else {
                preconditionFailure("upstream line \(line) has no colon")
            }
            let name = fold(String(decoding: line[..<end], as: UTF8.self))
            // RFC 9112 section 3.2: more than one Host is refused in any version; route matching took the first, and
            // an upstream reading another would serve another host's request.
            if name == "host" { hosts += 1 }
            precondition(hosts <= 1, "two Host lines upstream")
            guard identityNames.contains(name) else { continue }
            let value = String(decoding: line[(end + 1)...], as: UTF8.self).drop { $0 == " " }
            precondition(expected[name] == String(value), "identity header \(name): \(value) reached the upstream")
            precondition(seen.insert(name).inserted, "identity header \(name) twice")
        }
        precondition(seen.count == expected.count, "identity headers \(seen) for \(expected.keys)")
        let url = Array(UnsafeRawBufferPointer(start: lines.url, count: strlen(lines.url!)))
        precondition(!url.contains(where: { $0 <= 0x20 || $0 == 0x7F }), "upstream URL \(url)")
    }

    /// A head written to the client: lines that end in CRLF and hold no other CR or LF, each field `Name: value`.
    static func checkClientHead(_ out: [UInt8]) {
        let end = Array("\r\n\r\n".utf8)
        guard let headEnd = out.indices.first(where: { out[$0...].starts(with: end) }) else {
            preconditionFailure("an answer without the end of its head")
        }
        var lines: [[UInt8]] = []
        var start = 0
        var index = 0
        while index < headEnd {
            if out[index] == 0x0D && out[index + 1] == 0x0A {
                lines.append(Array(out[start..<index]))
                start = index + 2
                index += 2
                continue
            }
            precondition(out[index] != 0x0D && out[index] != 0x0A && out[index] != 0, "bare CR, LF or NUL in a head")
            index += 1
        }
        lines.append(Array(out[start..<headEnd]))
        precondition(lines[0].starts(with: Array("HTTP/1.".utf8)), "status line \(lines[0])")
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0 else {
                preconditionFailure("answer line \(line) is not a field")
            }
            precondition(line[..<colon].allSatisfy(isTokenByte), "answer field name \(line)")
        }
    }

    /// Lower case with `_` as `-`: how a server may read an identity header's name (`HeaderRewriter`'s fold).
    private static func fold(_ name: String) -> String {
        String(name.lowercased().map { $0 == "_" ? "-" : $0 })
    }

    private static func isLineBreakOrNul(_ byte: UInt8) -> Bool { byte == 0x0D || byte == 0x0A || byte == 0 }

    /// RFC 9110 section 5.6.2's tchar.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default: return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
