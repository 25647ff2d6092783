import XCTest

@testable import GatewayCore

/// The one-pass name rules (`KnownFieldName`), the byte checks of fields (`isValidFieldName`/`Value`) and the names
/// of the identity headers kept as bytes, each against the code it replaced (kept here as the reference): no answer
/// changed.
final class HeaderRewriterFastPathTests: XCTestCase {
    private static let known = [
        "te", "host", "date", "expect", "trailer", "upgrade", "forwarded", "connection", "keep-alive", "x-request-id",
        "authorization", "content-length", "http2-settings", "x-forwarded-for", "x-gateway-error", "x-forwarded-host",
        "proxy-connection", "transfer-encoding", "x-forwarded-proto", "proxy-authenticate", "proxy-authorization",
        "x-openid", "x-unionid", "x-appid", "x-app-kind", "server", "content-type", "vary", "",
    ]

    /// Each known name in lower, upper and mixed case and with `_` for `-`, and near misses: each byte changed, one
    /// byte added and one removed.
    private static var names: [[UInt8]] {
        var names: [[UInt8]] = []
        for name in known {
            let lower = Array(name.utf8)
            names += [lower, Array(name.uppercased().utf8), Array(name.capitalized.utf8)]
            names.append(lower.map { $0 == UInt8(ascii: "-") ? UInt8(ascii: "_") : $0 })
            names.append(lower + [UInt8(ascii: "s")])
            if !lower.isEmpty { names.append(Array(lower.dropLast())) }
            for index in lower.indices {
                for replacement: UInt8 in [lower[index] ^ 0x20, lower[index] &+ 1, 0, 0xC3] {
                    var near = lower
                    near[index] = replacement
                    names.append(near)
                }
            }
        }
        return names
    }

    func testRequestAndResponseRulesMatchTheTwoPassRules() {
        let rewriter = HeaderRewriter(identity: IdentityConfig(), trustedProxies: [])
        for name in Self.names {
            name.withUnsafeBytes { bytes in
                let label = String(decoding: name, as: UTF8.self)
                XCTAssertEqual(rewriter.requestFieldRule(name: bytes), referenceRequestRule(rewriter, bytes), label)
                XCTAssertEqual(HeaderRewriter.responseFieldRule(name: bytes), referenceResponseRule(bytes), label)
                XCTAssertEqual(HeaderRewriter.classify(bytes: bytes), referenceClassify(bytes), label)
            }
        }
    }

    func testIdentityNamesAsBytesMatchTheStringFold() {
        var identity = IdentityConfig()
        identity.openidHeader = "X-User_Open"
        identity.unionidHeader = "x-user-open"
        identity.appidHeader = "X-A"
        identity.appKindHeader = "Z"
        let rewriter = HeaderRewriter(identity: identity, trustedProxies: [])
        let canonical = Set(["X-User_Open", "x-user-open", "X-A", "Z"].map(HeaderName.canonical))
        XCTAssertEqual(rewriter.identityNames.count, 3, "folded duplicates are kept once")
        let spellings = ["x_user_OPEN", "X-USER-OPEN", "x-a", "X_A", "z", "Z", "x-b", "zz"].map { Array($0.utf8) }
        for name in Self.names + spellings {
            name.withUnsafeBytes { bytes in
                let expected = canonical.contains(HeaderName.canonical(String(decoding: name, as: UTF8.self)))
                XCTAssertEqual(rewriter.isIdentityHeader(bytes: bytes), expected, String(decoding: name, as: UTF8.self))
            }
        }
    }

    func testIdentityNamesOfAnyLengthAreFound() {
        var identity = IdentityConfig()
        identity.openidHeader = "X-" + String(repeating: "o", count: 61)
        identity.unionidHeader = "X-" + String(repeating: "u", count: 62)
        identity.appidHeader = "X-" + String(repeating: "a", count: 70)
        identity.appKindHeader = "K"
        let rewriter = HeaderRewriter(identity: identity, trustedProxies: [])
        for name in [identity.openidHeader, identity.unionidHeader, identity.appidHeader, "k", "x_" + "A" * 70] {
            XCTAssertTrue(Array(name.utf8).withUnsafeBytes { rewriter.isIdentityHeader(bytes: $0) }, name)
        }
        for name in ["X-" + "o" * 62, "X-" + "u" * 61, "X-" + "a" * 69, "X-" + "a" * 71, "", "kk", "X-" + "b" * 70] {
            XCTAssertFalse(Array(name.utf8).withUnsafeBytes { rewriter.isIdentityHeader(bytes: $0) }, name)
        }
    }

