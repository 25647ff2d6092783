@testable import JSON

/// Unpadded base64url as JWS uses it: decoding never crashes, and the encoding is canonical both ways (what decodes
/// re-encodes to the same text; any bytes survive a round trip).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBase64URL(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
    let decoded = bytes.withUnsafeBytes { Base64URL.decode($0) }
    if let decoded {
        precondition(Array(Base64URL.encode(decoded).utf8) == bytes, "accepted text is not canonical")
    }
    let encoded = Base64URL.encode(bytes)
    precondition(Base64URL.decode(encoded) == bytes, "round trip lost bytes")
    return 0
}
