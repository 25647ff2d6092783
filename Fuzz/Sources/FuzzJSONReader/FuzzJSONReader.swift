@testable import JSON

/// The strict JSON reader of token headers, claims and control bodies: any bytes in, an object or nil out, never a
/// crash or a hang. A document it accepts must also be accepted through the public control-body entry point.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONReader(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
    let object = JSONParser.parseObject(bytes)
    let fields = JSONFields.parse(bytes)
    precondition((object == nil) == (fields == nil), "the two entry points disagree")
    return 0
}