    func testEveryByteThroughTheFieldTableAgreesWithTheRules() {
        for value in 0...255 {
            let byte = UInt8(value)
            [byte].withUnsafeBytes { bytes in
                XCTAssertEqual(HeaderRewriter.isValidFieldName(bytes), HeaderName.isTokenByte(byte), "name \(byte)")
                let isValue = byte >= 0x20 ? byte != 0x7F : byte == 0x09
                XCTAssertEqual(HeaderRewriter.isValidFieldValue(bytes), isValue, "value \(byte)")
                // A bad byte anywhere in a long field is found, not only at the start.
                let long = [UInt8](repeating: UInt8(ascii: "a"), count: 300) + [byte] + [UInt8(ascii: "b")]
                long.withUnsafeBytes { long in
                    XCTAssertEqual(HeaderRewriter.isValidFieldName(long), HeaderName.isTokenByte(byte), "\(byte)")
                    XCTAssertEqual(HeaderRewriter.isValidFieldValue(long), isValue, "long value \(byte)")
                }
            }
        }
        [UInt8]().withUnsafeBytes { empty in
            XCTAssertFalse(HeaderRewriter.isValidFieldName(empty))
            XCTAssertTrue(HeaderRewriter.isValidFieldValue(empty))
        }
    }

    // The rules as they were written before `KnownFieldName`: classify by length, then compare again.

    private func referenceRequestRule(_ rewriter: HeaderRewriter, _ name: UnsafeRawBufferPointer) -> RequestFieldRule {
        if rewriter.isIdentityHeader(bytes: name) { return .drop }
        switch referenceClassify(name) {
        case .hopByHop: return HeaderRewriter.equals(name, "connection") ? .connection : .drop
        case .authorization: return .authorization
        case .host: return .host
        case .forwardedFor, .forwardedProto, .forwardedHost: return .drop
        case .gatewayOwned: return HeaderRewriter.equals(name, "x-request-id") ? .requestID : .drop
        case .gatewayMark, .other: return .forward
        }
    }

    private func referenceResponseRule(_ name: UnsafeRawBufferPointer) -> ResponseFieldRule {
        typealias Rewriter = HeaderRewriter
        switch referenceClassify(name) {
        case .hopByHop:
            if Rewriter.equals(name, "transfer-encoding") { return .transferEncoding }
            return Rewriter.equals(name, "connection") ? .connection : .drop
        case .gatewayMark: return .drop
        case .gatewayOwned:
            if Rewriter.equals(name, "content-length") { return .contentLength }
            return Rewriter.equals(name, "x-request-id") ? .requestID : .pass
        default:
            return Rewriter.equals(name, "date") ? .date : .pass
        }
    }

    private func referenceClassify(_ name: UnsafeRawBufferPointer) -> HeaderRewriter.RequestHeaderKind {
        let text = String(decoding: name, as: UTF8.self).lowercased()
        guard text.utf8.elementsEqual(name.map(ASCIICase.lower)) else { return .other }
        switch text {
        case "te", "trailer", "upgrade", "connection", "keep-alive", "http2-settings", "proxy-connection",
            "transfer-encoding", "proxy-authenticate", "proxy-authorization":
            return .hopByHop
        case "host": return .host
        case "expect", "forwarded", "x-request-id", "content-length": return .gatewayOwned
        case "authorization": return .authorization
        case "x-forwarded-for": return .forwardedFor
        case "x-forwarded-host": return .forwardedHost
        case "x-forwarded-proto": return .forwardedProto
        case "x-gateway-error": return .gatewayMark
        default: return .other
        }
    }
}

extension String {
    fileprivate static func * (text: String, count: Int) -> String { String(repeating: text, count: count) }
}
